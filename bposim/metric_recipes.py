"""How a registered metric is computed from one replication's recording: the
:class:`Source` a computation reads and the recipes of :mod:`bposim.metric_registry`
(``counter``, ``gauge``, ``quotient``, ``ratio`` and the general :class:`Compute`).
The registry re-exports them; see its docstring for how to add a metric."""

from __future__ import annotations

import importlib
import operator
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Source:
    """What a metric's computation reads for one queue, pool or campaign of one
    replication: ``model`` and ``recording``, the scope's model entry (``item``, e.g. a
    QueueModel) and accumulators (``stats``, e.g. its QueueStats), its per-interval rows
    so far (``frame``), and which intervals count in run-level figures (``measured``)."""

    model: Any
    recording: Any
    item: Any
    stats: Any
    frame: Any
    measured: Any

    def column(self, name: str):
        """A per-interval column of this scope's frame, as floats."""
        return self.frame[name].to_numpy(dtype=float)

    def measured_sum(self, name: str) -> float:
        """A per-interval column summed over the measured intervals."""
        return float(self.column(name)[self.measured].sum())


@dataclass(frozen=True)
class Compute:
    """How a metric is computed from a :class:`Source`: ``interval`` gives one value per
    interval (the frame column), ``total`` one run-level float; a callable or a
    ``"module:function"`` string, or None where the metric has no such figure."""

    interval: Callable | str | None = None
    total: Callable | str | None = None

    def run(self, which: str, src: Source):
        fn = getattr(self, which)
        if isinstance(fn, str):
            module, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        return fn(src)


def safe_ratio(num, den):
    """``num / den`` elementwise as floats, NaN where ``den`` is not positive."""
    import numpy as np

    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _stat(src: Source, attr: str, scale: float = 1.0):
    """The per-interval list ``stats.<attr>`` as floats (times ``scale``)."""
    import numpy as np

    values = np.asarray(operator.attrgetter(attr)(src.stats), dtype=float)  # "a.b" paths too
    return values * scale if scale != 1.0 else values


def counter(attr: str, scale: float = 1.0) -> Compute:
    """A per-interval count or sum kept by the engine as ``stats.<attr>`` (one value per
    interval), times ``scale`` (e.g. 1/3600 for seconds as hours); its run-level total
    is the sum over the measured intervals."""
    return Compute(lambda src: _stat(src, attr, scale),
                   lambda src: float(_stat(src, attr, scale)[src.measured].sum()))


def gauge(attr: str, how: str = "mean") -> Compute:
    """A level the engine samples once per interval as ``stats.<attr>`` (e.g. the backlog
    at the interval's end); run-level its ``mean`` or ``max`` over the measured
    intervals (NaN when none is measured)."""
    import numpy as np

    if how not in ("mean", "max"):
        raise ValueError(f"gauge: how must be 'mean' or 'max', not {how!r}")

    def total(src: Source) -> float:
        v = _stat(src, attr)[src.measured]
        return float(getattr(np, how)(v)) if v.size else float("nan")

    return Compute(lambda src: _stat(src, attr), total)


def quotient(numerator: str, denominator: str, scale: float = 1.0) -> Compute:
    """The ratio of two per-interval lists the engine keeps (``stats.<numerator>`` /
    ``stats.<denominator>``, e.g. summed time to callback / callbacks completed), times
    ``scale``: per interval, and run-level as the ratio of their measured sums; NaN where
    the denominator is 0. Neither list needs to be a metric itself."""
    def interval(src: Source):
        return safe_ratio(_stat(src, numerator, scale), _stat(src, denominator))

    def total(src: Source) -> float:
        m = src.measured
        return float(safe_ratio(_stat(src, numerator, scale)[m].sum(), _stat(src, denominator)[m].sum()))

    return Compute(interval, total)


def ratio(numerator: str, denominator: str, per_interval: bool = True) -> Compute:
    """The ratio of two columns of the same frame: per interval, and run-level as the
    ratio of their measured sums (NaN where the denominator is 0)."""
    def interval(src: Source):
        return safe_ratio(src.column(numerator), src.column(denominator))

    def total(src: Source) -> float:
        return float(safe_ratio(src.measured_sum(numerator), src.measured_sum(denominator)))

    return Compute(interval if per_interval else None, total)
