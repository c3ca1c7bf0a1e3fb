"""Confidence intervals respect each metric's range and keep their coverage.

Synthetic batches of replication values from known distributions (no simulation): the
share of batches whose 95 % interval contains the true mean is the coverage. With 4 000
batches its Monte Carlo standard error is about 0.0035, so the bounds below (0.93 and,
where the interval should be close to exact, 0.97) sit about six standard errors from
0.95. The generator is seeded so the suite is reproducible; the tolerances, not the
seed, carry the check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bposim.montecarlo import CONFIDENCE, interval_bounds, metric_kind, summarise

BATCHES = 4000


def _summary(values: np.ndarray, name: str) -> pd.DataFrame:
    b, n = values.shape
    frame = pd.DataFrame({"batch": np.repeat(np.arange(b), n), "replication": np.tile(np.arange(n), b),
                          name: values.ravel()})
    return summarise(frame, ["batch"], [name])


def _coverage(values: np.ndarray, truth: float, name: str) -> tuple[float, pd.DataFrame]:
    s = _summary(values, name)
    return float(np.mean((s["ci_low"] <= truth) & (truth <= s["ci_high"]))), s


def _t_coverage(values: np.ndarray, truth: float) -> float:
    n = values.shape[1]
    half = stats.t.ppf(0.975, n - 1) * values.std(axis=1, ddof=1) / np.sqrt(n)
    m = values.mean(axis=1)
    return float(np.mean((m - half <= truth) & (truth <= m + half)))


@pytest.mark.parametrize("p", [0.02, 0.98])
@pytest.mark.parametrize("n", [5, 10])
def test_share_intervals_stay_in_0_1_and_cover_with_few_replications(p, n):
    """Near 0 or 1 the plain t interval crosses the bound and loses coverage."""
    rng = np.random.default_rng(12)
    # each replication's share of 100 contacts (an abandon rate, a service level)
    shares = rng.binomial(100, p, (BATCHES, n)) / 100
    cov, s = _coverage(shares, p, "abandon_rate")
    assert (s["ci_low"] >= 0).all() and (s["ci_high"] <= 1).all()
    assert 0.93 <= cov <= 0.99, cov
    assert cov >= _t_coverage(shares, p) - 0.01


@pytest.mark.parametrize("p", [0.05, 0.95])
def test_bernoulli_replications_are_covered_whenever_they_vary(p):
    """Each replication a single 0/1 outcome (a quiet interval's service level). A batch
    that is all 0 (or all 1) gets a point interval, as a structurally constant share
    must (see docs/simulation.md); the batches that vary are covered."""
    rng = np.random.default_rng(8)
    bern = rng.binomial(1, p, (BATCHES, 10)).astype(float)
    s = _summary(bern, "service_level")
    assert (s["ci_low"] >= 0).all() and (s["ci_high"] <= 1).all()
    varies = bern.std(axis=1) > 0
    assert varies.sum() > 1000
    inside = ((s["ci_low"] <= p) & (p <= s["ci_high"])).to_numpy()
    assert inside[varies].mean() >= 0.93, inside[varies].mean()


def test_share_intervals_are_asymmetric_near_a_bound_and_match_t_far_from_it():
    rng = np.random.default_rng(3)
    near = _summary(rng.binomial(100, 0.03, (200, 10)) / 100, "sl_offered")
    up = near["ci_high"] - near["mean"]
    down = near["mean"] - near["ci_low"]
    assert (up[down > 0] > down[down > 0]).all()
    mid = rng.binomial(10000, 0.5, (200, 10)) / 10000
    s = _summary(mid, "occupancy")
    half = stats.t.ppf(0.975, 9) * mid.std(axis=1, ddof=1) / np.sqrt(10)
    np.testing.assert_allclose(s["ci_high"] - s["mean"], half, rtol=0.01)
    np.testing.assert_allclose(s["mean"] - s["ci_low"], half, rtol=0.01)


@pytest.mark.parametrize("draw, truth", [
    (lambda rng, shape: rng.exponential(30.0, shape), 30.0),  # waits: skewed
    (lambda rng, shape: rng.poisson(2.0, shape).astype(float), 2.0),  # small counts
])
def test_non_negative_intervals_stay_above_zero_and_keep_coverage(draw, truth):
    rng = np.random.default_rng(5)
    values = draw(rng, (BATCHES, 5))
    cov, s = _coverage(values, truth, "asa")
    assert (s["ci_low"] >= 0).all()
    assert cov >= 0.92, cov
    assert cov >= _t_coverage(values, truth) - 0.01


def test_degenerate_batches():
    # every replication the same share inside (0, 1): the interval is that value
    s = _summary(np.full((1, 6), 0.8), "service_level")
    assert s.loc[0, "ci_low"] == pytest.approx(0.8) and s.loc[0, "ci_high"] == pytest.approx(0.8)
    # every replication at 0 or 1 (no patience: nobody can abandon): exactly that
    s = _summary(np.vstack([np.zeros(10), np.ones(10)]), "abandon_rate")
    assert s.loc[0, "ci_low"] == s.loc[0, "ci_high"] == 0
    assert s.loc[1, "ci_low"] == s.loc[1, "ci_high"] == 1
    # a count that is 0 in every replication stays [0, 0]; one replication gives no interval
    s = _summary(np.zeros((1, 5)), "abandoned")
    assert s.loc[0, "ci_low"] == s.loc[0, "ci_high"] == 0
    s = _summary(np.array([[0.5]]), "service_level")
    assert np.isnan(s.loc[0, "ci_low"]) and np.isnan(s.loc[0, "ci_high"])


def test_signed_values_keep_the_student_t_interval():
    v = np.array([[-2.0, -1.0, 0.0, 1.0, 3.0]])
    s = _summary(v, "difference")
    half = stats.t.ppf(0.975, 4) * v.std(ddof=1) / np.sqrt(5)
    assert s.loc[0, "ci_low"] == pytest.approx(v.mean() - half)
    assert s.loc[0, "ci_high"] == pytest.approx(v.mean() + half)


def test_kinds_and_vectorised_bounds():
    assert metric_kind("sl_at_60") == "share" and metric_kind("p_wait") == "share"
    assert metric_kind("asa") == "other"
    lo, hi = interval_bounds([0.5, 10.0, -1.0], [0.0, 1.0, 1.0], [4, 4, 4], [True, False, False],
                             [True, True, False], CONFIDENCE)
    assert lo[0] == hi[0] == 0.5
    assert lo[1] > 0 and hi[1] > 10.0
    t = stats.t.ppf(0.975, 3)
    assert (lo[2], hi[2]) == pytest.approx((-1 - t, -1 + t))
