"""Confidence intervals respect each metric's range and keep their coverage.

Synthetic batches of replication values from known distributions (no simulation): the
share of batches whose 95 % interval contains the true mean is the coverage. With 4 000
batches its Monte Carlo standard error is about 0.0035, so the bounds below (0.93 and,
where the interval should be close to exact, 0.97) sit about six standard errors from
0.95, and those for skewed values from two or three replications (0.91, 0.92) about
five below the coverage measured over 40 000 batches. The generator is seeded so the suite is reproducible; the tolerances, not the
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


def _bounds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """interval_bounds of each row of non-negative replication values (not shares)."""
    b, n = values.shape
    se = values.std(axis=1, ddof=1) / np.sqrt(n)
    return interval_bounds(values.mean(axis=1), se, np.full(b, n), np.zeros(b, bool), np.ones(b, bool))


def test_two_replications_of_a_small_count_stay_within_the_t_limit():
    """Counts 4 and 0: t = 12.7 on one degree of freedom and t·se/m = 12.7, where the
    log-scale limit m·exp(t·se/m) would be about 650 000; the upper limit is that of the
    Student-t interval, the lower one stays at or above 0."""
    s = _summary(np.array([[4.0, 0.0]]), "abandoned")
    t = stats.t.ppf(0.975, 1)
    assert s.loc[0, "mean"] == 2.0
    assert 0 <= s.loc[0, "ci_low"] <= 2.0
    assert 2.0 + t * 2.0 * (1 - 1e-12) <= s.loc[0, "ci_high"] <= 2.0 + t * 2.0 * (1 + 1e-12)


def test_non_negative_upper_limit_is_bounded_and_grows_with_the_standard_error():
    """Over a grid of means, relative standard errors and replications: the interval
    holds [m, m + t·se] and stays at or above 0; its upper limit is at most (e² - 1)/2
    times as far above m as the t interval's, never falls as se grows, and is the
    log-scale limit m·exp(t·se/m) while t·se/m <= 2."""
    m = np.array([0.01, 0.3, 2.0, 1e4])[:, None, None]
    n = np.array([2, 3, 5, 10, 50])[None, :, None]
    rel = np.linspace(0.0, 6.0, 601)[None, None, :]  # se / m
    m, n, rel = np.broadcast_arrays(m, n, rel)
    se = rel * m
    lo, hi = interval_bounds(m, se, n, np.zeros(m.shape, bool), np.ones(m.shape, bool))
    t = stats.t.ppf(0.975, n - 1)
    x = t * rel
    assert (lo >= 0).all() and (lo <= m).all()
    assert (hi >= (m + t * se) * (1 - 1e-12)).all()
    assert (hi - m <= (np.e ** 2 - 1) / 2 * t * se * (1 + 1e-12)).all()
    assert (np.diff(hi, axis=-1) >= -1e-12 * hi[..., 1:]).all()
    small = x <= 2
    np.testing.assert_allclose(hi[small], (m * np.exp(x))[small], rtol=1e-12)
    np.testing.assert_allclose(lo, m * np.exp(-x), rtol=1e-12)


@pytest.mark.parametrize("mean", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_small_poisson_counts_are_covered_whenever_they_vary(mean, n):
    """A count with a mean of 0.3 to 3 a replication (callbacks, escalations). A batch
    whose values are all equal (all 0, say: 55 % of the batches of two replications at
    mean 0.3) gets a point interval, which cannot cover a mean that is not a whole
    number (see docs/simulation.md); the batches that vary are covered at 93 % or more
    (measured over 40 000 batches: 95-100 %). With m + t·se as the upper limit, or
    the log-scale limit only up to t·se/m = 1, it falls to 92-93 % at mean 1."""
    rng = np.random.default_rng(21)
    counts = rng.poisson(mean, (BATCHES, n)).astype(float)
    lo, hi = _bounds(counts)
    varies = counts.std(axis=1) > 0
    assert varies.sum() > 1000
    inside = (lo <= mean) & (mean <= hi)
    assert inside[varies].mean() >= 0.93, inside[varies].mean()


@pytest.mark.parametrize("n, floor", [(2, 0.91), (3, 0.92)])
def test_skewed_values_from_two_or_three_replications_keep_more_coverage_than_t(n, floor):
    """Exponential waits from 2 or 3 replications: the capped upper limit still reaches
    further than the t interval's where it matters (measured over 40 000 batches: 93 %
    and 94 %, the t interval 91 % and 88 %; the uncapped log-scale interval 95 % and
    94 %, with upper limits up to thousands of times the mean)."""
    rng = np.random.default_rng(34)
    waits = rng.exponential(30.0, (BATCHES, n))
    lo, hi = _bounds(waits)
    cov = float(np.mean((lo <= 30.0) & (30.0 <= hi)))
    assert lo.min() > 0
    assert cov >= floor, cov
    assert cov >= _t_coverage(waits, 30.0) + 0.01, (cov, _t_coverage(waits, 30.0))
