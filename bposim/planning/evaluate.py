"""Judge simulated results against the planning targets, with confidence.

Service level uses the queue's own definition (offered, answered, or offered less
short abandons). Per interval, the value of each replication is that interval's
service level; per day and per queue, the day's (or run's) contacts are pooled within
each replication, over the intervals the run-level figures cover (after the warm-up,
inside ``simulation.measure``: a day outside the window has no daily figure); per
interval, every interval is judged, in the window or not. Across replications a
Student-t interval (95 %) is formed: a target is *missed with confidence* when the
whole interval lies on the wrong side of it, and *clearly exceeded* when the whole
interval lies on the right side. Pure numpy/pandas.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from bposim.montecarlo import CONFIDENCE, Results
from bposim.scenario.planning import PlanningSpec, QueueTarget
from bposim.scenario.schema import Scenario


@dataclass(frozen=True)
class Target:
    queue: str
    answer_within: float
    service_level: float
    definition: str
    per: tuple[str, ...]
    max_abandon: float | None
    constraints: tuple[str, ...]


def resolve_targets(scenario: Scenario, spec: PlanningSpec) -> list[Target]:
    """A target for every queue that receives contacts: the planning section's, else the
    queue's own service level per interval."""
    fed = {e.to for q in scenario.queues for e in q.escalations}
    out = []
    for q in scenario.queues:
        if q.arrivals is None and q.id not in fed:
            continue
        t = spec.target(q.id) or QueueTarget(queue=q.id)
        sl = t.service_level or q.service_level
        out.append(Target(q.id, float(sl.answer_within), float(sl.target), q.service_level.definition,
                          t.per, t.max_abandon, t.constraints))
    return out


def with_targets(scenario: Scenario, targets: list[Target]) -> Scenario:
    """The scenario with each queue's service level set to its planning target, so that
    the simulation measures the threshold the plan aims at."""
    by = {t.queue: t for t in targets}
    queues = tuple(replace(q, service_level=replace(q.service_level, answer_within=by[q.id].answer_within,
                                                    target=by[q.id].service_level))
                   if q.id in by else q for q in scenario.queues)
    return replace(scenario, queues=queues)


def measured_intervals(scenario: Scenario) -> np.ndarray:
    """Per interval of the horizon: counted in day and run figures (after the warm-up,
    inside ``simulation.measure``), as ``Model.measured`` is for the simulation's own."""
    h, sim = scenario.horizon, scenario.simulation
    n = h.n_intervals
    w0 = min(int(np.ceil(sim.warmup_minutes * 60 / h.interval_seconds - 1e-9)), n)
    keep = np.arange(n) >= w0
    if sim.measure is not None:
        keep &= np.array(sim.measure.covers(h), dtype=bool)
    return keep


