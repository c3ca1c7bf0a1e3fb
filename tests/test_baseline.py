"""The Erlang baseline beside simulated results: what agents it credits to a queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
from helpers import Pool, Skill, Staffing, single_queue

import bposim
from bposim import erlang
from bposim.scenario.schema import Break, Shift


def _baseline(sc):
    return bposim.queue_baseline(bposim.compile_scenario(sc)).set_index("interval")


def test_dedicated_pools_are_pooled():
    one = single_queue(200, 180, 14)
    two = replace(one, pools=(Pool(id="a", skills=(Skill("q"),), staffing=Staffing(agents=7)),
                              Pool(id="b", skills=(Skill("q"),), staffing=Staffing(agents=7))))
    expected = float(erlang.service_level(10.0, 14, 180, 20))
    for sc in (one, two):
        np.testing.assert_allclose(_baseline(sc)["erlang_service_level"], expected)


def test_shared_pools_get_no_agent_based_baseline():
    sc = single_queue(200, 180, 14)
    other = replace(sc.queues[0], id="other")
    sc = replace(sc, queues=(*sc.queues, other),
                 pools=(replace(sc.pools[0], skills=(Skill("q"), Skill("other"))),))
    assert "erlang_service_level" not in _baseline(sc)


def test_breaks_and_shrinkage_reduce_the_credited_agents():
    sc = single_queue(200, 180, 1)
    shifts = Staffing(shifts=(Shift(start=dt.time(0), hours=24, agents=20),))
    pool = replace(sc.pools[0], staffing=shifts, shrinkage=0.25,
                   breaks=(Break(60, 2, 2),), max_on_break=1.0)  # everyone off 02:00-03:00
    b = _baseline(replace(sc, pools=(pool,)))
    assert b.loc[0, "erlang_agents"] == 15  # 20 x 0.75
    assert b.loc[4, "erlang_agents"] == 0  # 02:00-02:30: all on break
