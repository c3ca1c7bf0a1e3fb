"""The vectorised break planner gives exactly the plan of the straightforward one.

``reference_plan_breaks`` below is the planner as first written (a slice per grid
position); ``plan_breaks`` must place every break of every example scenario and of
random small rosters (narrow windows, spans at the horizon's end) at the same place.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import bposim
from bposim.engine.roster import GRID, Span, agent_spans, plan_breaks
from bposim.scenario.schema import Break, Horizon

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "bposim" / "templates").glob("*.yaml"))
MONDAY = dt.date(2026, 3, 2)


def reference_plan_breaks(agents, horizon, breaks) -> None:
    """Greedy placement, one slice per candidate start: the specification."""
    slots = int(np.ceil(horizon.seconds / GRID)) + 1
    load = np.zeros(slots, dtype=np.int32)
    items = []
    for a, spans in enumerate(agents):
        for k, span in enumerate(spans):
            for b in breaks:
                lo, hi = span.start + b.earliest * 3600, span.start + b.latest * 3600
                if lo + b.minutes * 60 <= span.end + 1e-9:
                    items.append((lo, min(hi, span.end - b.minutes * 60), b.minutes * 60, a, k))
    placed = {}
    for lo, hi, secs, a, k in sorted(items):
        first, last = int(np.ceil(lo / GRID)), int(np.floor(hi / GRID))
        width = max(1, int(np.ceil(secs / GRID)))
        if last < first:
            pos = int(lo // GRID)
            load[pos:pos + width + 1] += 1
            placed.setdefault((a, k), []).append((lo, secs))
            continue
        best, best_load = first, None
        for pos in range(first, last + 1):
            peak = int(load[pos:pos + width].max(initial=0))
            if best_load is None or peak < best_load:
                best, best_load = pos, peak
        load[best:best + width] += 1
        placed.setdefault((a, k), []).append((best * GRID, secs))
    for (a, k), planned in placed.items():
        agents[a][k] = agents[a][k]._replace(breaks=tuple(sorted(planned)))


def _both(agents, horizon, breaks):
    ours, ref = copy.deepcopy(agents), copy.deepcopy(agents)
    plan_breaks(ours, horizon, breaks)
    reference_plan_breaks(ref, horizon, breaks)
    return ours, ref


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_gets_the_reference_break_plan(path):
    sc = bposim.load_scenario(path)
    horizon = sc.horizon
    if path.name == "large_centre.yaml":  # the reference takes seconds a week: one week is enough
        horizon = Horizon(start=horizon.start, days=min(horizon.days, 7), interval_minutes=horizon.interval_minutes,
                          timezone=horizon.timezone)
    sites = {s.id: s.timezone for s in sc.sites}
    checked = 0
    for pool in sc.pools:
        if pool.staffing.shifts is None or not pool.breaks:
            continue
        unplanned = agent_spans(pool.staffing, horizon, sites.get(pool.site), ())
        ours, ref = _both(unplanned, horizon, pool.breaks)
        assert ours == ref, pool.id
        assert ours == agent_spans(pool.staffing, horizon, sites.get(pool.site), pool.breaks)
        checked += sum(len(s.breaks) for spans in ours for s in spans)
    if checked == 0:
        pytest.skip("no planned breaks in this example")


def test_random_small_rosters_get_the_reference_break_plan():
    rng = np.random.default_rng(20261202)
    for _ in range(200):
        horizon = Horizon(start=MONDAY, days=int(rng.integers(1, 3)))
        agents = []
        for _ in range(int(rng.integers(1, 12))):
            spans = []
            for _ in range(int(rng.integers(1, 3))):
                start = float(rng.uniform(0, horizon.seconds))
                end = min(horizon.seconds, start + float(rng.uniform(0.2, 10)) * 3600)
                spans.append(Span(start, end))
            agents.append(spans)
        breaks = []
        for _ in range(int(rng.integers(1, 4))):
            lo = float(rng.uniform(0, 4))
            breaks.append(Break(float(rng.choice([3, 5, 10, 15, 30, 45, 60])), lo, lo + float(rng.uniform(0, 2))))
        ours, ref = _both(agents, horizon, tuple(breaks))
        assert ours == ref
