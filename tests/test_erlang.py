"""Erlang B/C/A: published cases, independent computations, properties, large sizes."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy import sparse, stats
from scipy.sparse.linalg import expm_multiply
from scipy.special import gammaln, logsumexp

from bposim import erlang
from bposim.errors import InputError

CASES = Path(__file__).parent / "data" / "erlang_c_cases.csv"
PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _published_rows():
    with open(CASES, newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [pytest.param(r, id=f"{r['source'][:20]}-{r['lam_per_hour']}-{r['agents']}")
            for r in rows]


def _as_published(text: str):
    """Equal to ``text`` within 1e-4 relative or half a unit of its last printed digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return pytest.approx(float(text), rel=1e-4, abs=0.51 * 10.0 ** -decimals)


def erlang_b_recursion(a: float, n: int) -> float:
    """The textbook recursion B(k) = a B(k-1) / (k + a B(k-1)) from B(0) = 1."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


# ------------------------------------------------------------ published cases
@pytest.mark.parametrize("row", _published_rows())
def test_published_erlang_c_case(row):
    aht, n, t = float(row["aht_s"]), int(row["agents"]), float(row["target_s"])
    load = float(row["lam_per_hour"]) * aht / 3600.0
    assert erlang.erlang_c(load, n) == _as_published(row["p_wait"])
    assert erlang.asa(load, n, aht) == _as_published(row["asa_s"])
    assert erlang.service_level(load, n, aht, t) == _as_published(row["service_level"])
    assert erlang.occupancy(load, n) == _as_published(row["occupancy"])
    if row["min_agents_for_target"]:
        need = erlang.required_agents(load, aht, t, float(row["sl_target"]))
        assert need == int(row["min_agents_for_target"])


def test_published_cases_file_is_complete():
    assert len(_published_rows()) >= 30


# ------------------------------------------------------------------ Erlang B/C
@PROPS
@given(st.floats(0.01, 400), st.integers(0, 600))
def test_erlang_b_matches_the_plain_recursion(load, agents):
    # log-space evaluation and the plain recursion round differently in the far tail
    # (B ~ 1e-169 agrees to ~1e-11); 1e-9 relative is still far below any use
    assert erlang.erlang_b(load, agents) == pytest.approx(erlang_b_recursion(load, agents),
                                                          rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("load, agents", [(1e5, 100_000), (1e5, 98_700), (1e5, 90_000),
                                          (1e5, 101_500), (2e4, 19_480), (5e4, 30_000)])
def test_erlang_b_large_sizes_match_the_recursion(load, agents):
    # deep tails below the load take the series path, the others the log-space formula
    assert erlang.erlang_b(load, agents) == pytest.approx(erlang_b_recursion(load, agents),
                                                          rel=1e-10)


def test_erlang_c_huge_system_is_a_probability():
    c = erlang.erlang_c(99_000, 100_000)
    assert np.isfinite(c) and 0 < c < 1e-2
    assert erlang.erlang_c(100_000, 100_000) == 1.0
    assert erlang.service_level(99_000, 100_000, 180, 20) == pytest.approx(1.0, abs=1e-3)


def test_required_agents_for_100000_erlangs_is_in_the_square_root_range():
    a = 100_000.0
    for t, target in ((0, 0.8), (0, 0.99), (20, 0.8)):
        n = erlang.required_agents(a, 180, t, target)
        assert a < n <= a + 3 * math.sqrt(a)
        assert erlang.service_level(a, n, 180, t) >= target
        assert erlang.service_level(a, n - 1, 180, t) < target


@PROPS
@given(st.floats(0.0, 300), st.integers(0, 500), st.floats(1, 900), st.floats(0, 300))
def test_erlang_c_measures_are_probabilities(load, agents, aht, t):
    for value in (erlang.erlang_b(load, agents), erlang.erlang_c(load, agents),
                  erlang.service_level(load, agents, aht, t), erlang.occupancy(load, agents)):
        assert 0.0 <= value <= 1.0
    assert erlang.asa(load, agents, aht) >= 0.0


@PROPS
@given(st.floats(0.01, 300), st.integers(0, 60), st.floats(1, 900), st.floats(0, 300))
def test_more_agents_raise_service_level_and_cut_asa(load, extra, aht, t):
    n = math.floor(load) + 1 + extra
    sl0, sl1 = erlang.service_level(load, [n, n + 1], aht, t)
    assert sl1 >= sl0 - 1e-12
    assert erlang.asa(load, n + 1, aht) <= erlang.asa(load, n, aht) * (1 + 1e-12)
    assert erlang.erlang_c(load, n + 1) <= erlang.erlang_c(load, n) * (1 + 1e-12)


@PROPS
@given(st.floats(0.01, 2000), st.floats(5, 900), st.floats(0, 120), st.floats(0.05, 0.99),
       st.one_of(st.none(), st.floats(0.5, 1.0)))
def test_required_agents_is_the_smallest_count(load, aht, t, target, max_occ):
    n = erlang.required_agents(load, aht, t, target, max_occupancy=max_occ)
    cap = 1.0 if max_occ is None else max_occ

    def meets(k):
        return (erlang.service_level(load, k, aht, t) >= target - 1e-9) and load / k <= cap

    assert n >= 1 and meets(n)
    assert n == 1 or not (erlang.service_level(load, n - 1, aht, t) >= target + 1e-9
                          and load / (n - 1) <= cap)


def test_required_agents_is_vectorised_and_zero_load_needs_nobody():
    loads = np.array([[0.0, 10.0], [100.0, 1000.0]])
    need = erlang.required_agents(loads, 180, 20, 0.8)
    assert need.shape == (2, 2) and need.dtype.kind == "i"
    assert need[0, 0] == 0 and need[0, 1] == 14
    assert isinstance(erlang.required_agents(10, 180, 20, 0.8), int)
    by_target = erlang.required_agents(10, 180, 20, np.array([0.5, 0.8, 0.95]))
    assert list(by_target) == sorted(by_target)


def test_zero_load_is_served_perfectly():
    assert erlang.erlang_c(0, 0) == 0.0 and erlang.service_level(0, 0, 180, 20) == 1.0
    assert erlang.asa(0, 3, 180) == 0.0 and erlang.occupancy(0, 3) == 0.0


def test_unstable_systems():
    assert erlang.erlang_c(10, 10) == 1.0 and erlang.service_level(10, 9, 180, 20) == 0.0
    assert erlang.asa(10, 10, 180) == math.inf and erlang.occupancy(10, 5) == 1.0


@pytest.mark.parametrize("call", [
    lambda: erlang.erlang_c(-1, 3), lambda: erlang.erlang_c(2, 2.5),
    lambda: erlang.erlang_b(np.nan, 3),
    lambda: erlang.service_level(2, 3, 0, 20), lambda: erlang.asa(2, 3, -5),
    lambda: erlang.required_agents(10, 180, 20, 1.0),
    lambda: erlang.required_agents(10, 180, 20, 0),
    lambda: erlang.required_agents(10, 180, -1, 0.8),
    lambda: erlang.required_agents(10, 180, 20, 0.8, max_occupancy=1.5),
    lambda: erlang.erlang_a(10, 12, 180, -1, 20), lambda: erlang.offered_load(10, 0, 180),
    lambda: erlang.required_agents_erlang_a(10, 180, 60, 20, 0.8, max_abandon=0),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()


# ---------------------------------------------------------------- Erlang A
def birth_death(load, n, aht, patience, answer_within=None):
    """M/M/n+M measures straight from the stationary distribution of the chain.

    Truncated where the probabilities fall below 1e-40.  P(abandon) = theta E[Lq] / lambda,
    mean wait = E[Lq] / lambda (Little), ASA from each arrival state's hypoexponential
    virtual wait, service level from the transient of the queue ahead (expm_multiply).
    """
    mu, theta = 1.0 / aht, 1.0 / patience
    lam = load * mu
    size = int(n + 60 * (load + n) * max(1.0, patience / aht) + 3000)
    logpi = np.empty(size + 1)
    k = np.arange(n + 1)
    logpi[: n + 1] = k * np.log(load) - gammaln(k + 1)
    j = np.arange(1, size - n + 1)
    logpi[n + 1:] = logpi[n] + np.cumsum(np.log(lam / (n * mu + j * theta)))
    pi = np.exp(logpi - logsumexp(logpi))
    assert pi[-1] < 1e-40
    q = pi[n:][: np.nonzero(pi[n:] > 1e-40)[0].max() + 1]
    ahead = np.arange(q.size)
    lq = float(ahead @ q)
    rate = n * mu + ahead * theta  # speed at which the queue ahead shrinks
    served = np.cumprod(rate / (rate + theta))
    wait_served = float(q @ (served * np.cumsum(1.0 / (rate + theta))))
    p_ab = theta * lq / lam
    out = {"p_wait": float(q.sum()), "p_abandon": p_ab, "mean_wait": lq / lam,
           "asa": wait_served / (1.0 - p_ab)}
    if answer_within is not None:
        m = q.size  # states: i ahead (0..m-1) and "answered" (m)
        gen = sparse.lil_matrix((m + 1, m + 1))
        gen.setdiag(np.append(-(rate + theta), 0.0))
        for i in range(1, m):
            gen[i, i - 1] = rate[i]
        gen[0, m] = rate[0]
        p = expm_multiply(gen.tocsr().T * answer_within, np.append(q, 0.0))
        out["service_level"] = (1.0 - q.sum()) + p[m]
    return out


@pytest.mark.parametrize("load, n, aht, patience", [
    (0.7, 1, 180, 60), (4.0, 5, 180, 180), (6.5, 5, 300, 60), (45, 50, 180, 90),
    (58, 50, 180, 400), (30, 20, 100, 50), (480, 500, 200, 100), (520, 500, 240, 900),
    (4900, 5000, 180, 120),
])
def test_erlang_a_matches_the_birth_death_chain(load, n, aht, patience):
    t = 20 if n <= 50 else None
    want = birth_death(load, n, aht, patience, t)
    got = erlang.erlang_a(load, n, aht, patience, 20)
    for field, value in want.items():
        assert getattr(got, field) == pytest.approx(value, rel=1e-8, abs=1e-14), field


@pytest.mark.parametrize("n", [1, 5, 50, 500, 5000])
@pytest.mark.parametrize("ratio", [0.5, 0.95, 1.0, 1.1])
def test_erlang_a_with_patience_equal_to_aht_is_poisson(n, ratio):
    load = n * ratio
    got = erlang.erlang_a(load, n, 240, 240, 20).p_wait
    assert got == pytest.approx(stats.poisson.sf(n - 1, load), rel=1e-9, abs=1e-15)


def test_infinite_patience_is_erlang_c_and_zero_patience_is_erlang_b():
    n = np.arange(11, 20)
    a = erlang.erlang_a(10, n, 180, np.inf, 20)
    assert np.allclose(a.p_wait, erlang.erlang_c(10, n), rtol=1e-14)
    assert np.allclose(a.service_level, erlang.service_level(10, n, 180, 20), rtol=1e-14)
    assert np.allclose(a.asa, erlang.asa(10, n, 180), rtol=1e-14) and not a.p_abandon.any()
    b = erlang.erlang_a(10, n, 180, 0.0, 20)
    assert np.allclose(b.p_abandon, erlang.erlang_b(10, n), rtol=1e-14)
    assert np.allclose(b.service_level, 1 - erlang.erlang_b(10, n), rtol=1e-14)


ERLANG_A = dict(load=st.floats(0.1, 150), extra=st.integers(-20, 40), aht=st.floats(20, 600),
                patience=st.floats(2, 3000), t=st.floats(0, 120))


@PROPS
@given(**ERLANG_A)
def test_erlang_a_measures_are_consistent_probabilities(load, extra, aht, patience, t):
    n = max(1, math.floor(load) + extra)
    r = erlang.erlang_a(load, n, aht, patience, t)
    for p in (r.p_wait, r.p_abandon, r.service_level, r.service_level_answered, r.occupancy):
        assert 0.0 <= p <= 1.0
    assert r.p_abandon <= r.p_wait + 1e-15
    assert r.service_level <= 1.0 - r.p_abandon + 1e-12
    assert r.mean_wait == pytest.approx(r.p_abandon * patience, rel=1e-12)
    assert r.asa >= 0.0


@PROPS
@given(**ERLANG_A)
def test_erlang_a_more_agents_mean_less_waiting_and_abandoning(load, extra, aht, patience, t):
    n = max(1, math.floor(load) + extra)
    r0, r1 = erlang.erlang_a(load, [n, n + 1], aht, patience, t).p_wait
    assert r1 <= r0 * (1 + 1e-10)
    a0, a1 = erlang.erlang_a(load, [n, n + 1], aht, patience, t).p_abandon
    assert a1 <= a0 * (1 + 1e-10)
    s0, s1 = erlang.erlang_a(load, [n, n + 1], aht, patience, t).service_level
    assert s1 >= s0 - 1e-10


@PROPS
@given(st.floats(0.1, 100), st.integers(1, 30), st.floats(10, 600), st.floats(0, 300))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(load, extra, aht, t):
    n = math.ceil(load + 1) + extra - 1
    long_, never = (erlang.erlang_a(load, n, aht, p, t) for p in (1e9, np.inf))
    assert long_.p_wait == pytest.approx(never.p_wait, rel=1e-4)
    assert long_.service_level == pytest.approx(never.service_level, rel=1e-3, abs=1e-6)
    assert long_.asa == pytest.approx(never.asa, rel=1e-3)
    assert long_.p_abandon < 1e-4


@PROPS
@given(st.floats(0.05, 300), st.floats(20, 600), st.floats(5, 1200), st.floats(0, 60),
       st.floats(0.3, 0.97), st.one_of(st.none(), st.floats(0.01, 0.3)),
       st.one_of(st.none(), st.floats(0.6, 1.0)))
def test_required_agents_erlang_a_is_the_smallest_count(load, aht, patience, t, target, max_ab,
                                                        max_occ):
    n = erlang.required_agents_erlang_a(load, aht, patience, t, target, max_abandon=max_ab,
                                        max_occupancy=max_occ)

    def meets(k, slack):
        r = erlang.erlang_a(load, k, aht, patience, t)
        return (r.service_level >= target - slack
                and (max_ab is None or r.p_abandon <= max_ab + slack)
                and (max_occ is None or r.occupancy <= max_occ + slack))

    assert meets(n, 1e-9)
    assert n == 1 or not meets(n - 1, -1e-9)


def test_erlang_a_large_systems():
    r = erlang.erlang_a(1e5, np.array([99_000, 100_000, 100_300]), 180, 120, 20)
    for field in ("p_wait", "p_abandon", "service_level", "occupancy"):
        v = getattr(r, field)
        assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v <= 1))
    assert np.all(np.diff(r.p_wait) < 0) and np.all(np.diff(r.p_abandon) < 0)
    # with abandonment, losing 1 % of the agents loses about 1 % of the calls
    assert r.p_abandon[0] == pytest.approx(0.01, rel=0.05)
    n = erlang.required_agents_erlang_a(1e5, 180, 120, 20, 0.8)
    assert isinstance(n, int) and 0.75e5 < n < 1e5
    many = erlang.required_agents_erlang_a(np.array([0.0, 10.0, 1e5]), 180,
                                           [np.inf, 120, 120], 20, 0.8)
    assert many.dtype.kind == "i"
    assert list(many) == [0, erlang.required_agents_erlang_a(10, 180, 120, 20, 0.8), n]


def test_erlang_a_vectorised_table_is_fast():
    rng = np.random.default_rng(7)
    load = rng.uniform(0.5, 80, (96, 10))
    agents = np.floor(load) + rng.integers(-3, 6, (96, 10)).clip(min=1 - np.floor(load))
    start = time.perf_counter()
    r = erlang.erlang_a(load, agents, 200, 90, 20)
    assert time.perf_counter() - start < 1.0
    assert r.p_wait.shape == (96, 10)
    one = erlang.erlang_a(load[5, 3], agents[5, 3], 200, 90, 20)
    assert isinstance(one.asa, float) and one.asa == pytest.approx(r.asa[5, 3], rel=1e-14)
