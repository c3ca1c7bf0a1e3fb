"""The optional ``planning:`` section of a scenario: targets, shift templates, limits.

Read by ``bposim plan`` (:mod:`bposim.planning`). Validated in the single pass of
:mod:`bposim.scenario.build` (problems recorded with field path and line)::

    planning:
      replications: 10          # per simulation while planning (default: simulation's)
      rounds: 3                 # closed-loop rounds after the first schedule
      iterations: 6             # stage-1 simulation iterations at most
      targets:                  # default: each queue's own service level, per interval
        support: {service_level: {answer_within: 60, target: 0.8}, per: [interval, day],
                  max_abandon: 0.05, constraints: [service_level, abandonment]}
      pools:                    # pools not listed keep their own staffing
        tier1:
          templates:
            - {name: day, starts: {from: "07:00", to: "13:00", every: 30}, hours: [8],
               days: [mon, tue, wed, thu, fri]}
          breaks: [{minutes: 15, window: [1.5, 2.5]}, {minutes: 30, window: [3.5, 5]}]
          max_headcount: 60     # agents on duty at once (seats)
          min_headcount: 2      # on duty whenever the pool is needed
          part_time_share: 0.3  # at most this share of agent-days on part-time templates
          max_occupancy: 0.9
      sites:
        onshore: {max_headcount: 80}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bposim.scenario import fields as F
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.schema import WEEKDAYS, Break, ServiceLevelTarget

PLANNING_KEYS = ("replications", "rounds", "iterations", "targets", "pools", "sites")
TARGET_KEYS = ("service_level", "per", "max_abandon", "constraints")
POOL_PLAN_KEYS = ("templates", "breaks", "min_headcount", "max_headcount", "part_time_share",
                  "max_occupancy")
TEMPLATE_KEYS = ("name", "starts", "hours", "days", "part_time")
STARTS_KEYS = ("from", "to", "every")
SITE_PLAN_KEYS = ("max_headcount",)
PER_CHOICES = ("interval", "day")
CONSTRAINT_CHOICES = ("service_level", "abandonment")


@dataclass(frozen=True)
class QueueTarget:
    """What a queue must reach: ``service_level`` (``None``: the queue's own) checked
    ``per`` interval and/or day, and P(abandon) at most ``max_abandon``; only the targets
    named in ``constraints`` drive staffing, the others are reported."""

    queue: str
    service_level: ServiceLevelTarget | None = None
    per: tuple[str, ...] = ("interval",)
    max_abandon: float | None = None
    constraints: tuple[str, ...] = CONSTRAINT_CHOICES


@dataclass(frozen=True)
class ShiftTemplate:
    """Shifts an agent may work: any of ``starts`` (local time at the pool's site), any
    of ``hours``, on any one of ``days``; ``part_time`` counts toward the part-time share."""

    name: str
    starts: tuple[dt.time, ...]
    hours: tuple[float, ...]
    days: tuple[str, ...] = WEEKDAYS
    part_time: bool = False


@dataclass(frozen=True)
class PoolPlan:
    """How a pool may be staffed; ``breaks`` apply to every shift of the pool."""

    pool: str
    templates: tuple[ShiftTemplate, ...]
    breaks: tuple[Break, ...] = ()
    min_headcount: int | None = None
    max_headcount: int | None = None
    part_time_share: float | None = None
    max_occupancy: float | None = None


@dataclass(frozen=True)
class PlanningSpec:
    targets: tuple[QueueTarget, ...] = ()
    pools: tuple[PoolPlan, ...] = ()
    site_max_headcount: tuple[tuple[str, int], ...] = ()
    replications: int | None = None
    rounds: int = 3
    iterations: int = 6

    def pool_plan(self, pool_id: str) -> PoolPlan | None:
        return next((p for p in self.pools if p.pool == pool_id), None)

    def target(self, queue_id: str) -> QueueTarget | None:
        return next((t for t in self.targets if t.queue == queue_id), None)


def build_planning(ctx: Context, top: Mapping, queues, pools, sites, *, time_reader,
                   weekdays_reader, break_reader):
    """The PlanningSpec of ``top["planning"]`` (MISSING when absent); problems go to ``ctx``."""
    if "planning" not in top:
        return MISSING
    m = F.mapping(ctx, top["planning"], "planning", PLANNING_KEYS, required=("pools",))
    if m is None:
        return None
    if "campaigns" in top:
        ctx.add("planning", "planning covers inbound queues only; remove the campaigns or the "
                "planning section")
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    queue_by_id = {q.id: q for q in queues if q is not None and isinstance(q.id, str)}
    pool_by_id = {p.id: p for p in pools if p is not None and isinstance(p.id, str)}
    site_ids = {s.id for s in sites if s is not None}
    targets = _targets(ctx, get("targets"), queue_by_id)
    pool_plans = _keyed(ctx, get("pools"), "planning.pools", pool_by_id, "pool",
                        lambda raw, path, pid: _pool_plan(ctx, raw, path, pid, time_reader,
                                                          weekdays_reader, break_reader))
    site_caps = _keyed(ctx, get("sites"), "planning.sites", site_ids, "site",
                       lambda raw, path, sid: _site_cap(ctx, raw, path, sid)) if "sites" in m else []
    _check_targets_attainable(ctx, targets, queues)
    return PlanningSpec(
        targets=tuple(t for t in targets if t is not None),
        pools=tuple(p for p in pool_plans if p is not None),
        site_max_headcount=tuple(s for s in site_caps if s is not None),
        **F.given(
            replications=F.number(ctx, get("replications"), "planning.replications", integer=True, ge=2),
            rounds=F.number(ctx, get("rounds"), "planning.rounds", integer=True, ge=0, le=50),
            iterations=F.number(ctx, get("iterations"), "planning.iterations", integer=True, ge=0,
                                le=50),
        ),
    )


def _keyed(ctx, value, path, known, kind, build):
    """A mapping id -> settings, each id checked against ``known``."""
    if value is MISSING:
        return []
    if not isinstance(value, Mapping) or not value:
        ctx.add(path, f"must be a mapping of {kind} id to its settings, got {F.describe(value)}")
        return []
    out = []
    for key, raw in value.items():
        p = join(path, key)
        if key not in known:
            hint = F.suggest(key, known) or f"; {kind}s are: {', '.join(sorted(known)) or 'none'}"
            ctx.add(p, f"unknown {kind} {key!r}{hint}")
            continue
        out.append(build(raw, p, key))
    return out


def _targets(ctx, value, queue_by_id):
    def build(raw, path, qid):
        m = F.mapping(ctx, raw, path, TARGET_KEYS)
        if m is None:
            return None
        sl = MISSING
        if "service_level" in m:
            sm = F.mapping(ctx, m["service_level"], join(path, "service_level"),
                           ("answer_within", "target"))
            own = queue_by_id[qid].service_level  # None: the queue's own is invalid (reported)
            if sm is not None and own is not None:
                sl = ServiceLevelTarget(
                    answer_within=F.number(ctx, sm.get("answer_within", MISSING),
                                           join(path, "service_level.answer_within"),
                                           default=own.answer_within, ge=0),
                    target=F.number(ctx, sm.get("target", MISSING), join(path, "service_level.target"),
                                    default=own.target, gt=0, le=1),
                    definition=own.definition)
        per = MISSING
        if "per" in m:
            raw_per = m["per"] if isinstance(m["per"], list) else [m["per"]]
            per = tuple(F.text(ctx, v, join(path, "per"), choices=PER_CHOICES) for v in raw_per)
            if not per or None in per:
                per = None
        constraints = MISSING
        if "constraints" in m:
            items = F.sequence(ctx, m["constraints"], join(path, "constraints")) or []
            constraints = tuple(F.text(ctx, v, item(join(path, "constraints"), i),
                                       choices=CONSTRAINT_CHOICES) for i, v in enumerate(items))
        return QueueTarget(queue=qid, **F.given(
            service_level=sl, per=per, constraints=constraints,
            max_abandon=F.number(ctx, m.get("max_abandon", MISSING), join(path, "max_abandon"),
                                 gt=0, lt=1)))

    return _keyed(ctx, value, "planning.targets", queue_by_id, "queue", build)


def _check_attainable(ctx, path, target) -> None:
    if isinstance(target, float) and target >= 1:
        ctx.add(path, "a service-level target of 100 % cannot be met with confidence by any "
                "finite staffing; use a target below 1, e.g. 0.95")


def _check_targets_attainable(ctx, targets, queues) -> None:
    set_here = {t.queue for t in targets if t is not None and t.service_level is not None}
    for t in targets:
        if t is not None and t.service_level is not None:
            _check_attainable(ctx, join(join("planning.targets", t.queue), "service_level.target"),
                              t.service_level.target)
    for i, q in enumerate(queues):
        if q is not None and q.id not in set_here and q.service_level is not None:
            _check_attainable(ctx, f"queues[{i}].service_level.target", q.service_level.target)


def _pool_plan(ctx, raw, path, pid, time_reader, weekdays_reader, break_reader):
    m = F.mapping(ctx, raw, path, POOL_PLAN_KEYS, required=("templates",))
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    items = F.sequence(ctx, m["templates"], join(path, "templates"), nonempty=True) \
        if "templates" in m else None
    templates = tuple(_template(ctx, t, item(join(path, "templates"), i), time_reader, weekdays_reader)
                      for i, t in enumerate(items or ()))
    breaks = MISSING
    if "breaks" in m:
        b_items = F.sequence(ctx, m["breaks"], join(path, "breaks"))
        breaks = None if b_items is None else tuple(
            break_reader(ctx, b, item(join(path, "breaks"), i)) for i, b in enumerate(b_items))
    low = F.number(ctx, get("min_headcount"), join(path, "min_headcount"), integer=True, ge=0)
    high = F.number(ctx, get("max_headcount"), join(path, "max_headcount"), integer=True, ge=1)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        ctx.add(join(path, "min_headcount"), f"is more than max_headcount ({high})")
    if not items or None in templates or breaks is None or (breaks is not MISSING and None in breaks):
        return None
    for k, b in enumerate(breaks if breaks is not MISSING else ()):
        for i, t in enumerate(templates):
            for h in t.hours:
                if b.earliest * 60 + b.minutes > h * 60:
                    ctx.add(item(join(path, "breaks"), k),
                            f"break of {b.minutes:g} min from {b.earliest:g} h does not fit in the "
                            f"{h:g}-hour shifts of template {t.name!r}; every break of a pool "
                            "must fit in every one of its shifts")
    return PoolPlan(pool=pid, templates=templates, **F.given(
        breaks=breaks, min_headcount=low, max_headcount=high,
        part_time_share=F.number(ctx, get("part_time_share"), join(path, "part_time_share"), ge=0, le=1),
        max_occupancy=F.number(ctx, get("max_occupancy"), join(path, "max_occupancy"), gt=0, le=1)))


def _template(ctx, raw, path, time_reader, weekdays_reader):
    m = F.mapping(ctx, raw, path, TEMPLATE_KEYS, required=("name", "starts", "hours"))
    if m is None:
        return None
    name = F.text(ctx, m.get("name", MISSING), join(path, "name"))
    starts = _starts(ctx, m["starts"], join(path, "starts"), time_reader) if "starts" in m else None
    hours = None
    if "hours" in m:
        raw_hours = m["hours"] if isinstance(m["hours"], list) else [m["hours"]]
        hours = tuple(F.number(ctx, h, join(path, "hours"), gt=0, le=24) for h in raw_hours)
        if not hours:
            ctx.add(join(path, "hours"), "must name at least one shift length")
        hours = None if not hours or None in hours else hours
    days = weekdays_reader(ctx, m["days"], join(path, "days")) if "days" in m else MISSING
    part = F.boolean(ctx, m.get("part_time", MISSING), join(path, "part_time"))
    if name in (None, MISSING) or starts is None or hours is None or days is None or part is None:
        return None
    return ShiftTemplate(name=name, starts=starts, hours=hours, **F.given(days=days, part_time=part))


def _starts(ctx, value, path, time_reader):
    """A list of "HH:MM" or ``{from: "06:00", to: "10:00", every: 30}`` (minutes)."""
    if isinstance(value, Mapping):
        m = F.mapping(ctx, value, path, STARTS_KEYS, required=STARTS_KEYS)
        first = time_reader(ctx, m.get("from", MISSING), join(path, "from")) if "from" in m else None
        last = time_reader(ctx, m.get("to", MISSING), join(path, "to")) if "to" in m else None
        every = F.number(ctx, m.get("every", MISSING), join(path, "every"), integer=True, ge=5, le=1440)
        if first is None or last is None or every in (None, MISSING):
            return None
        a, b = first.hour * 60 + first.minute, last.hour * 60 + last.minute
        if b < a:
            b += 1440  # runs past midnight
        return tuple(dt.time((m_ // 60) % 24, m_ % 60) for m_ in range(a, b + 1, every))
    items = F.sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    times = tuple(time_reader(ctx, v, item(path, i)) for i, v in enumerate(items))
    return None if None in times else times


def _site_cap(ctx, raw, path, sid):
    m = F.mapping(ctx, raw, path, SITE_PLAN_KEYS, required=SITE_PLAN_KEYS)
    if m is None or "max_headcount" not in m:
        return None
    cap = F.number(ctx, m["max_headcount"], join(path, "max_headcount"), integer=True, ge=1)
    return None if cap is None else (sid, cap)
