"""Typed, immutable description of a contact centre (what a scenario file says).

The loader (:mod:`bposim.scenario.load`) builds these from YAML and checks every
range and reference; the engine's compile step turns them into number tables.
Times are seconds unless a field name says otherwise. Nothing here imports SimPy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bposim.distributions import DistributionSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIERS = ("tier1", "tier2", "sme")
CHANNELS = ("voice", "chat", "email")
SL_DEFINITIONS = ("offered", "answered", "offered_excl_short")
ESCALATION_MODES = ("transfer", "consult")
SITE_KINDS = ("onshore", "nearshore", "offshore")
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
    """

    volumes: tuple[float, ...] | None = None
    daily_volume: float | None = None
    intraday_profile: tuple[float, ...] | None = None
    day_of_week: dict[str, float] = field(default_factory=dict)
    busyness_cv: float = 0.0


@dataclass(frozen=True)
class ServiceLevelTarget:
    """"80/20" = ``target`` 0.8 of contacts answered within ``answer_within`` 20 s.

    ``definition`` names the denominator: ``offered`` (abandons count against),
    ``answered``, or ``offered_excl_short`` (short abandons left out).
    """

    answer_within: float = 20.0
    target: float = 0.8
    definition: str = "offered"


@dataclass(frozen=True)
class Escalation:
    """A handled contact of the owning queue escalates to queue ``to`` with ``probability``.

    ``transfer``: the customer joins ``to`` and waits again (with that queue's patience
    and handle time). ``consult``: the first agent stays with the customer while an
    agent of ``to`` works the consult; both are busy until it ends. A consult waits in
    queue ``to`` like any contact and gives up after that queue's patience; the first
    agent then finishes the contact alone. A consult does not escalate further.
    """

    to: str
    probability: float
    mode: str = "transfer"


@dataclass(frozen=True)
class Queue:
    """A contact type: its arrivals, handling, patience, target and escalations.

    A queue with ``arrivals`` ``None`` receives only escalated contacts (tier 2, SME).
    ``patience`` ``None`` means customers never abandon. ``language``: only pools at
    sites that speak it may serve the queue. ``repeat_after``: the delay before a
    contact left unresolved (see :attr:`Site.fcr`) comes back to this queue as a repeat
    (default: exponential with a mean of one day).
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
    (``per_interval``: one day's worth repeated, or the whole horizon); or ``shifts``."""

    agents: int | None = None
    per_interval: tuple[int, ...] | None = None
    shifts: tuple[Shift, ...] = ()


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
class Pool:
    """A group of interchangeable agents with the same skills and tier.

    ``shrinkage`` is the share of on-duty time an agent is unavailable, taken as random
    unavailable periods of mean ``shrinkage_period_minutes`` (an agent finishes the
    contact in hand before one starts). ``site``: where the pool works (time zone of its
    shifts, cost, quality). ``breaks`` apply to shift-based staffing; at most
    ``max_on_break`` of the agents on duty (at least one) are on break at once.
    ``absenteeism``: the share of rostered agent-days absent (unpaid), drawn per
    replication. ``cost_per_hour`` overrides the site's cost.
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


@dataclass(frozen=True)
class SimulationSettings:
    """How to run: replications, seed, warm-up, and which records to keep."""

    replications: int = 10
    seed: int = 12345
    warmup_minutes: float = 0.0
    keep_contacts: bool = False
    keep_agent_states: bool = False


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
