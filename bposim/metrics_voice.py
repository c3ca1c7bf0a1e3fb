"""Callback and retrial figures of voice (and chat) queues from a replication's
accumulators (no SimPy here).

The metric registry (:mod:`bposim.metric_registry`) names these functions as the
computations of the figures that are not plain counts; the counts are kept by the
engine's interval statistics (``QueueStats.retrials``, ``callbacks_*``,
``time_to_callback``; :mod:`bposim.engine.callbacks`, :mod:`bposim.engine.retrials`),
by the interval the contact arrived in. Run-level figures cover the measured
intervals (after the warm-up, inside ``simulation.measure``).
"""

from __future__ import annotations

import numpy as np

from bposim.metric_recipes import safe_ratio as _ratio


def _a(values) -> np.ndarray:
    return np.asarray(values, dtype=float)




def offered_fresh(src) -> np.ndarray:
    """Contacts offered that are not retrials of abandoned ones, per interval."""
    return _a(src.stats.offered) - _a(src.stats.retrials)


def offered_fresh_total(src) -> float:
    return float(offered_fresh(src)[src.measured].sum())


def time_to_callback(src) -> np.ndarray:
    """Mean seconds from arrival to connection of the callbacks completed, per interval."""
    st = src.stats
    return _ratio(st.time_to_callback, st.callbacks_completed)


def time_to_callback_total(src) -> float:
    st, m = src.stats, src.measured
    return float(_ratio(_a(st.time_to_callback)[m].sum(), _a(st.callbacks_completed)[m].sum()))
