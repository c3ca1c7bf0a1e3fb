"""Erlang B, C and A (M/M/n+M) formulas and staffing: pure, vectorised, stable.

Times are in seconds; a load is in Erlangs (arrival rate x AHT).  Every
function broadcasts numpy-style over its array arguments and returns floats
for scalar input.  No factorials are formed: Poisson terms are handled as
logarithms or as ratio series, so results stay exact (to ~1e-12) up to
100 000 agents and 100 000 Erlangs.  A load of 0 needs 0 agents and counts
as perfectly served (nobody waits, service level 1, occupancy 0).  Loads
above :data:`MAX_LOAD` (10 million Erlangs) are refused with InputError: the
staffing searches step one agent at a time near the load, and far above it
floating-point agent counts stop being whole numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from bposim.errors import InputError

# scipy's regularised incomplete gamma functions are accurate to ~1e-15 within
# about four standard deviations of the mean, but lose relative accuracy in
# the far tails of huge arguments; below this value we sum ratio series.
_SCIPY_TAIL = 1e-4
_SERIES_TOL = 1e-17
MAX_LOAD = 1e7  # Erlangs; far beyond any real contact centre, and searches stay quick


# ---------------------------------------------------------------- validation
def _values(name, value, *, low=0.0, strict=False, high=None, high_open=False,
            allow_inf=False):
    """``value`` as a float array, or InputError naming ``name`` when out of range."""
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    bad = np.isnan(v) | (v < low) | (strict & (v == low))
    if not allow_inf:
        bad |= np.isinf(v)
    if high is not None:
        bad |= (v >= high) if high_open else (v > high)
    if bad.any():
        lo = f"{'>' if strict else '>='} {low:g}"
        hi = "" if high is None else f" and {'<' if high_open else '<='} {high:g}"
        raise InputError(f"{name} must be {lo}{hi}, got {v[bad].flat[0]:g}")
    return v


def _load(load):
    """The offered load as a float array; InputError above :data:`MAX_LOAD`."""
    a = _values("load", load)
    if (a > MAX_LOAD).any():
        raise InputError(f"load must be at most {MAX_LOAD:g} Erlangs (the most bposim's Erlang "
                         f"formulas handle), got {a[a > MAX_LOAD].flat[0]:g}")
    return a


def _agent_counts(agents):
    n = _values("agents", agents)
    if (n != np.floor(n)).any():
        raise InputError(f"agents must be whole numbers, got {n[n != np.floor(n)].flat[0]:g}")
    return n


def _result(value, scalar):
    return float(value) if scalar else value


def _is_scalar(*args) -> bool:
    return all(np.ndim(a) == 0 for a in args)


# ------------------------------------------------------------ Poisson pieces
def _log_density(x, y):
    """log(y**x e**-y / Gamma(x+1)) for real x > 0, y >= 0, without cancellation."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    out = np.empty(x.shape)
    big = x >= 15
    with np.errstate(divide="ignore", invalid="ignore"):
        xs, ys = x[~big], y[~big]
        out[~big] = special.xlogy(xs, ys) - ys - special.gammaln(xs + 1)
        xb, yb = x[big], y[big]
        u = (yb - xb) / xb
        deviance = xb * (u - np.log1p(u))  # y - x - x log(y/x) >= 0
        inv = 1.0 / xb
        inv2 = inv * inv
        stirling = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (
            1 / 1680 - inv2 / 1188))))
        out[big] = -deviance - 0.5 * np.log(2 * np.pi * xb) - stirling
    return out


