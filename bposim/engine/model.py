"""Compile a :class:`~bposim.scenario.schema.Scenario` into numbers the engine runs on.

The model holds per-interval expected volumes per queue, routing tables (which pools
take a queue at once, which after which wait, each pool's skill levels) and each
agent's on-duty spans. It is plain data — numbers, tuples, numpy arrays, small frozen
dataclasses and distribution specs, no scenario (schema) objects and no strings the
engine compares — built once per replication task, and never draws a random number.
"""

from __future__ import annotations

import math
import datetime as dt
from dataclasses import dataclass

import numpy as np

from bposim.distributions import DistributionSpec
from bposim.engine.campaigns import compile_campaigns
from bposim.engine.channel_model import CallbackModel, CoachingModel, QaModel, RetrialModel, compile_channels
from bposim.engine.roster import Span, agent_spans, break_headcount, headcount
from bposim.engine.roster import add_time  # noqa: F401  (re-exported for the engine)
from bposim.scenario.schema import (
    WEEKDAYS, Arrivals, Horizon, Pool, Scenario, Site,
)

DEFAULT_REPEAT_AFTER = DistributionSpec("exponential", mean=86400.0)


@dataclass(frozen=True)
class HorizonModel:
    """The simulated period as plain numbers (the scenario's ``horizon``, compiled)."""

    start: dt.date
    days: int
    interval_minutes: int
    timezone: str
    intervals_per_day: int
    n_intervals: int
    interval_seconds: float
    seconds: float


@dataclass(frozen=True)
class ProficiencyModel:
    """Learning curve of new hires: handle time ``initial_factor`` × tenured at hire,
    converging over ``weeks_to_proficiency`` weeks (``linear``, else exponential)."""

    new_hires: int
    initial_factor: float
    weeks_to_proficiency: float
    linear: bool


@dataclass(frozen=True)
class AttritionModel:
    """Leavers at ``annual_rate`` per year, replaced after ``recruiting_delay_weeks``."""

    annual_rate: float
    recruiting_delay_weeks: float


@dataclass(frozen=True)
class EscalationRoute:
    target: int  # queue index
    probability: float
    consult: bool
    consult_time: DistributionSpec | None = None  # None: the target queue's handle time
    name: str = ""  # "<from>-><to>": names the consult-time stream


@dataclass(frozen=True)
class QueueModel:
    index: int
    id: str
    channel: str
    volumes: np.ndarray  # expected external arrivals per interval (before busyness)
    busyness_cv: float
    handle: DistributionSpec
    wrap: DistributionSpec | None
    patience: DistributionSpec | None
    answer_within: float
    sl_target: float
    sl_definition: str
    short_abandon: float
    escalations: tuple[EscalationRoute, ...]
    # (pool index, overflow_after) of every pool that serves this queue
    servers: tuple[tuple[int, float], ...]
    # routing tables from ``servers``: pools that answer at once; (wait threshold, pools
    # eligible once a contact has waited that long) by threshold; whether a pool serving
    # it resolves less than every contact (so resolution and come-back times are drawn)
    immediate: tuple[int, ...] = ()
    overflow: tuple[tuple[float, tuple[int, ...]], ...] = ()
    fcr_matters: bool = False
    repeat_after: DistributionSpec = DEFAULT_REPEAT_AFTER
    report_thresholds: tuple[float, ...] = ()  # further answer times for service level
    # per interval, multipliers of the drawn handle + wrap and patience that give the
    # forecast's mean in that interval (1 where it gives none); None without such a column
    handle_scale: np.ndarray | None = None
    patience_scale: np.ndarray | None = None
    # channel settings (bposim.engine.channel_model): code VOICE/CHAT/EMAIL/BACK_OFFICE;
    # deferrable (email, back office) items are due ``due`` seconds after arrival
    channel_code: int = 0
    deferrable: bool = False
    due: float = math.inf
    head_start: float = 0.0  # seconds credited to the wait when picking the longest-waiting
    callback: CallbackModel | None = None
    retrial: RetrialModel | None = None

    @property
    def mean_handle(self) -> np.ndarray:
        """Mean handle + wrap time per interval (seconds), before site and learning factors."""
        base = self.handle.expected + (self.wrap.expected if self.wrap else 0.0)
        n = self.volumes.size
        return base * (self.handle_scale if self.handle_scale is not None else np.ones(n))

    @property
    def mean_patience(self) -> np.ndarray:
        """Mean patience per interval (seconds; inf when customers never abandon)."""
        if self.patience is None:
            return np.full(self.volumes.size, np.inf)
        scale = self.patience_scale if self.patience_scale is not None else 1.0
        return self.patience.expected * np.ones(self.volumes.size) * scale


