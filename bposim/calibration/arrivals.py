"""Arrivals per interval and day of week, and day-to-day over-dispersion.

Only contacts from outside count (a transferred contact, one with a ``parent``, is
the escalation model's business). The profile of a weekday is the mean count per
interval over the training days that fall on it. Over-dispersion: if a day's volume
is Poisson given a random "busyness" factor B (mean 1, CV c, as the engine's
``busyness_cv``), Var N = m + c^2 m^2; c^2 is estimated by pooling the weekdays seen
at least twice, and its 95 % interval by inverting the chi-square pivot
sum (k-1) s^2 / (m + c^2 m^2) ~ chi^2(df) (Avramidis, Deslauriers & L'Ecuyer 2004).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bposim.calibration.logs import ContactLog
from bposim.scenario.schema import WEEKDAYS


@dataclass
class Dispersion:
    """``cv`` (busyness CV) with its 95 % interval and the Poisson dispersion test."""

    cv: float
    cv_low: float
    cv_high: float
    df: int
    p_value: float
    note: str = ""


def counts(log: ContactLog, interval_minutes: int) -> pd.DataFrame:
    """External arrivals per (queue, day) x interval of the day (columns 0..n-1)."""
    f = log.frame[log.frame["parent"].isna()]
    per_day = 24 * 60 // interval_minutes
    k = np.clip((f["arrival"].to_numpy() // (interval_minutes * 60)).astype(int), 0, per_day - 1)
    table = (pd.DataFrame({"queue": f["queue"].to_numpy(), "day": f["day"].to_numpy(), "k": k})
             .groupby(["queue", "day", "k"]).size().unstack("k", fill_value=0)
             .reindex(columns=range(per_day), fill_value=0))
    queues = sorted(f["queue"].unique())
    full = pd.MultiIndex.from_product([queues, log.days], names=["queue", "day"])
    return table.reindex(full, fill_value=0).astype(float)


def weekday(day: dt.date) -> str:
    return WEEKDAYS[day.weekday()]


def profiles(table: pd.DataFrame, queue: str) -> dict[str, np.ndarray]:
    """Mean count per interval for each weekday seen in ``table`` for ``queue``."""
    q = table.loc[queue]
    names = [weekday(d) for d in q.index]
    return {w: g.to_numpy().mean(axis=0) for w, g in q.groupby(names)}


def dispersion(table: pd.DataFrame, queue: str) -> Dispersion:
    """Busyness CV of ``queue`` from its daily totals (weekdays seen twice or more)."""
    totals = table.loc[queue].sum(axis=1)
    groups = [g.to_numpy() for _, g in totals.groupby([weekday(d) for d in totals.index])]
    groups = [g for g in groups if g.size >= 2 and g.mean() > 0]
    df = sum(g.size - 1 for g in groups)
    if df == 0:
        return Dispersion(0.0, math.nan, math.nan, 0, math.nan,
                          "no weekday seen twice: over-dispersion not estimable, busyness_cv 0")
    m = np.array([g.mean() for g in groups])
    s2 = np.array([g.var(ddof=1) for g in groups])
    k1 = np.array([g.size - 1 for g in groups])
    c2 = max(float(np.sum(k1 * (s2 - m) / m**2) / df), 0.0)
    stat = lambda c: float(np.sum(k1 * s2 / (m + c * m**2)))  # noqa: E731  decreasing in c
    p = float(stats.chi2.sf(stat(0.0), df))

    def bound(q: float) -> float:
        target = stats.chi2.ppf(q, df)
        if stat(0.0) <= target:
            return 0.0
        hi = 1.0
        while stat(hi) > target and hi < 1e6:
            hi *= 10
        return optimize.brentq(lambda c: stat(c) - target, 0.0, hi)

    lo, hi = bound(0.975), bound(0.025)
    note = "" if df >= 5 else f"only {df} degrees of freedom: the estimate is rough"
    return Dispersion(math.sqrt(c2), math.sqrt(lo), math.sqrt(hi), int(df), p, note)
