"""Accumulators the engine fills as it runs (no SimPy here, so metrics can read them).

Counts and sums are kept per interval (the interval a contact *arrived* in, or, for
agent time, the interval the time fell in), so a long run never needs every contact
in memory. Contact and agent-state records are kept only when asked for.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

# Agent states; OFF time is not accounted. AWAY is random shrinkage, BREAK a planned break.
# QA_REVIEW and COACHING: an agent works a pool task (bposim.engine.backlog).
OFF, IDLE, TALK, WRAP, HOLD, AWAY, BREAK, PREVIEW, DIALING, OUT_TALK, OUT_WRAP, QA_REVIEW, COACHING = range(13)
STATE_NAMES = ("off", "idle", "handling", "wrap", "consult_hold", "unavailable", "break",
               "preview", "dialing", "outbound_talk", "outbound_wrap", "qa_review", "coaching")
BUSY_STATES = (TALK, WRAP, HOLD, PREVIEW, OUT_TALK, OUT_WRAP, QA_REVIEW, COACHING)  # counted in occupancy
TASK_STATES = (QA_REVIEW, COACHING)  # their time columns exist only for pools with such work
OUTBOUND_STATES = (PREVIEW, DIALING, OUT_TALK, OUT_WRAP)

# Contact origins.
EXTERNAL, TRANSFER, CONSULT, REPEAT, RETRIAL = range(5)
ORIGIN_NAMES = ("arrival", "transfer", "consult", "repeat", "retrial")

CONTACT_COLUMNS = (
    "contact_id", "parent_id", "queue", "origin", "arrival", "answer", "end", "wait",
    "outcome", "agent", "pool", "handle_time", "wrap_time",
)
AGENT_STATE_COLUMNS = ("agent", "pool", "state", "start", "end")


def _zeros(n: int) -> list:
    return [0] * n


def _fzeros(n: int) -> list:
    return [0.0] * n


@dataclass
class QueueStats:
    """Per-interval counts for one queue, indexed by arrival interval."""

    n: int
    offered: list = None
    answered: list = None
    abandoned: list = None
    short_abandoned: list = None
    answered_within: list = None
    unanswered_at_end: list = None
    escalated: list = None
    repeats: list = None  # offered contacts that are repeats of unresolved ones
    unresolved: list = None  # handled contacts not resolved (they come back as repeats)
    wait_answered: list = None  # sum of waits of answered contacts
    wait_all: list = None  # sum of waits of every contact (abandon time, or end of run)
    waits: list = None  # per interval: array of answered waits (for percentiles)
    queue_area: float = 0.0  # integral of the number waiting over time (Little's law)
    backlog: object = None  # deferrable queues: BacklogQueueStats (bposim.engine.backlog_stats)
    # retrials after abandonment and callbacks (bposim.engine.retrials / .callbacks)
    retrials: list = None  # offered contacts that are retrials of abandoned ones
    callbacks_offered: list = None
    callbacks_accepted: list = None
    callbacks_completed: list = None  # connected to an agent
    callbacks_failed: list = None  # every attempt failed: the contact ends unanswered
    callbacks_pending: list = None  # accepted, neither completed nor failed at the end
    time_to_callback: list = None  # sum over completed callbacks of connection - arrival

    def __post_init__(self) -> None:
        n = self.n
        for name in ("offered", "answered", "abandoned", "short_abandoned", "answered_within",
                     "unanswered_at_end", "escalated", "repeats", "unresolved", "retrials",
                     "callbacks_offered", "callbacks_accepted", "callbacks_completed",
                     "callbacks_failed", "callbacks_pending"):
            setattr(self, name, _zeros(n))
        self.time_to_callback = _fzeros(n)
        self.wait_answered = _fzeros(n)
        self.wait_all = _fzeros(n)
        self.waits = [array("d") for _ in range(n)]


@dataclass
class PoolStats:
    """Per-interval agent time per state (seconds) and work counts for one pool."""

    n: int
    time: list = None  # time[state][interval]
    paid: list = None  # scheduled on-duty seconds of agents present, per interval
    absent: list = None  # scheduled seconds lost to absenteeism, per interval
    handled: list = None  # contacts answered, by interval of answer
    escalations_taken: list = None  # answered contacts that came by transfer or consult
    overrun: float = 0.0  # seconds worked past the end of on-duty spans
    breaks_planned: int = 0
    breaks_taken: int = 0
    max_on_break_share: float = 0.0  # highest share of on-duty agents on break at once
    leavers: int = 0
    hires: int = 0
    tasks: object = None  # pools with QA or coaching work: TaskStats (bposim.engine.backlog_stats)

    def __post_init__(self) -> None:
        self.time = [_fzeros(self.n) for _ in STATE_NAMES]
        self.paid = _fzeros(self.n)
        self.absent = _fzeros(self.n)
        self.handled = _zeros(self.n)
        self.escalations_taken = _zeros(self.n)


CAMPAIGN_COUNTS = (
    "dials", "no_answer", "busy", "machine", "machine_detected", "machine_to_agent",
    "machine_unconnected", "live",
    "connected", "abandoned", "amd_false_positive", "right_party", "wrong_party",
)


@dataclass
class CampaignStats:
    """Per-interval dial outcomes of one campaign, by the interval the dial was placed."""

    n: int
    counts: dict = None  # name -> list per interval
    talk: list = None  # outbound talk seconds per interval
    records_attempted: int = 0
    records_closed: int = 0
    dial_times: list | None = None  # (time, record zone) of every dial, when contacts are kept

    def __post_init__(self) -> None:
        self.counts = {name: _zeros(self.n) for name in CAMPAIGN_COUNTS}
        self.talk = _fzeros(self.n)


@dataclass
class Recording:
    """Everything one replication produced, before it is turned into metrics."""

    queues: list[QueueStats]
    pools: list[PoolStats]
    contacts: list | None = None  # tuples in CONTACT_COLUMNS order, when kept
    agent_states: list | None = None  # tuples in AGENT_STATE_COLUMNS order, when kept
    busyness: dict = field(default_factory=dict)  # queue id -> per-day factors drawn
    campaigns: list = field(default_factory=list)  # CampaignStats per campaign
