"""Named distributions for handle time, after-contact work and patience.

Every distribution is described by a :class:`DistributionSpec` (what a scenario
says) and sampled in vectorised batches from a caller's ``numpy.random.Generator``
(no global random state). Lognormal and gamma are parameterised by their mean and
coefficient of variation (CV = standard deviation / mean), as planners quote them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KINDS = ("exponential", "lognormal", "gamma", "deterministic", "empirical", "uniform")


@dataclass(frozen=True)
class DistributionSpec:
    """A non-negative distribution of durations in seconds.

    - ``exponential``: ``mean``
    - ``lognormal`` / ``gamma``: ``mean`` and ``cv``
    - ``deterministic``: ``mean`` (every draw equals it)
    - ``uniform``: ``low`` and ``high``
    - ``empirical``: ``values`` (resampled with equal weights)
    """

    kind: str
    mean: float | None = None
    cv: float | None = None
    values: tuple[float, ...] | None = None
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """Why this spec is invalid, or ``None``; used by validation and the constructor."""
        if self.kind not in KINDS:
            return f"unknown distribution {self.kind!r}; choose one of {', '.join(KINDS)}"
        if self.kind == "empirical":
            if not self.values:
                return "empirical distribution needs a non-empty list of values"
            if any(not math.isfinite(v) or v < 0 for v in self.values):
                return "empirical values must be finite and >= 0"
            return None
        if self.kind == "uniform":
            if self.low is None or self.high is None:
                return "uniform distribution needs low and high"
            if not (0 <= self.low <= self.high):
                return "uniform distribution needs 0 <= low <= high"
            return None
        if self.mean is None or not math.isfinite(self.mean) or self.mean < 0:
            return f"{self.kind} distribution needs a finite mean >= 0"
        if self.kind in ("exponential",) and self.mean <= 0:
            return "exponential mean must be > 0"
        if self.kind in ("lognormal", "gamma"):
            if self.cv is None or not math.isfinite(self.cv) or self.cv <= 0:
                return f"{self.kind} distribution needs a cv > 0"
            if self.mean <= 0:
                return f"{self.kind} mean must be > 0"
        return None

    @property
    def expected(self) -> float:
        """The distribution's mean."""
        if self.kind == "empirical":
            return float(np.mean(self.values))
        if self.kind == "uniform":
            return (self.low + self.high) / 2
        return float(self.mean)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values from ``rng``."""
        kind = self.kind
        if kind == "exponential":
            return rng.exponential(self.mean, size)
        if kind == "deterministic":
            return np.full(size, float(self.mean))
        if kind == "lognormal":
            sigma2 = math.log1p(self.cv**2)
            mu = math.log(self.mean) - sigma2 / 2
            return rng.lognormal(mu, math.sqrt(sigma2), size)
        if kind == "gamma":
            shape = 1.0 / self.cv**2
            return rng.gamma(shape, self.mean / shape, size)
        if kind == "uniform":
            return rng.uniform(self.low, self.high, size)
        return rng.choice(np.asarray(self.values, dtype=float), size)


def exponential(mean: float) -> DistributionSpec:
    """Shorthand for an exponential distribution with the given mean."""
    return DistributionSpec("exponential", mean=mean)


def deterministic(value: float) -> DistributionSpec:
    """Shorthand for a constant duration."""
    return DistributionSpec("deterministic", mean=value)
