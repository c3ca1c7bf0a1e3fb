"""Compile the channel settings of a scenario into plain numbers for the engine.

Queues: channel code, backlog due time, head start, callback and retrial settings.
Pools: chat sessions per agent and their handle-time stretch, blocks reserved for
backlog work (absolute clock seconds), QA reviews and coaching done for other pools
(as pool indices). Times are seconds; nothing here draws a random number or refers to
a schema object once compiled (distributions stay :class:`DistributionSpec`, as for
handle times).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bposim.distributions import DistributionSpec
from bposim.scenario.schema import WEEKDAYS, BacklogBlock, Horizon, Pool, Queue, Scenario

VOICE, CHAT, EMAIL, BACK_OFFICE = 0, 1, 2, 3
CHANNEL_CODES = {"voice": VOICE, "chat": CHAT, "email": EMAIL, "back_office": BACK_OFFICE}
DEFERRABLE_CODES = frozenset({EMAIL, BACK_OFFICE})


@dataclass(frozen=True)
class CallbackModel:
    """Virtual hold: offered when the expected wait exceeds ``threshold`` seconds."""

    threshold: float
    acceptance: float  # probability an offered caller accepts
    keep_place: bool  # True: keeps the place in queue; False: scheduled ``delay`` later
    delay: float  # seconds from the offer to a scheduled callback (0 for keep_place)
    attempts: int
    success: float  # probability one attempt reaches the customer
    retry_after: float  # seconds between attempts


@dataclass(frozen=True)
class RetrialModel:
    """An abandoned customer calls again with ``probability`` after ``delay`` seconds."""

    probability: float
    delay: DistributionSpec


@dataclass(frozen=True)
class QaModel:
    """Review ``share`` of the contacts closed by pools ``of_pools``; each review takes
    ``time`` and is due ``due`` seconds after the contact closed."""

    share: float
    of_pools: tuple[int, ...]
    time: DistributionSpec
    due: float


@dataclass(frozen=True)
class CoachingModel:
    """Coach each new hire of pools ``of_pools`` for ``hours_per_new_hire`` hours in
    sessions of ``session`` seconds, due evenly through the hire's learning period."""

    hours_per_new_hire: float
    of_pools: tuple[int, ...]
    session: float


class ChannelFields(NamedTuple):
    """Keyword arguments to add to each QueueModel and each PoolModel, in scenario order."""

    queues: tuple[dict, ...]
    pools: tuple[dict, ...]


def compile_channels(scenario: Scenario, queue_index: dict[str, int],
                     pool_index: dict[str, int]) -> ChannelFields:
    """The channel fields of every queue and pool of a validated ``scenario``."""
    sites = {s.id: s.timezone for s in scenario.sites}
    return ChannelFields(
        queues=tuple(_queue_fields(q) for q in scenario.queues),
        pools=tuple(_pool_fields(p, pool_index, scenario.horizon, sites.get(p.site))
                    for p in scenario.pools),
    )


def _queue_fields(q: Queue) -> dict:
    code = CHANNEL_CODES[q.channel]
    deferrable = code in DEFERRABLE_CODES
    cb = q.callback
    callback = None if cb is None else CallbackModel(
        threshold=float(cb.offer_when_wait_over),
        acceptance=float(cb.acceptance),
        keep_place=cb.mode == "keep_place",
        delay=0.0 if cb.mode == "keep_place" else float(cb.delay_minutes) * 60.0,
        attempts=int(cb.attempts),
        success=float(cb.success),
        retry_after=float(cb.retry_minutes) * 60.0,
    )
    retrial = None if q.retrial is None else RetrialModel(float(q.retrial.probability), q.retrial.delay)
    return {
        "channel_code": code,
        "deferrable": deferrable,
        "due": float(q.due_within_hours) * 3600.0 if deferrable else math.inf,
        "head_start": float(q.head_start),
        "callback": callback,
        "retrial": retrial,
    }


def _pool_fields(p: Pool, pool_index: dict[str, int], horizon: Horizon, site_tz: str | None) -> dict:
    def others(ids: tuple[str, ...]) -> tuple[int, ...]:
        if ids:
            return tuple(sorted(pool_index[i] for i in ids))
        return tuple(sorted(k for pid, k in pool_index.items() if pid != p.id))

    qa, coaching = p.qa_review, p.coaching
    return {
        "concurrency": int(p.chat.concurrency),
        "stretch": float(p.chat.stretch),
        "backlog_blocks": block_times(p.backlog_blocks, horizon, site_tz),
        "qa": None if qa is None else QaModel(
            float(qa.share), others(qa.of), qa.time, float(qa.due_within_hours) * 3600.0),
        "coaching": None if coaching is None else CoachingModel(
            float(coaching.hours_per_new_hire), others(coaching.of),
            float(coaching.session_minutes) * 60.0),
    }


def block_times(blocks: tuple[BacklogBlock, ...], horizon: Horizon,
                site_tz: str | None) -> tuple[tuple[float, float], ...]:
    """Absolute (start, end) clock seconds of every daily block over the horizon, sorted
    and merged where they touch or overlap.

    Each block's ends are wall-clock times in the site's zone (the reference zone without
    a site), converted through real instants to the clock of
    :mod:`bposim.engine.roster`: the reference zone's wall-clock seconds since midnight of
    the start date. A block whose end is not after its start runs past midnight; its
    weekday is that of its start."""
    if not blocks:
        return ()
    ref = ZoneInfo(horizon.timezone)
    local = ZoneInfo(site_tz or horizon.timezone)
    origin = dt.datetime.combine(horizon.start, dt.time(0))

    def clock(day: dt.date, time: dt.time) -> float:
        instant = dt.datetime.combine(day, time, tzinfo=local)
        return (instant.astimezone(ref).replace(tzinfo=None) - origin).total_seconds()

    spans = []
    for d in range(-1, horizon.days + 1):  # a local day may fall on either side of a reference day
        day = horizon.start + dt.timedelta(days=d)
        for b in blocks:
            if WEEKDAYS[day.weekday()] not in b.days:
                continue
            end_day = day + dt.timedelta(days=1) if b.end <= b.start else day
            s, e = max(clock(day, b.start), 0.0), min(clock(end_day, b.end), horizon.seconds)
            if e > s:
                spans.append((s, e))
    merged: list[list[float]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple((s, e) for s, e in merged)
