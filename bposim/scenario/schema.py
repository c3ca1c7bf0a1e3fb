"""Typed, immutable description of a contact centre (what a scenario file says).

The loader (:mod:`bposim.scenario.load`) builds these from YAML and checks every
range and reference; the engine's compile step turns them into number tables.
Times are seconds unless a field name says otherwise. Nothing here imports SimPy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bposim.distributions import DistributionSpec

if TYPE_CHECKING:
    from bposim.scenario.planning import PlanningSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIERS = ("tier1", "tier2", "sme")
CHANNELS = ("voice", "chat", "email", "back_office")
DEFERRABLE_CHANNELS = ("email", "back_office")  # worked from a backlog, with a due time
CALLBACK_MODES = ("keep_place", "scheduled")
SL_DEFINITIONS = ("offered", "answered", "offered_excl_short")
# auto: the fast (compiled) engine where it covers the scenario, else SimPy; both give
# identical results (docs/simulation.md, "Two engines")
ENGINES = ("auto", "simpy", "fast")
ESCALATION_MODES = ("transfer", "consult")
SITE_KINDS = ("onshore", "nearshore", "offshore")
DIALER_MODES = ("preview", "progressive", "predictive")
LEARNING_CURVES = ("linear", "exponential")


@dataclass(frozen=True)
class Horizon:
    """The simulated period: whole days cut into planning intervals."""

    start: dt.date
    days: int = 1
    interval_minutes: int = 30
    timezone: str = "UTC"

    @property
    def intervals_per_day(self) -> int:
        return 24 * 60 // self.interval_minutes

    @property
    def n_intervals(self) -> int:
        return self.days * self.intervals_per_day

    @property
    def interval_seconds(self) -> float:
        return self.interval_minutes * 60.0

    @property
    def seconds(self) -> float:
        return self.days * 86400.0


@dataclass(frozen=True)
class Arrivals:
    """Expected contacts per interval, in one of two forms.

    - ``volumes``: expected contacts per interval, either one day's worth (repeated
      every day and scaled by ``day_of_week``) or the whole horizon (used as is).
      A forecast CSV is read into this form by the loader.
    - ``daily_volume`` × ``intraday_profile`` (weights per interval of the day, or
      24 hourly weights; normalised) × ``day_of_week`` factors.

    ``busyness_cv`` > 0 multiplies each day's volumes by a gamma factor of mean 1
    and that CV (day-to-day over-dispersion, Avramidis et al. 2004).

    ``aht`` and ``patience`` (from a forecast CSV's columns of those names, same length
    as ``volumes``; NaN where the file has no row): the mean handle time (handle plus
    after-call work) and mean patience of contacts arriving in each interval.
    """

    volumes: tuple[float, ...] | None = None
    aht: tuple[float, ...] | None = None
    patience: tuple[float, ...] | None = None
    daily_volume: float | None = None
    intraday_profile: tuple[float, ...] | None = None
    day_of_week: dict[str, float] = field(default_factory=dict)
    busyness_cv: float = 0.0


@dataclass(frozen=True)
class ServiceLevelTarget:
    """"80/20" = ``target`` 0.8 of contacts answered within ``answer_within`` 20 s.

    ``definition`` names the denominator: ``offered`` (abandons count against),
    ``answered``, or ``offered_excl_short`` (short abandons left out).
    ``report_thresholds``: further answer times (seconds) at which the service level is
    also reported, with the same denominator (metrics ``sl_at_<T>s``).
    """

    answer_within: float = 20.0
    target: float = 0.8
    definition: str = "offered"
    report_thresholds: tuple[float, ...] = ()


@dataclass(frozen=True)
class Escalation:
    """A handled contact of the owning queue escalates to queue ``to`` with ``probability``.

    ``transfer``: the customer joins ``to`` and waits again (with that queue's patience
    and handle time). ``consult``: the first agent stays with the customer while an
    agent of ``to`` works the consult; both are busy until it ends. A consult waits in
    queue ``to`` like any contact and gives up after that queue's patience; the first
    agent then finishes the contact alone. A consult lasts ``consult_time`` (default:
    queue ``to``'s handle time) and does not escalate further.
    """

    to: str
    probability: float
    mode: str = "transfer"
    consult_time: DistributionSpec | None = None  # consult length; default: ``to``'s handle time


@dataclass(frozen=True)
class Callback:
    """Virtual hold: a caller whose expected wait exceeds ``offer_when_wait_over`` seconds
    is offered a callback and accepts with probability ``acceptance``. ``keep_place``: the
    callback keeps the caller's place in the queue; ``scheduled``: it is placed
    ``delay_minutes`` later. Each of at most ``attempts`` tries reaches the customer with
    probability ``success``; failed tries are repeated ``retry_minutes`` later."""

    offer_when_wait_over: float
    acceptance: float
    mode: str = "keep_place"
    delay_minutes: float | None = None  # scheduled callbacks only
    attempts: int = 3
    success: float = 0.8
    retry_minutes: float = 10.0


@dataclass(frozen=True)
class Retrial:
    """A customer who abandons calls again with ``probability``, after ``delay`` seconds."""

    probability: float
    delay: DistributionSpec


@dataclass(frozen=True)
class Queue:
    """A contact type: its arrivals, handling, patience, target and escalations.

    A queue with ``arrivals`` ``None`` receives only escalated contacts (tier 2, SME).
    ``patience`` ``None`` means customers never abandon. ``language``: only pools at
    sites that speak it may serve the queue. ``repeat_after``: the delay before a
    contact left unresolved (see :attr:`Site.fcr`) comes back to this queue as a repeat
    (default: exponential with a mean of one day). ``channel``: voice and chat are
    real-time; email and back_office items wait in a backlog and are due
    ``due_within_hours`` after arrival (their service level is the share closed in time).
    ``head_start``: seconds of wait credited to this queue's contacts when an agent
    picks the longest-waiting contact among queues at one skill level.
    """

    id: str
    handle_time: DistributionSpec
    arrivals: Arrivals | None = None
    channel: str = "voice"
    after_work: DistributionSpec | None = None
    patience: DistributionSpec | None = None
    service_level: ServiceLevelTarget = field(default_factory=ServiceLevelTarget)
    short_abandon_seconds: float = 5.0
    priority: int = 1
    escalations: tuple[Escalation, ...] = ()
    language: str | None = None
    repeat_after: DistributionSpec | None = None
    due_within_hours: float = 24.0  # deferrable channels (email, back_office) only
    callback: Callback | None = None  # voice only
    retrial: Retrial | None = None  # voice and chat
    head_start: float = 0.0  # seconds added to the wait when agents pick the longest-waiting

    @property
    def deferrable(self) -> bool:
        """Worked from a backlog against a due time (email, back office)."""
        return self.channel in DEFERRABLE_CHANNELS


@dataclass(frozen=True)
class Skill:
    """A pool serves ``queue`` at ``priority`` (1 = first); as overflow when
    ``overflow_after`` > 0: only contacts that have waited at least that long."""

    queue: str
    priority: int = 1
    overflow_after: float = 0.0


@dataclass(frozen=True)
class Shift:
    """``agents`` agents work from ``start`` (time of day in the horizon's zone) for
    ``hours`` hours on each of ``days``; a shift may run past midnight."""

    start: dt.time
    hours: float
    agents: int
    days: tuple[str, ...] = WEEKDAYS


@dataclass(frozen=True)
class Staffing:
    """Exactly one of: a constant headcount ``agents``; a headcount per interval
    (``per_interval``: one day's worth repeated, or the whole horizon); or ``shifts``.
    A headcount per interval read from a CSV file keeps the file's name in
    ``per_interval_csv`` (the counts are in ``per_interval``)."""

    agents: int | None = None
    per_interval: tuple[int, ...] | None = None
    shifts: tuple[Shift, ...] = ()
    per_interval_csv: str | None = None


@dataclass(frozen=True)
class Break:
    """A break of ``minutes`` taken by every agent of a shift, starting between
    ``earliest`` and ``latest`` hours after the shift starts (staggered across agents)."""

    minutes: float
    earliest: float
    latest: float
    name: str = "break"


@dataclass(frozen=True)
class Proficiency:
    """New hires: ``new_hires`` agents of the pool start at ``initial_factor`` × tenured
    handle time and converge over ``weeks_to_proficiency`` weeks along ``curve``
    (``linear``, or ``exponential``: 95 % of the gap closed by then). Replacement hires
    after attrition follow the same curve."""

    new_hires: int = 0
    initial_factor: float = 1.5
    weeks_to_proficiency: float = 12.0
    curve: str = "linear"


@dataclass(frozen=True)
class Attrition:
    """Agents leave at ``annual_rate`` (share per year, exponential times); each leaver is
    replaced by a new hire after ``recruiting_delay_weeks``."""

    annual_rate: float
    recruiting_delay_weeks: float = 4.0


@dataclass(frozen=True)
class Site:
    """A delivery location: its time zone (shifts of its pools are written in local
    time), loaded cost per paid agent hour, and quality applied to its pools: handle
    time factor, first-contact resolution rate (``None``: every contact is resolved),
    escalation-rate factor, and the languages its agents speak."""

    id: str
    kind: str = "onshore"
    timezone: str = "UTC"
    cost_per_hour: float = 0.0
    handle_time_factor: float = 1.0
    fcr: float | None = None
    escalation_factor: float = 1.0
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatCapacity:
    """An agent holds up to ``concurrency`` chat sessions at once; a session answered
    while k sessions are in progress (itself included) takes handle × ``stretch``^(k-1)."""

    concurrency: int = 1
    stretch: float = 1.0


@dataclass(frozen=True)
class BacklogBlock:
    """Daily block (site-local time, may run past midnight) on ``days`` when the pool's
    agents take deferrable work before real-time contacts."""

    start: dt.time
    end: dt.time
    days: tuple[str, ...] = WEEKDAYS


@dataclass(frozen=True)
class QaReview:
    """The pool reviews a ``share`` of the contacts closed by pools ``of`` (empty: every
    other pool); each review takes ``time`` seconds and is due ``due_within_hours`` later."""

    share: float
    time: DistributionSpec
    of: tuple[str, ...] = ()
    due_within_hours: float = 24.0


@dataclass(frozen=True)
class Coaching:
    """The pool coaches each new hire of pools ``of`` (empty: every other pool) for
    ``hours_per_new_hire`` hours in sessions of ``session_minutes``, spread over the
    hire's learning period."""

    hours_per_new_hire: float
    of: tuple[str, ...] = ()
    session_minutes: float = 60.0


@dataclass(frozen=True)
class Pool:
    """A group of interchangeable agents with the same skills and tier.

    ``shrinkage`` is the share of on-duty time an agent is unavailable, taken as random
    unavailable periods of mean ``shrinkage_period_minutes`` (an agent finishes the
    contact in hand before one starts). ``site``: where the pool works (time zone of its
    shifts, cost, quality). ``breaks`` apply to shift-based staffing; at most
    ``max_on_break`` of the agents on duty (at least one) are on break at once.
    ``absenteeism``: the share of rostered agent-days absent (unpaid), drawn per
    replication. ``cost_per_hour`` overrides the site's cost. ``chat``: sessions per
    agent; ``backlog_blocks``: times reserved for deferrable work; ``qa_review`` and
    ``coaching``: non-call work this pool (typically SMEs) does for other pools.
    """

    id: str
    skills: tuple[Skill, ...]
    staffing: Staffing
    tier: str = "tier1"
    shrinkage: float = 0.0
    shrinkage_period_minutes: float = 15.0
    site: str | None = None
    breaks: tuple[Break, ...] = ()
    max_on_break: float = 0.25
    absenteeism: float = 0.0
    proficiency: Proficiency | None = None
    attrition: Attrition | None = None
    cost_per_hour: float | None = None
    chat: ChatCapacity = field(default_factory=ChatCapacity)
    backlog_blocks: tuple[BacklogBlock, ...] = ()
    qa_review: QaReview | None = None
    coaching: Coaching | None = None


@dataclass(frozen=True)
class CallingWindow:
    """Calls may be placed from ``start`` to ``end`` (customer's local time) on ``days``."""

    start: dt.time
    end: dt.time
    days: tuple[str, ...] = WEEKDAYS


@dataclass(frozen=True)
class ContactList:
    """Whom to call: ``size`` generated records spread over ``timezones`` (zone, share),
    or explicit ``records`` (record id, customer time zone) read from a CSV file."""

    size: int = 0
    timezones: tuple[tuple[str, float], ...] = ()
    records: tuple[tuple[str, str], ...] | None = None

    @property
    def n(self) -> int:
        return len(self.records) if self.records is not None else self.size


@dataclass(frozen=True)
class DialOutcomes:
    """Probabilities of a dial's outcome (they sum to 1), and of reaching the right
    party among live answers."""

    no_answer: float
    busy: float
    machine: float
    live: float
    right_party: float = 1.0


@dataclass(frozen=True)
class AnsweringMachineDetection:
    """AMD classifies an answer as machine or human with ``accuracy`` (for both), taking
    ``decision_seconds``; a detected machine is dropped, a human taken for a machine is
    hung up on (an abandoned call under Ofcom's rule)."""

    enabled: bool = False
    accuracy: float = 0.9
    decision_seconds: float = 3.0


@dataclass(frozen=True)
class RetryRules:
    """At most ``max_attempts`` dials per record; the delay before the next attempt
    depends on the outcome (seconds; ``None``: no retry after that outcome)."""

    max_attempts: int = 3
    after_no_answer: float | None = 7200.0
    after_busy: float | None = 1800.0
    after_machine: float | None = 14400.0
    after_wrong_party: float | None = 86400.0
    after_abandoned: float | None = 86400.0


@dataclass(frozen=True)
class Pacing:
    """Predictive pacing: dials in flight = ``factor`` × agents free for outbound ÷
    observed live-answer rate. The factor starts at ``initial`` and moves within
    [``minimum``, ``maximum``]: down by ``step`` whenever the abandon rate over the last
    ``window`` live answers exceeds the target, up by ``step`` when it is below half."""

    initial: float = 1.0
    minimum: float = 0.1
    maximum: float = 3.0
    step: float = 0.05
    window: int = 100
    prior_live_rate: float = 0.3


@dataclass(frozen=True)
class Campaign:
    """An outbound campaign worked by ``pools`` (blended when they also take inbound)."""

    id: str
    pools: tuple[str, ...]
    contact_list: ContactList
    windows: tuple[CallingWindow, ...]
    outcomes: DialOutcomes
    talk_right_party: DistributionSpec
    mode: str = "predictive"
    dials_per_agent: float = 1.0  # progressive: dials placed per free agent
    preview_time: DistributionSpec | None = None  # preview: agent reviews the record first
    ring_seconds: float = 25.0  # a dial not answered by then is a no-answer
    answer_delay: DistributionSpec = field(
        default_factory=lambda: DistributionSpec("uniform", low=4.0, high=16.0))
    busy_seconds: float = 4.0
    connect_limit: float = 2.0  # a live answer not connected to an agent by then is abandoned
    talk_wrong_party: DistributionSpec | None = None
    talk_machine: DistributionSpec | None = None  # undetected machine: agent leaves a message
    wrap: DistributionSpec | None = None
    amd: AnsweringMachineDetection = field(default_factory=AnsweringMachineDetection)
    retry: RetryRules = field(default_factory=RetryRules)
    abandon_target: float = 0.03
    pacing: Pacing = field(default_factory=Pacing)
    # blending: agents of a pool that also takes inbound go outbound only while more
    # than this many of the pool's agents are idle; a mapping queue -> reserve applies
    # the sum over those queues that have arrivals expected in the current interval
    reserve: int | dict[str, int] = 0


@dataclass(frozen=True)
class MeasureWindow:
    """The part of each day that run-level figures cover: intervals starting at or after
    ``start`` and before ``end`` (times of day in the horizon's time zone; ``end``
    ``None`` is midnight, the end of the day) on ``days``."""

    start: dt.time = dt.time(0)
    end: dt.time | None = None
    days: tuple[str, ...] = WEEKDAYS

    def covers(self, horizon: Horizon) -> list[bool]:
        """For each interval of ``horizon``: does it start inside the window?"""
        per_day, minutes = horizon.intervals_per_day, horizon.interval_minutes
        lo = self.start.hour * 60 + self.start.minute
        hi = 1440 if self.end is None else self.end.hour * 60 + self.end.minute
        first = horizon.start.weekday()
        day_ok = [WEEKDAYS[(first + d) % 7] in self.days for d in range(horizon.days)]
        in_day = [lo <= k * minutes < hi for k in range(per_day)]
        return [day_ok[d] and in_day[k] for d in range(horizon.days) for k in range(per_day)]


@dataclass(frozen=True)
class SimulationSettings:
    """How to run: replications, seed, warm-up, and which records to keep.

    ``measure``: run-level figures cover only the intervals inside this window (after
    the warm-up); ``None``: every interval after the warm-up."""

    replications: int = 10
    seed: int = 12345
    warmup_minutes: float = 0.0
    keep_contacts: bool = False
    keep_agent_states: bool = False
    measure: MeasureWindow | None = None
    engine: str = "auto"  # one of ENGINES; how to run, never what the results are


@dataclass(frozen=True)
class Scenario:
    """A whole contact centre. ``source`` is the file it came from, if any."""

    name: str
    horizon: Horizon
    queues: tuple[Queue, ...]
    pools: tuple[Pool, ...]
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    description: str = ""
    source: Path | None = None
    sites: tuple[Site, ...] = ()
    currency: str = "USD"
    campaigns: tuple[Campaign, ...] = ()
    planning: PlanningSpec | None = None  # the optional planning section (bposim plan)

    def queue(self, queue_id: str) -> Queue:
        for q in self.queues:
            if q.id == queue_id:
                return q
        raise KeyError(queue_id)

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def pool(self, pool_id: str) -> Pool:
        for p in self.pools:
            if p.id == pool_id:
                return p
        raise KeyError(pool_id)


def with_settings(scenario: Scenario, **simulation) -> Scenario:
    """A copy of ``scenario`` with simulation settings changed, e.g. ``keep_contacts=True``."""
    from dataclasses import replace

    return replace(scenario, simulation=replace(scenario.simulation, **simulation))
