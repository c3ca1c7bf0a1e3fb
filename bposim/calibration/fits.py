"""Fit duration distributions: handle times (complete) and patience (censored).

Families are the ones a scenario can name, parameterised by mean and CV as in
:mod:`bposim.distributions`. Parameters are maximum-likelihood estimates; a served
customer's wait is a lower bound on their patience (right-censored), so patience
uses the censored likelihood (density for abandons, survival for the served). The
family is chosen by AIC; handle time falls back to the empirical distribution when
even the best family is visibly off (Kolmogorov-Smirnov distance above both
:data:`KS_MATERIAL` and the 1 % critical value). 95 % intervals for mean and CV come
from the observed information (numerical Hessian) in log-parameters.
Nothing here simulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

from bposim.distributions import DistributionSpec

FLOOR = 0.5  # seconds: logs round to whole seconds; a 0 s duration is read as 0.5 s
KS_MATERIAL = 0.05
Z95 = 1.959963984540054
EMPIRICAL_POINTS = 100
MIN_EVENTS_SHAPE = 10  # abandons needed before a two-parameter patience family is tried
MIN_AT_RISK = 30  # Kaplan-Meier compared with a fit only where this many waits are at risk


@dataclass
class FamilyFit:
    """One family's maximum-likelihood fit."""

    family: str
    mean: float
    cv: float | None
    loglik: float
    aic: float
    mean_ci: tuple[float, float]
    cv_ci: tuple[float, float] | None
    ks: float  # Kolmogorov-Smirnov distance to the data (Kaplan-Meier for censored data)

    def spec(self) -> DistributionSpec:
        if self.family == "exponential":
            return DistributionSpec("exponential", mean=self.mean)
        return DistributionSpec(self.family, mean=self.mean, cv=self.cv)


@dataclass
class DurationFit:
    """The candidates, the one chosen and why."""

    n: int
    events: int
    candidates: list[FamilyFit]
    chosen: str  # a family name or "empirical"
    spec: DistributionSpec
    reason: str
    empirical_mean: float = math.nan
    notes: list[str] = field(default_factory=list)

    def best(self) -> FamilyFit | None:
        """The family with the lowest AIC (``None`` when none was fitted)."""
        return min(self.candidates, key=lambda c: c.aic) if self.candidates else None


def frozen(family: str, theta: np.ndarray):
    """The scipy distribution of ``family`` at log-parameters ``theta`` = (log mean[, log cv])."""
    mean = math.exp(theta[0])
    if family == "exponential":
        return stats.expon(scale=mean)
    cv = math.exp(theta[1])
    if family == "lognormal":
        s2 = math.log1p(cv * cv)
        return stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))
    k = 1.0 / (cv * cv)
    return stats.gamma(a=k, scale=mean / k)


def _logs(family: str, theta: np.ndarray, t_event: np.ndarray, t_cens: np.ndarray) -> float:
    """Sum of log densities at the events and log survivals at the censored times
    (written out: frozen scipy distributions cost more than the arithmetic)."""
    mean = math.exp(theta[0])
    if family == "exponential":
        return -t_event.size * theta[0] - (t_event.sum() + t_cens.sum()) / mean
    cv = math.exp(theta[1])
    if family == "lognormal":
        s = math.sqrt(math.log1p(cv * cv))
        mu = theta[0] - s * s / 2
        le, lc = np.log(t_event), np.log(t_cens)
        z = (le - mu) / s
        return float(np.sum(-le - math.log(s) - 0.5 * math.log(2 * math.pi) - z * z / 2)
                     + np.sum(special.log_ndtr(-(lc - mu) / s)))
    k = 1.0 / (cv * cv)
    scale = mean / k
    dens = np.sum((k - 1) * np.log(t_event) - t_event / scale) - t_event.size * (special.gammaln(k) + k * math.log(scale))
    surv = np.sum(np.log(np.maximum(special.gammaincc(k, t_cens / scale), 1e-300))) if t_cens.size else 0.0
    return float(dens + surv)