@dataclass(frozen=True)
class PoolModel:
    index: int
    id: str
    tier: str
    # skill levels in priority order: each level a tuple of (queue index, overflow_after)
    levels: tuple[tuple[tuple[int, float], ...], ...]
    spans: tuple[tuple[Span, ...], ...]  # per agent: on-duty spans with planned breaks
    headcount: np.ndarray  # scheduled agents per interval (time-averaged)
    on_break: np.ndarray  # agents on a planned break per interval (time-averaged)
    shrinkage: float
    shrinkage_period: float  # seconds
    site: str | None = None
    handle_factor: float = 1.0
    fcr: float = 1.0  # probability a handled contact is resolved
    escalation_factor: float = 1.0
    cost_per_hour: float = 0.0
    max_on_break: float = 1.0
    absenteeism: float = 0.0
    new_hires: int = 0  # the last new_hires agents start as new hires at time 0
    proficiency: ProficiencyModel | None = None
    attrition: AttritionModel | None = None
    # channel settings (bposim.engine.channel_model)
    concurrency: int = 1  # chat sessions one agent holds at once
    stretch: float = 1.0  # chat handle-time factor per extra concurrent session
    backlog_blocks: tuple[tuple[float, float], ...] = ()  # clock (start, end): backlog first
    qa: QaModel | None = None
    coaching: CoachingModel | None = None


@dataclass(frozen=True)
class Model:
    horizon: HorizonModel
    interval: float  # seconds
    n_intervals: int
    end: float  # seconds
    warmup_intervals: int
    start_weekday: int  # 0 = Monday
    queues: tuple[QueueModel, ...]
    pools: tuple[PoolModel, ...]
    keep_contacts: bool
    keep_agent_states: bool
    currency: str = "USD"
    campaigns: tuple = ()  # CampaignModel, see bposim.engine.campaigns
    window: np.ndarray | None = None  # per interval: inside simulation.measure (None: all)

    @property
    def measured(self) -> np.ndarray:
        """Per interval: counted in run-level figures (after the warm-up, inside the window)."""
        mask = np.arange(self.n_intervals) >= self.warmup_intervals
        return mask if self.window is None else mask & self.window


def _day_factors(horizon: Horizon, day_of_week: dict[str, float]) -> np.ndarray:
    first = horizon.start.weekday()
    return np.array([day_of_week.get(WEEKDAYS[(first + d) % 7], 1.0) for d in range(horizon.days)])


