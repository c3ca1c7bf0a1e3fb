"""Edge cases found in review: overruns through later spans, the horizon's end,
progressive rounds that overlap, breaks of leavers, narrow break windows, resuming
with another bposim version."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pytest
from helpers import MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing

import bposim
from bposim.distributions import DistributionSpec
from bposim.engine.core import Engine
from bposim.engine.recorder import DIALING
from bposim.engine.roster import Span, plan_breaks
from bposim.engine.workforce import staffers
from bposim.errors import InputError
from bposim.rng import Streams
from bposim.scenario.schema import Attrition, Break, Shift


def _desk(per_interval, handle, days=1, interval=15, volume=4.0):
    n = 24 * 60 // interval
    return Scenario(
        name="desk", horizon=Horizon(start=MONDAY, days=days, interval_minutes=interval),
        queues=(Queue(id="q", handle_time=handle, arrivals=Arrivals(volumes=(volume,) * n)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(per_interval=tuple(per_interval))),),
        simulation=SimulationSettings(keep_agent_states=True),
    )


@pytest.mark.parametrize("seed", range(6))
def test_overrun_through_the_next_span_neither_crashes_nor_double_counts(seed):
    # ragged headcount: short spans with gaps, calls far longer than a span
    heads = [2, 1] * 48
    sc = _desk(heads, DistributionSpec("lognormal", mean=900, cv=1.0), days=2)
    one = bposim.simulate(sc, seed=seed)
    t = one.totals.set_index(["metric", "scope"])["value"]
    scheduled = sum(heads) * 900 * 2 / 3600
    assert t[("paid_hours", "pool:p")] == pytest.approx(scheduled)
    p = one.pools
    worked = (p["busy_s"] + p["idle_s"]).sum() / 3600
    # every hour of agent time is either scheduled (paid) or overrun, never both
    assert worked <= t[("paid_hours", "pool:p")] + t[("overrun_hours", "pool:p")] + 1e-6
    assert t[("overrun_hours", "pool:p")] >= 0


def test_overrun_at_the_end_of_the_horizon_is_counted():
    heads = [0] * 92 + [1] * 2 + [0] * 2  # one agent, 23:00-23:30, a 2-hour call
    sc = _desk(heads, DistributionSpec("deterministic", mean=7200), volume=0.0)
    q = replace(sc.queues[0], arrivals=Arrivals(volumes=tuple([0.0] * 92 + [1.0] + [0.0] * 3)))
    sc = replace(sc, queues=(q,))
    for seed in range(5):
        t = bposim.simulate(sc, seed=seed).totals.set_index(["metric", "scope"])["value"]
        if t[("answered", "queue:q")] == 0:
            continue
        busy_h = t[("utilisation", "pool:p")] * t[("paid_hours", "pool:p")]
        assert busy_h <= t[("paid_hours", "pool:p")] + t[("overrun_hours", "pool:p")] + 1e-9
        assert t[("overrun_hours", "pool:p")] > 0
        return
    pytest.fail("no replication answered the call")


def test_progressive_rounds_never_release_an_agent_with_dials_ringing():
    from test_outbound import _campaign, _outbound

    sc = _outbound(_campaign("progressive", dials_per_agent=2.5, ring_seconds=60))
    engine = Engine(bposim.compile_scenario(sc), Streams(3))
    released = []
    free = engine._free

    def watch(agent):
        if agent.state == DIALING:
            released.append(agent.dials_out)
        free(agent)

    engine._free = watch
    engine.run()
    assert released and min(released) == 0 and max(released) == 0
    assert all(a.dials_out >= 0 for p in engine.pools for a in p.agents)


def test_leavers_keep_no_breaks_after_they_leave():
    sc = Scenario(
        name="att", horizon=Horizon(start=MONDAY, days=28),
        queues=(Queue(id="q", handle_time=DistributionSpec("exponential", mean=200)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(shifts=(
            Shift(start=dt.time(8), hours=8, agents=30),)),
            breaks=(Break(15, 1.5, 3.0), Break(30, 3.5, 5.0)), attrition=Attrition(40.0, 1.0)),),
    )
    pool = bposim.compile_scenario(sc).pools[0]
    people = staffers(pool, sc.horizon.seconds, np.random.default_rng(1))
    assert any(p.left is not None for p in people)
    for person in people:
        for span in person.spans:
            for start, secs in span.breaks:
                assert span.start <= start and start + secs <= span.end + 1e-9


def test_a_window_narrower_than_the_grid_is_respected():
    horizon = Horizon(start=MONDAY, days=1)
    agents = [[Span(8.117 * 3600, 9.387 * 3600)]]
    # a 10-min break may start 1.05 h in; it must end by 9.387 h, so it can start no later
    # than 9.220 h: a window of 3 minutes, with no 5-minute grid point inside it
    plan_breaks(agents, horizon, (Break(10, 1.05, 1.3),))
    (start, secs), = agents[0][0].breaks
    assert (8.117 + 1.05) * 3600 - 1e-6 <= start <= 9.387 * 3600 - 600 + 1e-6
    assert start + secs <= 9.387 * 3600 + 1e-6


def test_resume_refuses_a_directory_of_another_bposim_version(tmp_path):
    from helpers import single_queue

    sc = single_queue(60, 180, 4, hours=2)
    out = tmp_path / "res"
    bposim.run_to_directory(sc, out, replications=1, seed=1, executor="serial")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["bposim_version"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="bposim 0.0.1"):
        bposim.run_to_directory(sc, out, replications=2, seed=1, executor="serial")
