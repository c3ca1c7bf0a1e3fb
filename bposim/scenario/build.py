"""Validate plain scenario data (from YAML or a dict) and build the typed :class:`Scenario`.

One pass checks every field's type and range and every cross-reference, recording
problems in a :class:`~bposim.scenario.fields.Context` rather than stopping at the
first, so a user sees all mistakes at once. The schema's own defaults apply to absent
fields: readers return ``MISSING`` and those keywords are simply not passed.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

from bposim.scenario import fields as F
from bposim.scenario.campaigns import build_campaigns, campaign_pool_ids
from bposim.scenario.channels import (
    POOL_CHANNEL_KEYS, check_channels, check_planned_channels, pool_channels,
)
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.queues import build_queue
from bposim.scenario.staffing_csv import read_staffing_csv
from bposim.scenario.planning import build_planning
from bposim.scenario.workforce import POOL_WORKFORCE_KEYS, build_sites, check_workforce, pool_workforce
from bposim.scenario.workforce import _break as read_break
from bposim.scenario.schema import (
    ENGINES,
    TIERS,
    WEEKDAYS,
    Horizon,
    MeasureWindow,
    Pool,
    Scenario,
    Shift,
    SimulationSettings,
    Skill,
    Staffing,
)

TOP_KEYS = ("name", "description", "horizon", "queues", "pools", "simulation", "sites", "currency",
            "campaigns", "planning")
HORIZON_KEYS = ("start", "days", "interval_minutes", "timezone")
POOL_KEYS = ("id", "tier", "skills", "staffing", "shrinkage", "shrinkage_period_minutes",
             *POOL_WORKFORCE_KEYS, *POOL_CHANNEL_KEYS)
SKILL_KEYS = ("priority", "overflow_after")
STAFFING_KEYS = ("agents", "per_interval", "shifts", "per_interval_csv")
SHIFT_KEYS = ("start", "hours", "agents", "days")
SIMULATION_KEYS = ("replications", "seed", "warmup_minutes", "keep_contacts", "keep_agent_states",
                   "measure", "engine")
MEASURE_KEYS = ("from", "to", "days")
INTERVAL_CHOICES = (15, 30, 60)
# Dates a horizon may cover: time zones, plotting and the engine's clock are sound there.
FIRST_DATE, LAST_DATE = dt.date(1970, 1, 1), dt.date(2200, 12, 31)
MAX_DAYS = 3660  # ten years of days; longer horizons are planning fiction

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def build_scenario(data: object, ctx: Context, base_dir: Path | None) -> Scenario | None:
    """Check ``data`` and build a Scenario; problems go to ``ctx`` (the result is then unusable)."""
    if not isinstance(data, Mapping):
        ctx.add("", "a scenario must be a mapping with keys name, horizon, queues and pools; "
                f"got {F.describe(data)}")
        return None
    # top-level keys starting with "x-" are ignored: a place for YAML anchors (&name) to reuse
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    outbound = "campaigns" in data  # with campaigns, queues may be absent or empty
    required = ("name", "horizon", "pools") if outbound else ("name", "horizon", "queues", "pools")
    top = F.mapping(ctx, data, "", TOP_KEYS, required=required)
    name = F.text(ctx, top.get("name", MISSING), "name")
    description = F.text(ctx, top.get("description", MISSING), "description", allow_empty=True)
    horizon = _horizon(ctx, top.get("horizon", MISSING))
    currency = F.text(ctx, top.get("currency", MISSING), "currency")
    raw_queues = _list(ctx, top, "queues", nonempty=not outbound)
    raw_pools = _list(ctx, top, "pools")
    queue_ids = _unique_ids(ctx, raw_queues, "queues", "queue")
    pool_ids = _unique_ids(ctx, raw_pools, "pools", "pool")
    sites = build_sites(ctx, top, _timezone)
    site_ids = _unique_ids(ctx, top.get("sites") if isinstance(top.get("sites"), list) else [],
                           "sites", "site")

    queues = [build_queue(ctx, raw, item("queues", i), horizon, queue_ids, base_dir)
              for i, raw in enumerate(raw_queues)]
    priorities = {q.id: q.priority for q in queues if q is not None and isinstance(q.id, str)}
    dialling = campaign_pool_ids(top)  # pools named by a campaign may have no skills
    pools = [_pool(ctx, raw, item("pools", i), horizon, queue_ids, priorities, site_ids, dialling,
                   (base_dir, pool_ids))
             for i, raw in enumerate(raw_pools)]
    campaigns = build_campaigns(ctx, top, horizon, pool_ids, queue_ids, base_dir,
                                timezone=_timezone, time=_time, weekdays=_weekdays)
    _unique_ids(ctx, top["campaigns"] if isinstance(top.get("campaigns"), list) else [],
                "campaigns", "campaign")
    simulation = _simulation(ctx, top.get("simulation", MISSING), horizon)
    _check_served(ctx, raw_queues, queues, pools)
    check_workforce(ctx, pools, queues, sites)
    check_channels(ctx, pools, queues)
    planning = build_planning(ctx, top, queues, pools, sites, time_reader=_time,
                              weekdays_reader=_weekdays, break_reader=read_break)
    check_planned_channels(ctx, top.get("planning"), queues)
    return Scenario(
        name=name, horizon=horizon, queues=tuple(queues), pools=tuple(pools),
        **F.given(simulation=simulation, description=description, currency=currency,
                  sites=tuple(sites) if "sites" in top else MISSING,
                  campaigns=tuple(campaigns) if "campaigns" in top else MISSING,
                  planning=planning),
    )


def _list(ctx: Context, top: dict, key: str, nonempty: bool = True) -> list:
    if key not in top:
        return []
    return F.sequence(ctx, top[key], key, nonempty=nonempty) or []


def _unique_ids(ctx: Context, raws: list, path: str, kind: str) -> set[str]:
    """The set of string ids in ``raws``; a repeated id is a problem at its later use."""
    first: dict[str, int] = {}
    for i, raw in enumerate(raws):
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            rid = raw["id"]
            if rid in first:
                ctx.add(join(item(path, i), "id"),
                        f"duplicate {kind} id {rid!r} (already used by {item(path, first[rid])})")
            else:
                first[rid] = i
    return set(first)


# --- horizon -------------------------------------------------------------------------


def _horizon(ctx: Context, value: object) -> Horizon | None:
    if value is MISSING:
        return None
    m = F.mapping(ctx, value, "horizon", HORIZON_KEYS, required=("start",))
    if m is None:
        return None
    start = _date(ctx, m.get("start", MISSING), "horizon.start")
    days = F.number(ctx, m.get("days", MISSING), "horizon.days", integer=True, ge=1)
    if isinstance(days, int) and days > MAX_DAYS:
        ctx.add("horizon.days", f"must be at most {MAX_DAYS} (ten years), got {days}")
        days = None
    elif isinstance(start, dt.date) and isinstance(days, int) and start + dt.timedelta(days - 1) > LAST_DATE:
        ctx.add("horizon.days", f"the horizon must end by {LAST_DATE}; {days} days from {start} "
                "go beyond it")
        days = None
    interval = F.number(ctx, m.get("interval_minutes", MISSING), "horizon.interval_minutes", integer=True)
    if interval not in (MISSING, None) and interval not in INTERVAL_CHOICES:
        ctx.add("horizon.interval_minutes", f"must be 15, 30 or 60 (minutes), got {interval}")
        interval = None
    tz = _timezone(ctx, m.get("timezone", MISSING), "horizon.timezone")
    kw = F.given(days=days, interval_minutes=interval, timezone=tz)
    if start in (MISSING, None) or None in kw.values():
        return None
    return Horizon(start=start, **kw)


def _date(ctx: Context, value: object, path: str) -> dt.date | None:
    if value is MISSING:
        return MISSING
    date = None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        date = value
    elif isinstance(value, str):
        try:
            date = dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if date is None:
        ctx.add(path, f"must be a date like 2026-01-05, got {F.describe(value)}")
    elif not FIRST_DATE <= date <= LAST_DATE:
        ctx.add(path, f"must be a date from {FIRST_DATE} to {LAST_DATE}, got {date}")
        date = None
    return date


def _timezone(ctx: Context, value: object, path: str) -> str | None:
    tz = F.text(ctx, value, path)
    if not isinstance(tz, str):
        return tz
    try:
        zoneinfo.ZoneInfo(tz)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError
        hint = F.suggest(tz, zoneinfo.available_timezones()) or "; use an IANA name such as Europe/London"
        ctx.add(path, f"unknown time zone {tz!r}{hint}")
        return None
    return tz


# --- pools ---------------------------------------------------------------------------


def _pool(ctx, raw, path, horizon, queue_ids, priorities, site_ids, dialling=frozenset(),
          files=(None, frozenset())) -> Pool | None:
    rid = raw.get("id") if isinstance(raw, Mapping) else None
    outbound_only = isinstance(rid, str) and rid in dialling and "skills" not in raw
    m = F.mapping(ctx, raw, path, POOL_KEYS,
                  required=("id", "staffing") if outbound_only else ("id", "skills", "staffing"))
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    return Pool(
        id=F.identifier(ctx, get("id"), join(path, "id")),
        skills=() if outbound_only else _skills(ctx, get("skills"), join(path, "skills"), queue_ids,
                                                priorities),
        staffing=_staffing(ctx, get("staffing"), join(path, "staffing"), horizon,
                           (*files, rid, m.get("site") if isinstance(m.get("site"), str) else None)),
        **F.given(
            tier=F.text(ctx, get("tier"), join(path, "tier"), choices=TIERS),
            shrinkage=F.number(ctx, get("shrinkage"), join(path, "shrinkage"), ge=0, lt=1),
            shrinkage_period_minutes=F.number(
                ctx, get("shrinkage_period_minutes"), join(path, "shrinkage_period_minutes"), gt=0
            ),
        ),
        **pool_workforce(ctx, m, path, site_ids),
        **pool_channels(ctx, m, path, files[1], (_time, _weekdays)),
    )


def _skills(ctx, value, path, queue_ids, priorities) -> tuple[Skill, ...] | None:
    """Skills as a list of queue ids or a mapping queue -> priority | {priority, overflow_after}."""
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        if not value:
            ctx.add(path, "must name at least one queue")
            return None
        entries = [(join(path, k), k, v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        if not value:
            ctx.add(path, "must name at least one queue")
            return None
        entries = [(item(path, i), q, None) for i, q in enumerate(value)]
    else:
        ctx.add(path, "must be a list of queue ids or a mapping of queue id to priority, "
                f"got {F.describe(value)}")
        return None
    skills, seen, ok = [], set(), True
    for p, qid, spec in entries:
        qid = F.queue_ref(ctx, qid if isinstance(value, (list, tuple)) else str(qid), p, queue_ids)
        if qid in seen:
            ctx.add(p, f"names queue {qid!r} twice")
        seen.add(qid)
        priority, overflow = MISSING, MISSING
        if isinstance(spec, Mapping):
            sm = F.mapping(ctx, spec, p, SKILL_KEYS)
            priority = F.number(ctx, sm.get("priority", MISSING), join(p, "priority"), integer=True, ge=1)
            overflow = F.number(ctx, sm.get("overflow_after", MISSING), join(p, "overflow_after"), ge=0)
        elif spec is not None:
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                priority = F.number(ctx, spec, p, integer=True, ge=1)
            else:
                ctx.add(p, "must be a priority (1 = first) or a mapping with priority and "
                        f"overflow_after, got {F.describe(spec)}")
                priority = None
        if priority is MISSING:
            priority = priorities.get(qid) or 1  # the queue's default priority
        ok = ok and qid is not None and priority is not None and overflow is not None
        skills.append(Skill(queue=qid, priority=priority, **F.given(overflow_after=overflow)))
    return tuple(skills) if ok else None


def _staffing(ctx, value, path, horizon, csv=(None, frozenset(), None, None)) -> Staffing | None:
    """The pool's staffing; ``csv`` is (base_dir, pool ids, this pool's id, its site) for
    ``per_interval_csv``."""
    if value is MISSING:
        return None
    m = F.mapping(ctx, value, path, STAFFING_KEYS)
    if m is None:
        return None
    present = [k for k in STAFFING_KEYS if k in m]
    if len(present) != 1:
        found = f"; found {' and '.join(present)}" if present else ""
        ctx.add(path, f"give exactly one of agents, per_interval, per_interval_csv or shifts{found}")
    agents = F.number(ctx, m.get("agents", MISSING), join(path, "agents"), integer=True, ge=0)
    per_interval = MISSING
    if "per_interval" in m:
        per_interval = F.numbers(ctx, m["per_interval"], join(path, "per_interval"), integer=True)
        if per_interval is not None:
            F.check_length(ctx, join(path, "per_interval"), len(per_interval), horizon)
    shifts = MISSING
    if "shifts" in m:
        items = F.sequence(ctx, m["shifts"], join(path, "shifts"), nonempty=True)
        shifts = None if items is None else tuple(
            _shift(ctx, raw, item(join(path, "shifts"), i)) for i, raw in enumerate(items)
        )
    source = MISSING
    if "per_interval_csv" in m:
        source = F.text(ctx, m["per_interval_csv"], join(path, "per_interval_csv"))
        if isinstance(source, str) and horizon is not None:
            base_dir, pool_ids, pool_id, site = csv
            per_interval = read_staffing_csv(ctx, source, join(path, "per_interval_csv"), horizon,
                                             base_dir, pool_id, pool_ids, site)
    return Staffing(**F.given(agents=agents, per_interval=per_interval, shifts=shifts,
                              per_interval_csv=source))


def _shift(ctx: Context, value: object, path: str) -> Shift | None:
    m = F.mapping(ctx, value, path, SHIFT_KEYS, required=("start", "hours", "agents"))
    if m is None:
        return None
    start = _time(ctx, m.get("start", MISSING), join(path, "start"))
    hours = F.number(ctx, m.get("hours", MISSING), join(path, "hours"), gt=0, le=24)
    agents = F.number(ctx, m.get("agents", MISSING), join(path, "agents"), integer=True, ge=0)
    days = _weekdays(ctx, m["days"], join(path, "days")) if "days" in m else MISSING
    if any(v in (None, MISSING) for v in (start, hours, agents)) or days is None:
        return None  # already reported; cross-checks skip an unusable shift
    return Shift(start=start, hours=hours, agents=agents, **F.given(days=days))


def _weekdays(ctx: Context, value: object, path: str) -> tuple[str, ...] | None:
    items = F.sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    days = [F.text(ctx, d, item(path, i), choices=WEEKDAYS) for i, d in enumerate(items)]
    if None in days:
        return None
    if len(set(days)) != len(days):
        ctx.add(path, "names a day twice")
        return None
    return tuple(days)


def _time(ctx: Context, value: object, path: str) -> dt.time | None:
    if value is MISSING:
        return None
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        match = _TIME.match(value.strip())
        if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
            return dt.time(int(match.group(1)), int(match.group(2)))
    ctx.add(path, f'must be a time of day "HH:MM" (00:00 to 23:59), got {F.describe(value)}')
    return None


# --- simulation and cross-checks -----------------------------------------------------


def _simulation(ctx: Context, value: object, horizon: Horizon | None):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, "simulation", SIMULATION_KEYS)
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    warmup = F.number(ctx, get("warmup_minutes"), "simulation.warmup_minutes", ge=0)
    if isinstance(warmup, float) and horizon is not None and warmup * 60 >= horizon.seconds:
        ctx.add("simulation.warmup_minutes",
                f"must be shorter than the horizon ({horizon.days * 1440} minutes)")
    measure = _measure(ctx, get("measure"), horizon, warmup if isinstance(warmup, float) else 0.0)
    return SimulationSettings(**F.given(
        replications=F.number(ctx, get("replications"), "simulation.replications", integer=True, ge=1),
        seed=F.number(ctx, get("seed"), "simulation.seed", integer=True, ge=0),
        warmup_minutes=warmup,
        keep_contacts=F.boolean(ctx, get("keep_contacts"), "simulation.keep_contacts"),
        keep_agent_states=F.boolean(ctx, get("keep_agent_states"), "simulation.keep_agent_states"),
        measure=measure,
        engine=F.text(ctx, get("engine"), "simulation.engine", choices=ENGINES),
    ))


def _measure(ctx: Context, value: object, horizon: Horizon | None, warmup: float):
    """``measure: {from: "09:00", to: "17:00", days: [mon, ...]}``: the window of each day
    that run-level figures cover; both ends on interval boundaries."""
    path = "simulation.measure"
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, MEASURE_KEYS)
    if m is None:
        return None
    start = _time(ctx, m["from"], join(path, "from")) if "from" in m else MISSING
    end = MISSING
    if isinstance(m.get("to"), str) and m["to"].strip() == "24:00":
        end = None  # midnight: the end of the day
    elif "to" in m:
        end = _time(ctx, m["to"], join(path, "to"))
        if end is None:
            return None
    days = _weekdays(ctx, m["days"], join(path, "days")) if "days" in m else MISSING
    if start is None or days is None:
        return None
    window = MeasureWindow(**F.given(start=start, end=end, days=days))
    lo = window.start.hour * 60 + window.start.minute
    hi = 1440 if window.end is None else window.end.hour * 60 + window.end.minute
    if hi <= lo:
        ctx.add(path, f"'to' ({_hhmm(hi)}) must be later than 'from' ({_hhmm(lo)}); a window "
                "cannot run past midnight (\"24:00\" is the end of the day)")
        return None
    if horizon is None:
        return window
    step = horizon.interval_minutes
    for key, minutes in (("from", lo), ("to", hi)):
        if key in m and minutes % step:
            ctx.add(join(path, key), f"must fall on a boundary of the {step}-minute intervals, "
                    f"got {_hhmm(minutes)}")
            return None
    covered = window.covers(horizon)
    skip = int(-(-warmup * 60 // horizon.interval_seconds))  # intervals left to the warm-up
    if not any(covered[skip:]):
        ctx.add(path, "covers no interval of the horizon after the warm-up "
                f"({horizon.days} day(s) from {horizon.start}, {WEEKDAYS[horizon.start.weekday()]})")
        return None
    return window


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_served(ctx: Context, raw_queues: list, queues: list, pools: list) -> None:
    """Every queue that receives contacts (arrivals or escalations) needs a pool that serves it."""
    if any(p is None or p.skills is None for p in pools):
        return  # a pool's skills are invalid: already reported, and the answer is unknown
    served = {s.queue for p in pools for s in p.skills}
    targets = {e.to for q in queues if q is not None and q.escalations for e in q.escalations}
    for i, raw in enumerate(raw_queues):
        qid = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(qid, str) or qid in served:
            continue
        if raw.get("arrivals") is not None:
            ctx.add(item("queues", i), f"queue {qid!r} has arrivals but no pool serves it; "
                    "add it to the skills of a pool")
        elif qid in targets:
            ctx.add(item("queues", i), f"queue {qid!r} receives escalations but no pool serves it; "
                    "add it to the skills of a pool")
