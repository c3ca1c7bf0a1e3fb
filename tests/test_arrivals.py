"""Arrivals are Poisson with the forecast mean, at small counts too.

Offered contacts per interval, summed over R independent replications, are
Poisson(R × forecast) for each interval. Each check is an exact two-sided Poisson
test on that sum, Bonferroni-corrected over the intervals tested, at a family-wise
level of 1e-4, so a correct engine fails about once in ten thousand runs while an
engine that offers one contact too many per replication (R extra contacts on a
mean of 2R) fails every time. The engine is called directly (no metric frames) to
keep hundreds of replications quick.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import MONDAY, Arrivals, Horizon, single_queue
from scipy import stats

from bposim.engine.core import simulate_model
from bposim.engine.model import compile_scenario
from bposim.rng import Streams, replication_seeds

FAMILY_ALPHA = 1e-4


def _offered(scenario, reps: int, seed: int = 2026) -> np.ndarray:
    """Offered per replication and interval (reps x intervals)."""
    model = compile_scenario(scenario)
    out = np.empty((reps, model.n_intervals))
    for r, seq in enumerate(replication_seeds(seed, reps)):
        out[r] = simulate_model(model, Streams(seq)).queues[0].offered
    return out


def _with_volumes(volumes, days: int = 1):
    sc = single_queue(1, 60, 5)
    q = replace(sc.queues[0], arrivals=Arrivals(volumes=tuple(float(v) for v in volumes)))
    return replace(sc, queues=(q,), horizon=Horizon(start=MONDAY, days=days))


def _assert_poisson(totals: np.ndarray, means: np.ndarray, label: str) -> None:
    """Each total is inside the exact Poisson interval of its mean (zero where the mean is)."""
    assert totals[means == 0].sum() == 0, f"{label}: contacts in intervals with no forecast"
    k = np.count_nonzero(means)
    a = FAMILY_ALPHA / max(k, 1)
    lo = stats.poisson.ppf(a / 2, means)
    hi = stats.poisson.isf(a / 2, means)
    bad = np.flatnonzero((means > 0) & ((totals < lo) | (totals > hi)))
    assert bad.size == 0, (
        f"{label}: intervals {bad.tolist()} offered {totals[bad].tolist()}, "
        f"expected {means[bad].tolist()} (interval {lo[bad].tolist()}-{hi[bad].tolist()})")


@pytest.mark.parametrize("volumes", [
    [2] + [0] * 47,  # two expected contacts, all in the first interval
    [0] * 30 + [2] + [0] * 17,  # the same in a later interval
    [0.5] * 4 + [0] * 44,  # under one contact per interval
    [2 / 48] * 48,  # two contacts a day, spread evenly
])
def test_offered_per_interval_is_poisson_with_the_forecast_mean(volumes):
    reps = 400
    offered = _offered(_with_volumes(volumes), reps)
    _assert_poisson(offered.sum(axis=0), reps * np.asarray(volumes, dtype=float), f"{volumes[:3]}...")
    # run level too: the day's total is Poisson(sum of the forecast)
    _assert_poisson(np.array([offered.sum()]), np.array([reps * sum(volumes)]), "daily total")


def test_every_day_of_a_longer_horizon_gets_its_own_poisson_count():
    reps = 200
    day = [0] * 20 + [1.5] + [0] * 27
    offered = _offered(_with_volumes(day, days=3), reps)
    _assert_poisson(offered.sum(axis=0), reps * np.tile(np.asarray(day, dtype=float), 3), "3 days")


def test_no_two_arrivals_share_an_instant():
    """Arrival times are continuous: a repeated time means a contact offered twice."""
    sc = _with_volumes([3] + [0] * 47)
    model = compile_scenario(replace(sc, simulation=replace(sc.simulation, keep_contacts=True)))
    for seq in replication_seeds(5, 50):
        rec = simulate_model(model, Streams(seq))
        arrivals = [c[4] for c in rec.contacts]
        assert len(arrivals) == len(set(arrivals)) == sum(rec.queues[0].offered)
