"""Shared test helpers: small scenarios built in code, statistical assertions."""

from __future__ import annotations

import datetime as dt

import numpy as np
from scipy import stats

from bposim.distributions import DistributionSpec, exponential
from bposim.scenario.schema import (
    Arrivals, Escalation, Horizon, Pool, Queue, Scenario, ServiceLevelTarget,
    SimulationSettings, Skill, Staffing,
)

MONDAY = dt.date(2026, 1, 5)


def single_queue(rate_per_hour: float, aht: float, agents: int, *, patience: float | None = None,
                 hours: float = 24, warmup_minutes: float = 0, answer_within: float = 20,
                 interval_minutes: int = 30, keep_contacts: bool = False) -> Scenario:
    """One M/M/n (or M/M/n+M) queue: constant rate for ``hours``, then no arrivals."""
    per_day = 24 * 60 // interval_minutes
    busy = int(round(hours * 60 / interval_minutes))
    vol = rate_per_hour * interval_minutes / 60
    volumes = tuple([vol] * busy + [0.0] * (per_day - busy))
    return Scenario(
        name="single",
        horizon=Horizon(start=MONDAY, days=1, interval_minutes=interval_minutes),
        queues=(Queue(id="q", handle_time=exponential(aht), arrivals=Arrivals(volumes=volumes),
                      patience=exponential(patience) if patience else None,
                      service_level=ServiceLevelTarget(answer_within=answer_within, target=0.8)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=agents)),),
        simulation=SimulationSettings(warmup_minutes=warmup_minutes, keep_contacts=keep_contacts),
    )


def values(results, metric: str, scope: str) -> np.ndarray:
    t = results.totals
    return t[(t["metric"] == metric) & (t["scope"] == scope)]["value"].to_numpy(dtype=float)


def assert_matches(sample: np.ndarray, expected: float, *, confidence: float = 0.999,
                   rel_bias: float = 0.0, label: str = "") -> None:
    """``expected`` lies in the Student-t interval of the replication ``sample``.

    The interval is at ``confidence`` (0.999 by default, so a correct model fails about
    once in a thousand runs of one check), widened by ``rel_bias`` × expected for a
    known, documented finite-horizon bias.
    """
    sample = np.asarray(sample, dtype=float)
    n = sample.size
    mean = sample.mean()
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sample.std(ddof=1) / np.sqrt(n)
    allowed = half + rel_bias * abs(expected)
    assert abs(mean - expected) <= allowed, (
        f"{label}: simulated {mean:.6g} ± {half:.3g} (n={n}) vs theory {expected:.6g}")


def deterministic(value: float) -> DistributionSpec:
    return DistributionSpec("deterministic", mean=value)


__all__ = ["single_queue", "values", "assert_matches", "deterministic", "MONDAY", "Escalation",
           "Queue", "Pool", "Skill", "Staffing", "Arrivals", "Horizon", "Scenario",
           "SimulationSettings", "ServiceLevelTarget", "exponential"]
