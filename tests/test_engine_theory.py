"""The simulator against queueing theory: Erlang C, Erlang A, Little's law, conservation.

Each check runs independent replications and asks that the analytic value lie in the
replications' 99.9 % Student-t interval. The horizons start with a warm-up so the
empty-system start does not bias the steady-state comparison.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import assert_matches, single_queue, values

import bposim
from bposim import erlang
from bposim.scenario.schema import Arrivals


def _run(scenario, reps, seed=7):
    return bposim.run(scenario, replications=reps, seed=seed, executor="serial")


@pytest.mark.parametrize(
    "rate, aht, agents, hours, reps",
    [
        (200, 180, 12, 24, 30),  # load 10 Erlangs, small centre (P(wait) 0.45)
        (3800, 180, 200, 4, 12),  # load 190 Erlangs, large centre
    ],
)
def test_erlang_c(rate, aht, agents, hours, reps):
    sc = single_queue(rate, aht, agents, hours=hours, warmup_minutes=60)
    res = _run(sc, reps)
    load = rate * aht / 3600
    assert_matches(values(res, "p_wait", "queue:q"), float(erlang.erlang_c(load, agents)), label="P(wait)")
    assert_matches(values(res, "asa", "queue:q"), float(erlang.asa(load, agents, aht)), label="ASA")
    assert_matches(values(res, "service_level", "queue:q"),
                   float(erlang.service_level(load, agents, aht, 20)), label="SL")
    busy = res.pools[(res.pools["interval"] >= 2) & (res.pools["interval"] < 2 * hours)]
    occ = busy.groupby("replication").apply(lambda f: f["busy_s"].sum() / (f["busy_s"] + f["idle_s"]).sum())
    assert_matches(occ.to_numpy(), load / agents, label="occupancy")


@pytest.mark.parametrize(
    "rate, aht, agents, patience, hours, reps",
    [
        (240, 180, 11, 120, 24, 30),  # overloaded without abandonment (load 12 > 11 agents)
        (4000, 180, 200, 90, 4, 12),
    ],
)
def test_erlang_a(rate, aht, agents, patience, hours, reps):
    sc = single_queue(rate, aht, agents, patience=patience, hours=hours, warmup_minutes=60)
    res = _run(sc, reps)
    load = rate * aht / 3600
    theory = erlang.erlang_a(load, agents, aht, patience, 20)
    assert_matches(values(res, "p_wait", "queue:q"), float(theory.p_wait), label="P(wait)")
    assert_matches(values(res, "abandon_rate", "queue:q"), float(theory.p_abandon), label="P(abandon)")
    assert_matches(values(res, "asa", "queue:q"), float(theory.asa), label="ASA")
    assert_matches(values(res, "sl_offered", "queue:q"), float(theory.service_level), label="SL")
    assert_matches(values(res, "sl_answered", "queue:q"), float(theory.service_level_answered),
                   label="SL answered")


def test_littles_law_and_conservation_hold_on_every_path():
    """L = λW over the whole horizon is a sample-path identity: the area under the
    number-waiting curve equals the sum of all waits (abandons and the censored
    waits of contacts still queued at the end included)."""
    sc = single_queue(300, 200, 15, patience=60)  # load 16.7 on 15 agents: long queues
    res = _run(sc, 4)
    horizon = sc.horizon.seconds
    L = values(res, "mean_queue_length", "queue:q")
    W = values(res, "mean_wait", "queue:q")
    offered = values(res, "offered", "queue:q")
    np.testing.assert_allclose(L * horizon, W * offered, rtol=1e-9)
    answered = values(res, "answered", "queue:q")
    abandoned = values(res, "abandoned", "queue:q")
    waiting = values(res, "unanswered_at_end", "queue:q")
    np.testing.assert_array_equal(offered, answered + abandoned + waiting)
    np.testing.assert_array_equal(answered, values(res, "handled", "pool:p"))
    # per interval too
    f = res.intervals
    np.testing.assert_array_equal(f["offered"], f["answered"] + f["abandoned"] + f["unanswered_at_end"])


def test_time_varying_arrivals_follow_the_forecast():
    """Counts per interval summed over R replications are Poisson(R × forecast)."""
    shape = np.concatenate([np.zeros(14), np.linspace(20, 120, 10), np.full(8, 120),
                            np.linspace(120, 30, 10), np.zeros(6)])
    sc = single_queue(1, 180, 60)
    q = replace(sc.queues[0], arrivals=Arrivals(volumes=tuple(shape)))
    sc = replace(sc, queues=(q,))
    reps = 20
    res = _run(sc, reps)
    counts = res.intervals.groupby("interval")["offered"].sum().to_numpy()
    expected = reps * shape
    z = np.abs(counts - expected) / np.sqrt(np.maximum(expected, 1e-9))
    assert counts[expected == 0].sum() == 0
    assert z[expected > 0].max() < 4.5, z.max()