def _t_limits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and CI limits over axis 0 ignoring NaN (NaN where fewer than 2 values)."""
    n = np.sum(~np.isnan(values), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no contacts there
        mean = np.nanmean(values, axis=0) if values.size else np.full(values.shape[1:], np.nan)
        sd = np.nanstd(values, axis=0, ddof=1)
        t = stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, t * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    mean = np.where(n >= 1, mean, np.nan)
    return mean, mean - half, mean + half


@dataclass
class Assessment:
    """Results against targets. Arrays are indexed [queue or pool, interval or day]."""

    attainment: pd.DataFrame
    queues: tuple[str, ...]
    sl_mean: np.ndarray  # per queue and interval
    miss: np.ndarray  # interval target missed with confidence (service level or abandonment)
    excess: np.ndarray  # every constraint clearly exceeded in the interval
    day_miss: np.ndarray  # per queue and day
    pools: tuple[str, ...]
    occupancy_miss: np.ndarray  # per pool and interval

    @property
    def met(self) -> bool:
        return not (self.miss.any() or self.day_miss.any() or self.occupancy_miss.any())


def _cube(frame: pd.DataFrame, key: str, names, column: str, n: int) -> np.ndarray:
    """frame[column] as an array [replication, key, interval]."""
    reps = np.sort(frame["replication"].unique())
    out = np.full((reps.size, len(names), n), np.nan)
    r = np.searchsorted(reps, frame["replication"].to_numpy())
    k = pd.Index(names).get_indexer(frame[key])
    ok = k >= 0
    out[r[ok], k[ok], frame["interval"].to_numpy()[ok]] = frame[column].to_numpy(dtype=float)[ok]
    return out


def assess(results: Results, targets: list[Target], spec: PlanningSpec) -> Assessment:
    """Attainment per queue (run, day, interval) and the misses that drive the plan."""
    sc = results.scenario
    h = sc.horizon
    n, per_day = h.n_intervals, h.intervals_per_day
    names = tuple(t.queue for t in targets)
    f = results.intervals
    within = _cube(f, "queue", names, "answered_within", n)
    offered = _cube(f, "queue", names, "offered", n)
    answered = _cube(f, "queue", names, "answered", n)
    short = _cube(f, "queue", names, "short_abandoned", n)
    abandoned = _cube(f, "queue", names, "abandoned", n)
    dens = {"offered": offered, "answered": answered, "offered_excl_short": offered - short}
    den = np.stack([dens[t.definition][:, k] for k, t in enumerate(targets)], axis=1) if targets \
        else offered
    keep = measured_intervals(sc)

    def ratio(a, b):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)

    sl_i = ratio(within, den)
    ab_i = ratio(abandoned, offered)
    days = h.days
    def day_sum(x):  # over each day's measured intervals
        x = np.where(keep, x, 0.0)[:, :, :days * per_day]
        return x.reshape(x.shape[0], x.shape[1], days, per_day).sum(axis=3)

    sl_d = ratio(day_sum(within), day_sum(den))
    ab_d = ratio(day_sum(abandoned), day_sum(offered))
    sl_all = ratio(within[:, :, keep].sum(axis=2), den[:, :, keep].sum(axis=2))
    ab_all = ratio(abandoned[:, :, keep].sum(axis=2), offered[:, :, keep].sum(axis=2))

    q = len(targets)
    miss = np.zeros((q, n), dtype=bool)
    excess = np.ones((q, n), dtype=bool)
    day_miss = np.zeros((q, days), dtype=bool)
    rows = []
    interval_names = (pd.Timestamp(h.start) + pd.to_timedelta(np.arange(n) * h.interval_seconds, unit="s"))
    day_names = [str((pd.Timestamp(h.start) + pd.Timedelta(days=d)).date()) for d in range(days)]
    sl_mean_all = np.full((q, n), np.nan)
    for k, t in enumerate(targets):
        checks = [("service_level", sl_i, sl_d, sl_all, t.service_level, "service_level" in t.constraints, 1)]
        if t.max_abandon is not None:
            checks.append(("abandon_rate", ab_i, ab_d, ab_all, t.max_abandon,
                           "abandonment" in t.constraints, -1))
        for metric, per_i, per_d, run, goal, binding, sign in checks:
            m, lo, hi = _t_limits(per_i[:, k])
            if metric == "service_level":
                sl_mean_all[k] = m
            bad = (hi < goal) if sign > 0 else (lo > goal)
            good = (lo > goal) if sign > 0 else (hi < goal)
            if binding and "interval" in t.per:
                miss[k] |= bad & ~np.isnan(m)
                excess[k] &= good | np.isnan(m)
            if "interval" in t.per:
                for i in np.nonzero(~np.isnan(m))[0]:
                    rows.append((t.queue, f"interval {interval_names[i]:%Y-%m-%d %H:%M}", metric,
                                 m[i], lo[i], hi[i], goal, sign, binding))
            if "day" in t.per:
                dm, dlo, dhi = _t_limits(per_d[:, k])
                dbad = (dhi < goal) if sign > 0 else (dlo > goal)
                if binding:
                    day_miss[k] |= dbad & ~np.isnan(dm)
                for d in np.nonzero(~np.isnan(dm))[0]:
                    rows.append((t.queue, f"day {day_names[d]}", metric, dm[d], dlo[d], dhi[d],
                                 goal, sign, binding))
            rm, rlo, rhi = _t_limits(run[:, k][:, None])
            rows.insert(0, (t.queue, "all", metric, rm[0], rlo[0], rhi[0], goal, sign, binding))
    att = pd.DataFrame(rows, columns=["queue", "scope", "metric", "value", "ci_low", "ci_high", "target",
                                      "_sign", "constraint"])
    ok = np.where(att["_sign"] > 0, att["value"] >= att["target"], att["value"] <= att["target"])
    att["met"] = ok
    att["missed_with_confidence"] = np.where(att["_sign"] > 0, att["ci_high"] < att["target"],
                                             att["ci_low"] > att["target"])
    att = att.drop(columns="_sign")
    order = {t.queue: i for i, t in enumerate(targets)}
    att = att.sort_values(["queue", "scope"], key=lambda s: s.map(order) if s.name == "queue"
                          else s.map(lambda v: (v != "all", v)), kind="stable").reset_index(drop=True)

    pools = tuple(p.id for p in sc.pools)
    occ_miss = np.zeros((len(pools), n), dtype=bool)
    for j, pool in enumerate(pools):
        plan = spec.pool_plan(pool)
        if plan is None or plan.max_occupancy is None:
            continue
        occ = _cube(results.pools, "pool", pools, "occupancy", n)[:, j]
        _m, lo, _hi = _t_limits(occ)
        occ_miss[j] = lo > plan.max_occupancy
    return Assessment(att, names, sl_mean_all, miss, excess, day_miss, pools, occ_miss)