def _nll(theta, family, t_event, t_cens):
    if not np.all(np.isfinite(theta)) or np.any(np.abs(theta) > 50):
        return np.inf
    with np.errstate(all="ignore"):
        value = -_logs(family, theta, t_event, t_cens)
    return value if np.isfinite(value) else np.inf


def _hessian(f, x, step=1e-3):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * step, np.eye(n)[j] * step
            h[i, j] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * step * step)
    return h


def fit_family(family: str, t_event: np.ndarray, t_cens: np.ndarray | None = None) -> FamilyFit | None:
    """Maximum-likelihood fit of ``family`` to events (and right-censored times)."""
    t_event = np.maximum(np.asarray(t_event, dtype=float), FLOOR)
    t_cens = np.asarray(t_cens if t_cens is not None else [], dtype=float)
    if t_event.size == 0:
        return None
    exposure = t_event.sum() + t_cens.sum()
    mean0 = exposure / t_event.size
    if family == "exponential":  # closed form: total exposure / events
        theta = np.array([math.log(mean0)])
    else:
        cv0 = max(float(t_event.std() / t_event.mean()), 0.2) if t_event.size > 1 else 1.0
        start = np.array([math.log(mean0), math.log(cv0)])
        res = optimize.minimize(_nll, start, args=(family, t_event, t_cens), method="Nelder-Mead",
                                options=dict(xatol=1e-6, fatol=1e-6, maxiter=4000))
        theta = res.x
    nll = _nll(theta, family, t_event, t_cens)
    if not np.isfinite(nll):
        return None
    k = theta.size
    try:
        cov = np.linalg.inv(_hessian(lambda x: _nll(x, family, t_event, t_cens), theta))
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
    mean = math.exp(theta[0])
    mean_ci = (math.exp(theta[0] - Z95 * se[0]), math.exp(theta[0] + Z95 * se[0]))
    cv, cv_ci = None, None
    if k == 2:
        cv = math.exp(theta[1])
        cv_ci = (math.exp(theta[1] - Z95 * se[1]), math.exp(theta[1] + Z95 * se[1]))
    dist = frozen(family, theta)
    if t_cens.size:
        every = np.concatenate([t_event, t_cens])
        grid, surv, _ = kaplan_meier(every, np.r_[np.ones(t_event.size, bool), np.zeros(t_cens.size, bool)])
        at_risk = every.size - np.searchsorted(np.sort(every), grid)
        keep = at_risk >= MIN_AT_RISK  # the curve's last steps, on a handful of waits, are noise
        ks = float(np.max(np.abs((1 - surv[keep]) - dist.cdf(grid[keep])))) if keep.any() else 0.0
    else:
        ks = float(stats.kstest(t_event, dist.cdf).statistic)
    return FamilyFit(family, mean, cv, -nll, 2 * k + 2 * nll, mean_ci, cv_ci, ks)


