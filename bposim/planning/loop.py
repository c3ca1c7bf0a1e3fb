"""Stage 3: schedule, simulate the schedule, raise what still misses, schedule again.

In the spirit of Atlason, Epelman & Henderson (2004), whose simulation adds cuts to
the scheduling program where service falls short: here a shortfall raises the
requirement of the pools answering the queue — in each interval that misses its target
with confidence, or, for a day that misses its daily target, in that day's measured
intervals (after the warm-up, inside ``simulation.measure``) below the target — above
what the schedule gave them (steps as in stage 1), and the program is solved again. A
schedule that meets its targets in the first round is returned as it was; otherwise
the loop stops when the targets hold or after ``rounds`` more rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from bposim.montecarlo import run
from bposim.planning.evaluate import Assessment, Target, assess, measured_intervals
from bposim.planning.requirements import home_pools, raise_step
from bposim.planning.schedule import covered, solve
from bposim.planning.templates import Columns, planned_scenario, schedule_frame
from bposim.scenario.planning import PlanningSpec
from bposim.scenario.schema import Scenario


@dataclass
class Round:
    """One schedule and its simulated evaluation."""

    need: np.ndarray
    counts: np.ndarray
    attainment: pd.DataFrame
    summary: pd.DataFrame  # the simulation's run-level summary (metric, scope, mean, CI)
    arrays: dict  # the assessment's arrays: sl_mean, miss, day_miss, occupancy_miss
    seconds: dict  # solve and simulate times

    @property
    def met(self) -> bool:
        a = self.arrays
        return not (a["miss"].any() or a["day_miss"].any() or a["occupancy_miss"].any())


def raise_need(scenario: Scenario, columns: Columns, need: np.ndarray, have: np.ndarray,
               arrays: dict, targets: list[Target]) -> np.ndarray:
    """The requirement for the next round: above what the schedule gave where it missed."""
    h = scenario.horizon
    per_day = h.intervals_per_day
    pools = columns.pools
    measured = measured_intervals(scenario)  # a day's figure counts only these intervals
    out = need.copy()
    for k, t in enumerate(targets):
        homes = home_pools(scenario, t.queue, pools)
        sl = arrays["sl_mean"][k]
        gap = t.service_level - sl
        hit = arrays["miss"][k].copy()
        for d in np.nonzero(arrays["day_miss"][k])[0]:
            day = slice(d * per_day, (d + 1) * per_day)
            hit[day] |= (np.nan_to_num(sl[day], nan=1.0) < t.service_level) & measured[day]
        for g in homes:
            base = np.floor(have[g] + 1e-9)
            out[g] = np.where(hit, np.maximum(out[g], base + raise_step(gap, base)), out[g])
    for j, pid in enumerate(arrays["pools"]):
        if pid in pools:
            g = pools.index(pid)
            bad = arrays["occupancy_miss"][j]
            out[g] = np.where(bad, np.maximum(out[g], np.floor(have[g] + 1e-9) + 1), out[g])
    return out


def evaluate_schedule(scenario: Scenario, columns: Columns, spec: PlanningSpec, targets: list[Target],
                      need: np.ndarray, *, replications: int, seed: int, run_kw: dict) -> Round:
    """Solve the program for ``need`` and simulate the resulting schedule."""
    import time

    t0 = time.perf_counter()
    sol = solve(columns.problem(need, spec, scenario.horizon))
    t1 = time.perf_counter()
    planned = planned_scenario(scenario, columns, sol.counts, spec)
    res = run(planned, replications, seed, **run_kw)
    a: Assessment = assess(res, targets, spec)
    arrays = {"sl_mean": a.sl_mean, "miss": a.miss, "day_miss": a.day_miss,
              "occupancy_miss": a.occupancy_miss, "pools": np.array(a.pools)}
    return Round(need, sol.counts, a.attainment, res.summary, arrays,
                 {"solve": t1 - t0, "simulate": time.perf_counter() - t1})


def closed_loop(scenario: Scenario, columns: Columns, spec: PlanningSpec, targets: list[Target],
                need: np.ndarray, *, rounds: int, replications: int, seed: int, run_kw: dict,
                load: Callable[[int], Round | None] = lambda k: None,
                save: Callable[[int, Round], None] = lambda k, r: None,
                progress: Callable[[str], None] | None = None) -> list[Round]:
    """Rounds 0..``rounds`` until the targets hold; ``load``/``save`` keep finished rounds."""
    done: list[Round] = []
    for k in range(rounds + 1):
        r = load(k)
        if r is None:
            r = evaluate_schedule(scenario, columns, spec, targets, need, replications=replications,
                                  seed=seed, run_kw=run_kw)
            save(k, r)
        done.append(r)
        if progress is not None:
            progress(f"round {k}: {'targets met' if r.met else 'targets missed'}")
        if r.met or k == rounds:
            break
        problem = columns.problem(need, spec, scenario.horizon)
        new = raise_need(scenario, columns, need, covered(problem, r.counts), r.arrays, targets)
        new = np.where(columns.cover_any, new, need)  # no shift can be on duty there
        if np.array_equal(new, need):
            break
        need = new
    return done


def round_row(k: int, r: Round, columns: Columns, spec: PlanningSpec) -> dict:
    """A line of the rounds table: cost, paid hours, misses and each queue's service level."""
    sched = schedule_frame(columns, r.counts, spec)
    att = r.attainment[(r.attainment["scope"] == "all") & (r.attainment["metric"] == "service_level")]
    sl = "; ".join(f"{q} {v:.1%} [{lo:.1%}, {hi:.1%}]"
                   for q, v, lo, hi in att[["queue", "value", "ci_low", "ci_high"]].itertuples(index=False))
    return {"round": k, "cost": float(sched["cost"].sum()), "paid_hours": float(sched["paid_hours"].sum()),
            "intervals_missed": int(r.arrays["miss"].sum()), "days_missed": int(r.arrays["day_miss"].sum()),
            "occupancy_missed": int(r.arrays["occupancy_miss"].sum()), "met": bool(r.met),
            "service_level": sl, "solve_s": r.seconds.get("solve", 0.0),
            "simulate_s": r.seconds.get("simulate", 0.0)}