def _per_day(values, horizon: Horizon) -> np.ndarray:
    """A one-day table (per interval, or 24 hourly values spread evenly) as an array."""
    arr = np.asarray(values, dtype=float)
    per_day = horizon.intervals_per_day
    if arr.size == per_day:
        return arr
    if arr.size == 24 and per_day % 24 == 0:
        return np.repeat(arr, per_day // 24) / (per_day // 24)
    if arr.size == 24 and per_day < 24:  # not reachable with 15/30/60-minute intervals
        raise ValueError("hourly profile needs intervals of at most 60 minutes")
    raise ValueError(f"expected {per_day} values per day, got {arr.size}")


def arrival_volumes(arrivals: Arrivals | None, horizon: Horizon) -> np.ndarray:
    """Expected external arrivals per interval over the whole horizon."""
    n = horizon.n_intervals
    if arrivals is None:
        return np.zeros(n)
    factors = np.repeat(_day_factors(horizon, arrivals.day_of_week), horizon.intervals_per_day)
    if arrivals.volumes is not None:
        vols = np.asarray(arrivals.volumes, dtype=float)
        if vols.size == horizon.intervals_per_day:  # one day, repeated and scaled
            return np.tile(vols, horizon.days) * factors
        return vols  # the whole horizon, used as given
    profile = _per_day(arrivals.intraday_profile, horizon)
    profile = profile / profile.sum()
    return np.tile(profile * arrivals.daily_volume, horizon.days) * factors


def compile_scenario(scenario: Scenario) -> Model:
    """Turn a validated scenario into the engine's tables."""
    h = scenario.horizon
    queue_index = {q.id: i for i, q in enumerate(scenario.queues)}
    channels = compile_channels(scenario, queue_index, {p.id: i for i, p in enumerate(scenario.pools)})
    servers: dict[int, list[tuple[int, float]]] = {i: [] for i in range(len(scenario.queues))}
    pools = []
    sites = {s.id: s for s in scenario.sites}
    for p_index, pool in enumerate(scenario.pools):
        pools.append(_compile_pool(p_index, pool, queue_index, h, sites.get(pool.site),
                                   channels.pools[p_index]))
        for skill in pool.skills:
            servers[queue_index[skill.queue]].append((p_index, float(skill.overflow_after)))
    queues = []
    for i, q in enumerate(scenario.queues):
        queues.append(
            QueueModel(
                index=i,
                id=q.id,
                channel=q.channel,
                volumes=arrival_volumes(q.arrivals, h),
                busyness_cv=q.arrivals.busyness_cv if q.arrivals else 0.0,
                handle=q.handle_time,
                wrap=q.after_work if q.after_work and q.after_work.expected > 0 else None,
                patience=q.patience,
                # a deferrable item counts in service level when *closed* within its due
                # time (the backlog's statistics add it then), never when taken
                answer_within=-math.inf if q.deferrable else float(q.service_level.answer_within),
                sl_target=float(q.service_level.target),
                sl_definition=q.service_level.definition,
                short_abandon=float(q.short_abandon_seconds),
                escalations=tuple(
                    EscalationRoute(queue_index[e.to], float(e.probability), e.mode == "consult",
                                    e.consult_time, f"{q.id}->{e.to}")
                    for e in q.escalations
                ),
                servers=tuple(servers[i]),
                **_routing(servers[i], pools),
                repeat_after=q.repeat_after or DEFAULT_REPEAT_AFTER,
                report_thresholds=tuple(q.service_level.report_thresholds),
                **_scales(q, h),
                **channels.queues[i],
            )
        )
    warmup = int(math.ceil(scenario.simulation.warmup_minutes * 60.0 / h.interval_seconds - 1e-9))
    return Model(
        horizon=HorizonModel(h.start, h.days, h.interval_minutes, h.timezone, h.intervals_per_day,
                             h.n_intervals, h.interval_seconds, h.seconds),
        interval=h.interval_seconds,
        n_intervals=h.n_intervals,
        end=h.seconds,
        warmup_intervals=min(warmup, h.n_intervals),
        start_weekday=h.start.weekday(),
        queues=tuple(queues),
        pools=tuple(pools),
        keep_contacts=scenario.simulation.keep_contacts,
        keep_agent_states=scenario.simulation.keep_agent_states,
        currency=scenario.currency,
        campaigns=compile_campaigns(scenario),
        window=None if scenario.simulation.measure is None
        else np.array(scenario.simulation.measure.covers(h), dtype=bool),
    )


def _routing(servers: list[tuple[int, float]], pools: list) -> dict:
    """A queue's routing tables (see :class:`QueueModel`) from its servers."""
    afters = sorted({after for _, after in servers if after > 0})
    return {
        "immediate": tuple(p for p, after in servers if after <= 0),
        "overflow": tuple((a, tuple(p for p, after in servers if after <= a)) for a in afters),
        "fcr_matters": any(pools[p].fcr < 1 for p, _ in servers),
    }


def _scales(q, h: Horizon) -> dict:
    """``handle_scale`` and ``patience_scale`` from the forecast's per-interval means."""
    out = {}
    wrap = q.after_work.expected if q.after_work else 0.0
    bases = (("handle_scale", q.arrivals.aht if q.arrivals else None, q.handle_time.expected + wrap),
             ("patience_scale", q.arrivals.patience if q.arrivals else None,
              q.patience.expected if q.patience else None))
    for key, means, base in bases:
        if means is None or not base:
            continue
        arr = np.asarray(means, dtype=float)
        if arr.size == h.intervals_per_day:
            arr = np.tile(arr, h.days)
        out[key] = np.where(np.isnan(arr), 1.0, arr / base)
    return out


def _compile_pool(index: int, pool: Pool, queue_index: dict[str, int], h: Horizon,
                  site: Site | None, channels: dict | None = None) -> PoolModel:
    by_priority: dict[int, list[tuple[int, float]]] = {}
    for skill in pool.skills:
        by_priority.setdefault(skill.priority, []).append(
            (queue_index[skill.queue], float(skill.overflow_after))
        )
    spans = agent_spans(pool.staffing, h, site.timezone if site else None, pool.breaks)
    cost = pool.cost_per_hour if pool.cost_per_hour is not None else (site.cost_per_hour if site else 0.0)
    prof = pool.proficiency
    return PoolModel(
        index=index,
        id=pool.id,
        tier=pool.tier,
        levels=tuple(tuple(by_priority[k]) for k in sorted(by_priority)),
        spans=tuple(tuple(s) for s in spans),
        headcount=headcount(spans, h),
        on_break=break_headcount(spans, h),
        shrinkage=float(pool.shrinkage),
        shrinkage_period=float(pool.shrinkage_period_minutes) * 60.0,
        site=site.id if site else None,
        handle_factor=site.handle_time_factor if site else 1.0,
        fcr=site.fcr if site and site.fcr is not None else 1.0,
        escalation_factor=site.escalation_factor if site else 1.0,
        cost_per_hour=float(cost),
        max_on_break=float(pool.max_on_break),
        absenteeism=float(pool.absenteeism),
        new_hires=min(prof.new_hires, len(spans)) if prof else 0,
        proficiency=None if prof is None else ProficiencyModel(
            prof.new_hires, float(prof.initial_factor), float(prof.weeks_to_proficiency),
            prof.curve == "linear"),
        attrition=None if pool.attrition is None else AttritionModel(
            float(pool.attrition.annual_rate), float(pool.attrition.recruiting_delay_weeks)),
        **(channels or {}),
    )