def fit_handle_time(x: np.ndarray) -> DurationFit:
    """Handle times (all observed): lognormal or gamma by AIC, or empirical when both are off."""
    x = np.asarray(x, dtype=float)
    if np.ptp(np.maximum(x, FLOOR)) == 0:  # every duration the same: nothing to fit
        spec = DistributionSpec("deterministic", mean=float(max(x[0], FLOOR)))
        return DurationFit(int(x.size), int(x.size), [], "deterministic", spec,
                           f"deterministic: all {x.size} durations are {spec.mean:g} s", float(x.mean()))
    cands = [c for c in (fit_family(f, x) for f in ("lognormal", "gamma")) if c is not None]
    best = min(cands, key=lambda c: c.aic)
    critical = 1.628 / math.sqrt(x.size)  # KS 1 % critical value (large n)
    if best.ks > max(KS_MATERIAL, critical) and x.size >= 50:
        q = np.quantile(x, (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS)
        spec = DistributionSpec("empirical", values=tuple(round(float(v), 1) for v in q))
        reason = (f"empirical ({EMPIRICAL_POINTS} quantiles): the best family, {best.family}, is off "
                  f"by KS distance {best.ks:.3f} > {max(KS_MATERIAL, critical):.3f}")
        chosen = "empirical"
    else:
        spec, chosen = best.spec(), best.family
        others = ", ".join(f"{c.family} {c.aic - best.aic:+.1f}" for c in cands if c is not best)
        reason = f"{best.family}: lowest AIC (others: {others}); KS distance {best.ks:.3f}"
    return DurationFit(int(x.size), int(x.size), cands, chosen, spec, reason, float(x.mean()))


def fit_patience(wait: np.ndarray, abandoned: np.ndarray) -> DurationFit | None:
    """Patience from waits: abandons are events, served waits are censored. ``None``
    when nobody abandoned (patience is then not identifiable from the log)."""
    wait = np.asarray(wait, dtype=float)
    abandoned = np.asarray(abandoned, dtype=bool)
    if not abandoned.any():
        return None
    ev, ce = wait[abandoned], wait[~abandoned]
    families = ("exponential", "lognormal", "gamma") if ev.size >= MIN_EVENTS_SHAPE else ("exponential",)
    cands = [c for c in (fit_family(f, ev, ce) for f in families) if c is not None]
    best = min(cands, key=lambda c: c.aic)
    others = ", ".join(f"{c.family} {c.aic - best.aic:+.1f}" for c in cands if c is not best) or "none tried"
    fit = DurationFit(int(wait.size), int(abandoned.sum()), cands, best.family, best.spec(),
                      f"{best.family}: lowest AIC of the censored fits (others: {others}); "
                      f"distance to Kaplan-Meier {best.ks:.3f}")
    if ev.size < MIN_EVENTS_SHAPE:
        fit.notes.append(f"only {ev.size} abandons: exponential patience only (a shape needs "
                         f"at least {MIN_EVENTS_SHAPE}), and uncertain")
    elif ev.size < 30:
        fit.notes.append(f"only {ev.size} abandons: the patience fit is uncertain")
    return fit


def kaplan_meier(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct event time: (times, S(t), Greenwood SE).

    At a time with both events and censorings, the censored are still at risk (the
    usual convention: a served customer waited at least that long)."""
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=bool)
    order = np.argsort(times, kind="stable")
    t, e = times[order], events[order]
    uniq, first = np.unique(t, return_index=True)
    at_risk = t.size - first
    deaths = np.add.reduceat(e.astype(int), first) if t.size else np.array([], int)
    keep = deaths > 0
    uniq, at_risk, deaths = uniq[keep], at_risk[keep], deaths[keep]
    surv = np.cumprod(1 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = deaths / (at_risk * np.maximum(at_risk - deaths, 1e-300))
    se = surv * np.sqrt(np.cumsum(np.where(at_risk > deaths, terms, 0.0)))
    return uniq, surv, se


def time_blocks(arrival: np.ndarray, x: np.ndarray, hours: int = 4, min_n: int = 30) -> list[dict]:
    """Handle-time mean per block of ``hours`` of the day, with a 95 % interval; a block
    differs materially when its mean is > 10 % from the overall and its interval excludes it."""
    overall = float(np.mean(x))
    rows = []
    block = (np.asarray(arrival) // (hours * 3600)).astype(int) % (24 // hours)
    for b in np.unique(block):
        v = x[block == b]
        if v.size < min_n:
            continue
        m = float(v.mean())
        half = Z95 * float(v.std(ddof=1)) / math.sqrt(v.size)
        rows.append(dict(start_hour=int(b * hours), end_hour=int((b + 1) * hours), n=int(v.size),
                         mean=m, ci_low=m - half, ci_high=m + half,
                         material=bool(abs(m / overall - 1) > 0.10 and not m - half <= overall <= m + half)))
    return rows
