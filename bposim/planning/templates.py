"""Shift templates → the columns of the scheduling program, and a schedule → shifts.

One column per pool, template, start time, length and weekday: an agent who works that
shift on every such weekday of the horizon. Its coverage per interval is the share of
the interval it is on duty, less the expected share on a planned break, times
(1 − absenteeism). The engine staggers each break evenly over the start positions its
window allows (5-minute grid, see :mod:`bposim.engine.roster`), so an agent of the shift
is on that break at minute ``u`` with probability (positions that put minute ``u`` in
the break) / (positions): the *implicit* break formulation, exact on average over many
agents, approximate for two or three (the closed loop corrects what is left). Nothing
here draws a random number or imports SimPy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from bposim.engine.roster import GRID
from bposim.planning.schedule import Problem
from bposim.scenario.planning import PlanningSpec
from bposim.scenario.schema import WEEKDAYS, Break, Horizon, Scenario, Shift, Staffing

# Agents with no cost per hour still should not be scheduled for nothing: a tiny cost
# per paid hour makes the program prefer fewer paid hours among equal-cost schedules.
HOUR_WEIGHT = 1e-3


@dataclass(frozen=True)
class Column:
    pool: str
    site: str
    template: str
    start: dt.time
    hours: float
    day: str
    part_time: bool
    paid_hours: float  # per agent over the horizon, absence excluded
    cost: float  # per agent over the horizon


@dataclass(frozen=True)
class Columns:
    """Columns of every planned pool, with their arrays (see :class:`Problem`)."""

    items: tuple[Column, ...]
    cover: np.ndarray
    duty: np.ndarray
    group: np.ndarray
    site: np.ndarray
    pools: tuple[str, ...]  # planned pools: the groups, in scenario order
    sites: tuple[str, ...]

    @property
    def cover_any(self) -> np.ndarray:
        """Per pool and interval: can any of its shifts be available then?"""
        out = np.zeros((len(self.pools), self.cover.shape[1]), dtype=bool)
        for g in range(len(self.pools)):
            out[g] = (self.cover[self.group == g] > 0).any(axis=0)
        return out

    def problem(self, need: np.ndarray, spec: PlanningSpec, horizon: Horizon) -> Problem:
        plans = [spec.pool_plan(p) for p in self.pools]
        caps = dict(spec.site_max_headcount)
        cost = np.array([c.cost + HOUR_WEIGHT * c.paid_hours for c in self.items])
        return Problem(
            cover=self.cover, duty=self.duty, cost=cost, group=self.group, need=need,
            site=self.site, max_on_duty=tuple(p.max_headcount for p in plans),
            min_on_duty=tuple(p.min_headcount for p in plans),
            site_max=tuple(caps.get(s) for s in self.sites),
            part_time=np.array([c.part_time for c in self.items], dtype=bool),
            weight=np.array([_days_in(horizon, c.day) for c in self.items], dtype=float),
            part_time_share=tuple(p.part_time_share for p in plans),
            group_names=self.pools, interval_names=interval_names(horizon))


def interval_names(horizon: Horizon) -> tuple[str, ...]:
    start = pd.Timestamp(horizon.start)
    stamps = start + pd.to_timedelta(np.arange(horizon.n_intervals) * horizon.interval_seconds, unit="s")
    return tuple(s.strftime("%a %Y-%m-%d %H:%M") for s in stamps)


def _days_in(horizon: Horizon, day: str) -> int:
    return sum(WEEKDAYS[(horizon.start + dt.timedelta(days=d)).weekday()] == day
               for d in range(horizon.days))


def instants(start: dt.time, hours: float, day: str, horizon: Horizon, site_tz: str | None) -> list[float]:
    """Clock seconds (reference zone, from the horizon start) at which a shift starting at
    local ``start`` on every ``day`` begins, for each working that overlaps the horizon;
    the same conversion as :func:`bposim.engine.roster.shift_instants`, not clipped."""
    ref = ZoneInfo(horizon.timezone)
    local = ZoneInfo(site_tz or horizon.timezone)
    origin = dt.datetime.combine(horizon.start, dt.time(0))
    out = []
    for d in range(-1, horizon.days + 1):
        date = horizon.start + dt.timedelta(days=d)
        if WEEKDAYS[date.weekday()] != day:
            continue
        begin = dt.datetime.combine(date, start, tzinfo=local)
        s = (begin.astimezone(ref).replace(tzinfo=None) - origin).total_seconds()
        if s < horizon.seconds and s + hours * 3600 > 0:
            out.append(s)
    return out


def break_profile(hours: float, breaks: tuple[Break, ...], start_offset: float = 0.0) -> np.ndarray:
    """Expected share of an agent on a planned break at each minute of a shift.

    Break positions are the 5-minute grid points from ``earliest`` to ``latest`` hours
    after the start (no later than the shift end less the break), equally likely, as the
    engine's staggering spreads many agents evenly; ``start_offset``: the shift start's
    seconds past a grid point."""
    minutes = int(round(hours * 60))
    out = np.zeros(minutes)
    for b in breaks:
        length = int(round(b.minutes))
        lo = b.earliest * 3600 + start_offset
        hi = min(b.latest * 3600, hours * 3600 - b.minutes * 60) + start_offset
        first, last = int(np.ceil(lo / GRID - 1e-9)), int(np.floor(hi / GRID + 1e-9))
        if lo / 60 + b.minutes > minutes + 1e-9:
            continue  # does not fit: the engine skips it (validation refuses it)
        positions = [b.earliest * 60] if last < first else [(p * GRID - start_offset) / 60
                                                    for p in range(first, last + 1)]
        for pos in positions:
            a = int(round(pos))
            out[a:a + length] += 1.0 / len(positions)
    return np.minimum(out, 1.0)


def build_columns(scenario: Scenario, spec: PlanningSpec) -> Columns:
    """Every shift the planned pools may work, with coverage, seats and cost."""
    h = scenario.horizon
    sites = {s.id: s for s in scenario.sites}
    n, length = h.n_intervals, h.interval_seconds
    per = int(round(length / 60))
    items, cover, duty, group, site_idx = [], [], [], [], []
    site_names: list[str] = []
    pools = [p for p in scenario.pools if spec.pool_plan(p.id) is not None]
    for g, pool in enumerate(pools):
        plan = spec.pool_plan(pool.id)
        site = sites.get(pool.site) if pool.site else None
        tz = site.timezone if site else None
        rate = pool.cost_per_hour if pool.cost_per_hour is not None else (site.cost_per_hour if site else 0.0)
        present = 1.0 - pool.absenteeism
        if site and site.id not in site_names:
            site_names.append(site.id)
        for t in plan.templates:
            for hours in t.hours:
                minutes = int(round(hours * 60))
                for start in t.starts:
                    offset = (start.minute * 60) % GRID
                    avail = present * (1.0 - break_profile(hours, plan.breaks, offset))
                    for day in t.days:
                        c = np.zeros(n)
                        d = np.zeros(n)
                        for s in instants(start, hours, day, h, tz):
                            at = s + 60.0 * np.arange(minutes)
                            ok = (at >= 0) & (at < h.seconds)
                            idx = (at[ok] // length).astype(int)
                            np.add.at(c, idx, avail[ok])
                            np.add.at(d, idx, 1.0)
                        if not d.any():
                            continue
                        paid = float(d.sum()) / 60.0 * present
                        items.append(Column(pool.id, site.id if site else "", t.name, start, hours, day,
                                            t.part_time, paid, paid * rate))
                        cover.append(c / per)
                        duty.append(d / per)
                        group.append(g)
                        site_idx.append(site_names.index(site.id) if site else -1)
    k = len(items)
    return Columns(tuple(items), np.array(cover).reshape(k, n), np.array(duty).reshape(k, n),
                   np.array(group, dtype=int), np.array(site_idx, dtype=int),
                   tuple(p.id for p in pools), tuple(site_names))


def _breaks_text(breaks: tuple[Break, ...]) -> str:
    return "; ".join(f"{b.name} {b.minutes:g} min at {b.earliest:g}-{b.latest:g} h" for b in breaks)


def schedule_frame(columns: Columns, counts: np.ndarray, spec: PlanningSpec) -> pd.DataFrame:
    """One row per shift worked: site, pool, template, start, hours, day, breaks, count,
    paid hours and cost (over the horizon, absence excluded)."""
    rows = []
    for c, x in zip(columns.items, counts):
        if x > 0:
            plan = spec.pool_plan(c.pool)
            rows.append({"site": c.site, "pool": c.pool, "template": c.template,
                         "start": c.start.strftime("%H:%M"), "hours": c.hours, "day": c.day,
                         "breaks": _breaks_text(plan.breaks), "count": int(x),
                         "paid_hours": c.paid_hours * x, "cost": c.cost * x})
    cols = ["site", "pool", "template", "start", "hours", "day", "breaks", "count", "paid_hours", "cost"]
    return pd.DataFrame(rows, columns=cols)


def planned_scenario(scenario: Scenario, columns: Columns, counts: np.ndarray,
                     spec: PlanningSpec) -> Scenario:
    """``scenario`` with each planned pool staffed by the chosen shifts and its breaks."""
    shifts: dict[str, list[Shift]] = {p: [] for p in columns.pools}
    for c, x in zip(columns.items, counts):
        if x > 0:
            shifts[c.pool].append(Shift(start=c.start, hours=c.hours, agents=int(x), days=(c.day,)))
    pools = []
    for pool in scenario.pools:
        if pool.id in shifts:
            plan = spec.pool_plan(pool.id)
            if shifts[pool.id]:
                pool = replace(pool, staffing=Staffing(shifts=tuple(shifts[pool.id])),
                               breaks=plan.breaks)
            else:
                pool = replace(pool, staffing=Staffing(agents=0), breaks=(), absenteeism=0.0)
        pools.append(pool)
    return replace(scenario, pools=tuple(pools))


def requirement_scenario(scenario: Scenario, pools: tuple[str, ...], need: np.ndarray) -> Scenario:
    """``scenario`` with the planned pools staffed per interval by ``need`` (agents on duty,
    before shrinkage): no shifts, breaks or absence, which the schedule adds later."""
    out = []
    for pool in scenario.pools:
        if pool.id in pools:
            heads = np.ceil(need[pools.index(pool.id)] - 1e-9).astype(int)
            pool = replace(pool, staffing=Staffing(per_interval=tuple(int(v) for v in heads)),
                           breaks=(), absenteeism=0.0)
        out.append(pool)
    return replace(scenario, pools=tuple(out))