def _ratio_series(ratio, size):
    """sum_{j>=0} prod_{i<=j} ratio(rows, i), for ratios in [0, 1) that fall with i.

    Summed in growing blocks of cumulative products; stops when the geometric
    bound on what is left is below 1e-17 of the total.
    """
    total = np.ones(size)
    last = np.ones(size)
    active = np.arange(size)
    start, block = 1, 64
    while active.size:
        r = ratio(active, np.arange(start, start + block, dtype=float))
        terms = last[active, None] * np.cumprod(r, axis=1)
        total[active] += terms.sum(axis=1)
        last[active] = terms[:, -1]
        r_end = r[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            left = last[active] * r_end / (1.0 - r_end)
        done = (last[active] == 0) | ((r_end < 1) & (left <= _SERIES_TOL * total[active]))
        active = active[~done]
        start += block
        block = min(2 * block, 4096)
    return total


def _log_erlang_b(a, n):
    """log Erlang B = log(pmf(n)/cdf(n)) of Poisson(a); exact for any size."""
    a, n = np.broadcast_arrays(np.asarray(a, float), np.asarray(n, float))
    out = np.zeros(a.shape)
    out[(a == 0) & (n > 0)] = -np.inf
    idx = (a > 0) & (n > 0)
    aa, nn = a[idx], n[idx]
    cdf = special.gammaincc(nn + 1, aa)
    direct = cdf >= _SCIPY_TAIL
    res = np.empty(aa.shape)
    with np.errstate(divide="ignore"):
        res[direct] = _log_density(nn[direct], aa[direct]) - np.log(cdf[direct])
    if (~direct).any():  # far below the load: 1/B = sum_j n!/((n-j)! a^j)
        ns, as_ = nn[~direct], aa[~direct]
        inv_b = _ratio_series(
            lambda r, i: np.maximum(ns[r, None] - i + 1, 0) / as_[r, None], ns.size)
        res[~direct] = -np.log(inv_b)
    out[idx] = res
    return out


def _log_tail(x, y):
    """log A(x, y) = log sum_{j>=0} prod_{i=1..j} y/(x+i)  (Mandelbaum & Zeltyn's A).

    Equals log(P(x, y)) - log(y^x e^-y / Gamma(x+1)) with P the regularised
    lower incomplete gamma function.
    """
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    out = np.zeros(x.shape)
    idx = y > 0
    xx, yy = x[idx], y[idx]
    p = special.gammainc(xx, yy)
    direct = p >= _SCIPY_TAIL
    res = np.empty(xx.shape)
    res[direct] = np.log(p[direct]) - _log_density(xx[direct], yy[direct])
    if (~direct).any():  # here y is well below x and the terms fall geometrically
        xs, ys = xx[~direct], yy[~direct]
        res[~direct] = np.log(_ratio_series(lambda r, i: ys[r, None] / (xs[r, None] + i), xs.size))
    out[idx] = res
    return out


# ------------------------------------------------------------------ Erlang B/C
def offered_load(calls, period, aht):
    """Offered load in Erlangs of ``calls`` arriving over ``period`` seconds."""
    scalar = _is_scalar(calls, period, aht)
    load = _values("calls", calls) * _values("aht", aht) / _values("period", period, strict=True)
    return _result(load, scalar)


def erlang_b(load, agents):
    """Blocking probability of M/M/n/n (Erlang loss formula)."""
    scalar = _is_scalar(load, agents)
    b = np.exp(_log_erlang_b(_load(load), _agent_counts(agents)))
    return _result(b, scalar)


def _erlang_c(a, n):
    b = np.exp(_log_erlang_b(a, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > a, n * b / ((n - a) + a * b), 1.0)
    return np.where(a == 0, 0.0, np.minimum(c, 1.0))


def erlang_c(load, agents):
    """Probability that a contact waits in M/M/n (1 when agents <= load)."""
    scalar = _is_scalar(load, agents)
    return _result(_erlang_c(_load(load), _agent_counts(agents)), scalar)


def service_level(load, agents, aht, answer_within):
    """Erlang C share of contacts answered within ``answer_within`` seconds."""
    scalar = _is_scalar(load, agents, aht, answer_within)
    a, n = _load(load), _agent_counts(agents)
    aht = _values("aht", aht, strict=True)
    t = _values("answer_within", answer_within)
    c = _erlang_c(a, n)
    with np.errstate(over="ignore", invalid="ignore"):
        sl = np.where(n > a, 1.0 - c * np.exp(-(n - a) * t / aht), 0.0)
    return _result(np.where(a == 0, 1.0, sl), scalar)


def asa(load, agents, aht):
    """Erlang C average speed of answer in seconds (inf when agents <= load)."""
    scalar = _is_scalar(load, agents, aht)
    a, n = _load(load), _agent_counts(agents)
    aht = _values("aht", aht, strict=True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(n > a, _erlang_c(a, n) * aht / (n - a), np.inf)
    return _result(np.where(a == 0, 0.0, w), scalar)


def occupancy(load, agents):
    """Share of agent time spent handling contacts, min(load/agents, 1)."""
    scalar = _is_scalar(load, agents)
    a, n = _load(load), _agent_counts(agents)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        occ = np.where(n > 0, np.minimum(a / n, 1.0), 1.0)
    return _result(np.where(a == 0, 0.0, occ), scalar)


def _targets(target, max_occupancy):
    tgt = _values("target", target, strict=True, high=1.0, high_open=True)
    occ = np.inf if max_occupancy is None else _values(
        "max_occupancy", max_occupancy, strict=True, high=1.0)
    return tgt, occ


def required_agents(load, aht, answer_within, target, max_occupancy=None):
    """Smallest agent count whose Erlang C service level is at least ``target``.

    Also keeps load/agents <= ``max_occupancy`` when given.  The search starts
    at floor(load)+1 (the first stable count), with Erlang B there from the
    log-space formula, and steps upward with B(n) = a B(n-1) / (n + a B(n-1)),
    so each candidate costs O(1).  A load of 0 needs 0 agents.
    """
    scalar = _is_scalar(load, aht, answer_within, target, max_occupancy)
    a = _load(load)
    aht = _values("aht", aht, strict=True)
    t = _values("answer_within", answer_within)
    tgt, occ = _targets(target, max_occupancy)
    a, aht, t, tgt, occ = np.broadcast_arrays(a, aht, t, tgt, occ)
    shape = a.shape
    a, aht, t, tgt, occ = (x.ravel() for x in (a, aht, t, tgt, occ))
    n = np.floor(a) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.maximum(n, np.where(np.isfinite(occ), np.ceil(a / occ) - 1, 0))
    b = np.exp(_log_erlang_b(a, n))
    if scalar:  # the same search in plain floats: no per-step numpy overhead
        a0, n0, b0, step = float(a[0]), float(n[0]), float(b[0]), float(t[0] / aht[0])
        while a0 > 0:
            c = n0 * b0 / ((n0 - a0) + a0 * b0)
            if 1.0 - c * math.exp(-(n0 - a0) * step) >= tgt[0] and a0 / n0 <= occ[0]:
                return int(n0)
            n0 += 1
            b0 = a0 * b0 / (n0 + a0 * b0)
        return 0
    result = np.zeros(a.shape, dtype=np.int64)
    active = np.nonzero(a > 0)[0]
    while active.size:
        na, aa, ba = n[active], a[active], b[active]
        c = na * ba / ((na - aa) + aa * ba)
        sl = 1.0 - c * np.exp(-(na - aa) * t[active] / aht[active])
        ok = (sl >= tgt[active]) & (aa / na <= occ[active])
        result[active[ok]] = na[ok]
        active = active[~ok]
        n[active] += 1
        ab = a[active] * b[active]
        b[active] = ab / (n[active] + ab)
    return result.reshape(shape)


# ------------------------------------------------------------------ Erlang A
@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state measures of M/M/n+M (Erlang A); floats or arrays.

    ``service_level`` counts contacts answered within the threshold over all
    offered (abandons count against it); ``service_level_answered`` divides by
    the answered ones.  ``asa`` is the mean wait of answered contacts,
    ``mean_wait`` the mean wait of all contacts (abandoned ones until they hang up).
    """

    p_wait: float | np.ndarray
    p_abandon: float | np.ndarray
    asa: float | np.ndarray
    mean_wait: float | np.ndarray
    service_level: float | np.ndarray
    service_level_answered: float | np.ndarray
    occupancy: float | np.ndarray


_FIELDS = ("p_wait", "p_abandon", "asa", "mean_wait", "service_level",
           "service_level_answered", "occupancy")


def _digamma_diff(lo, hi):
    """psi(hi) - psi(lo) for hi >= lo > 0, without cancellation for large arguments."""
    if lo < 100:
        return float(special.digamma(hi) - special.digamma(lo))
    d = math.log1p((hi - lo) / lo) - (0.5 / hi - 0.5 / lo)
    for k, c in ((2, 1 / 12), (4, -1 / 120), (6, 1 / 252)):
        d -= c * (hi ** -k - lo ** -k)
    return d


def _served_wait_series(x, y):
    """E[H_J] where P(J=m) is proportional to prod_{i<=m} y/(x+i) and H_m = psi(x+m+1)-psi(x+1).

    Only the terms within e^-40 or so of the largest are summed: the window
    around the mode is sized from Gaussian and geometric bounds on the decay.
    """
    mode = max(0, math.floor(y - x))
    width = math.ceil(15 * math.sqrt(y)) + 60
    right = width
    r = y / (x + mode + 1)
    if r < 1:
        right = min(width, math.ceil((45 - math.log1p(-r)) / -math.log(r)) + 1)
    m = np.arange(mode - min(mode, width), mode + right + 1, dtype=float)
    logw = np.concatenate(([0.0], np.cumsum(np.log(y / (x + m[1:])))))
    w = np.exp(logw - logw.max())
    h0 = _digamma_diff(x + 1, x + m[0] + 1) if m[0] > 0 else 0.0
    h = h0 + np.concatenate(([0.0], np.cumsum(1.0 / (x + m[1:]))))
    return float(np.dot(w, h) / w.sum())


def _erlang_a_core(a, n, aht, pat, t, with_asa=True):
    """Erlang A measures for flat arrays; special cases handled explicitly."""
    out = {f: np.full(a.shape, np.nan) for f in _FIELDS}

    def put(mask, **vals):
        for k, v in vals.items():
            out[k][mask] = v if np.ndim(v) == 0 else v[mask]

    empty, none = a == 0, (a > 0) & (n == 0)
    patient, impatient = ~empty & ~none & np.isinf(pat), ~empty & ~none & (pat == 0)
    general = ~(empty | none | patient | impatient)
    put(empty, p_wait=0.0, p_abandon=0.0, asa=0.0, mean_wait=0.0, service_level=1.0,
        service_level_answered=1.0, occupancy=0.0)
    put(none, p_wait=1.0, p_abandon=np.where(np.isinf(pat), 0.0, 1.0), asa=np.inf,
        mean_wait=pat, service_level=0.0, service_level_answered=0.0, occupancy=1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = _erlang_c(a, n)
        sl_c = np.where(n > a, 1.0 - c * np.exp(-(n - a) * t / aht), 0.0)
        w_c = np.where(n > a, c * aht / (n - a), np.inf)
        put(patient, p_wait=c, p_abandon=0.0, asa=w_c, mean_wait=w_c, service_level=sl_c,
            service_level_answered=sl_c, occupancy=np.minimum(a / n, 1.0))
        b = np.exp(_log_erlang_b(a, n))
        put(impatient, p_wait=b, p_abandon=b, asa=0.0, mean_wait=0.0, service_level=1.0 - b,
            service_level_answered=1.0, occupancy=a * (1.0 - b) / n)
    if not general.any():
        return out
    a, n, aht, pat, t = (v[general] for v in (a, n, aht, pat, t))
    x, y = n * pat / aht, a * pat / aht  # n mu / theta and lambda / theta
    log_b = _log_erlang_b(a, n)
    log_t = _log_tail(x, y)
    with np.errstate(divide="ignore", over="ignore"):
        p_wait = 1.0 / (1.0 + np.exp(np.log(-np.expm1(log_b)) - log_b - log_t))
        p_ab = p_wait * (1.0 - n / a + (n / a) * np.exp(-log_t))
    p_ab = np.clip(p_ab, 0.0, p_wait)
    # P(answered after waiting longer than t) from the closed form in A(x+1, y e^{-theta t})
    theta_t = t / pat
    z = y * np.exp(-theta_t)
    log_late = (-(x + 1) * theta_t - y * np.expm1(-theta_t) + np.log(x / (x + 1))
                + _log_tail(x + 1, z) - log_t)
    answered = 1.0 - p_ab
    sl = np.clip(answered - p_wait * np.exp(log_late), 0.0, answered)
    with np.errstate(divide="ignore", invalid="ignore"):
        sl_ans = np.where(answered > 0, sl / answered, 0.0)
    res = {"p_wait": p_wait, "p_abandon": p_ab, "mean_wait": p_ab * pat, "service_level": sl,
           "service_level_answered": sl_ans, "occupancy": np.minimum(a * answered / n, 1.0)}
    if with_asa:
        series = np.array([_served_wait_series(xi, yi) for xi, yi in zip(x, y)])
        with np.errstate(divide="ignore", invalid="ignore"):
            res["asa"] = np.where(answered > 0, p_wait * (n / a) * pat * series / answered, np.inf)
    for k, v in res.items():
        out[k][general] = v
    return out


def _erlang_a_inputs(load, agents, aht, patience, answer_within):
    a = _load(load)
    n = _agent_counts(agents)
    aht = _values("aht", aht, strict=True)
    pat = _values("patience", patience, allow_inf=True)
    t = _values("answer_within", answer_within)
    return np.broadcast_arrays(a, n, aht, pat, t)


def erlang_a(load, agents, aht, patience, answer_within) -> ErlangAResult:
    """Erlang A (M/M/n+M) with exponential patience of mean ``patience`` seconds.

    Closed forms of Mandelbaum & Zeltyn, in log space.  ``patience=np.inf``
    gives Erlang C exactly; ``patience=0`` gives Erlang B (blocked = abandoned).
    """
    scalar = _is_scalar(load, agents, aht, patience, answer_within)
    arrays = _erlang_a_inputs(load, agents, aht, patience, answer_within)
    shape = arrays[0].shape
    res = _erlang_a_core(*(v.ravel() for v in arrays))
    return ErlangAResult(**{k: (float(v[0]) if scalar else v.reshape(shape))
                            for k, v in res.items()})


def required_agents_erlang_a(load, aht, patience, answer_within, target,
                             max_abandon=None, max_occupancy=None):
    """Smallest agent count whose Erlang A service level (over offered) meets ``target``.

    Optionally also P(abandon) <= ``max_abandon`` and occupancy <= ``max_occupancy``.
    Every criterion improves with more agents, so the count is found by doubling
    then bisection, from the proven lower bound n >= load x target (answered
    work cannot exceed the agents).
    """
    scalar = _is_scalar(load, aht, patience, answer_within, target, max_abandon, max_occupancy)
    a, _, aht_, pat, t = _erlang_a_inputs(load, 0, aht, patience, answer_within)
    tgt, occ = _targets(target, max_occupancy)
    ab = np.inf if max_abandon is None else _values("max_abandon", max_abandon, strict=True,
                                                    high=1.0)
    arrays = np.broadcast_arrays(a, aht_, pat, t, tgt, occ, ab)
    shape = arrays[0].shape
    a, aht_, pat, t, tgt, occ, ab = (v.ravel().copy() for v in arrays)

    def meets(idx, n):
        r = _erlang_a_core(a[idx], n, aht_[idx], pat[idx], t[idx], with_asa=False)
        return ((r["service_level"] >= tgt[idx]) & (r["p_abandon"] <= ab[idx])
                & (r["occupancy"] <= occ[idx]))

    need = np.maximum(tgt, 1.0 - np.minimum(ab, 1.0)) / np.minimum(occ, 1.0)
    lo = np.maximum(np.floor(a * need * (1 - 1e-9)) - 1, 0)  # fails (or is 0 < a)
    lo[a == 0] = -1
    hi = lo + 1
    step = np.maximum(np.ceil(np.sqrt(a)), 1)
    todo = np.nonzero(a > 0)[0]
    while todo.size:  # double the step until hi meets the criteria
        ok = meets(todo, hi[todo])
        bad = todo[~ok]
        lo[bad] = hi[bad]
        hi[bad] += step[bad]
        step[bad] *= 2
        todo = bad
    todo = np.nonzero(hi - lo > 1)[0]
    while todo.size:  # invariant: lo fails, hi meets
        mid = (lo[todo] + hi[todo]) // 2
        ok = meets(todo, mid)
        hi[todo[ok]] = mid[ok]
        lo[todo[~ok]] = mid[~ok]
        todo = todo[hi[todo] - lo[todo] > 1]
    hi[a == 0] = 0
    result = hi.astype(np.int64)
    return int(result[0]) if scalar else result.reshape(shape)
