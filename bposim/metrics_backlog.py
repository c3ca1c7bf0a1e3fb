"""Backlog, QA and coaching figures from a replication's accumulators (no SimPy here).

The metric registry (:mod:`bposim.metric_registry`) names these functions as the
computations of the deferrable-work metrics; the counts themselves are kept by
:mod:`bposim.engine.backlog_stats` (``QueueStats.backlog``, ``PoolStats.tasks``).
Per-interval figures of deferrable queues count items by the interval they arrived
in, except the backlog size and ages, which are taken at each interval's end;
run-level figures cover the measured intervals (after the warm-up, inside
``simulation.measure``).
"""

from __future__ import annotations

import numpy as np

from bposim.metric_recipes import safe_ratio as _ratio

from bposim.engine.recorder import COACHING, QA_REVIEW


def _a(values) -> np.ndarray:
    return np.asarray(values, dtype=float)




# -- deferrable queues (src.stats.backlog: BacklogQueueStats) ---------------------------------
def time_to_close(src) -> np.ndarray:
    """Mean hours from arrival to close of the items closed, per arrival interval."""
    b = src.stats.backlog
    return _ratio(_a(b.close_time) / 3600.0, b.closed)


def time_to_close_total(src) -> float:
    b = src.stats.backlog
    m = src.measured
    return float(_ratio(_a(b.close_time)[m].sum() / 3600.0, _a(b.closed)[m].sum()))


def backlog(src) -> np.ndarray:
    """Open items (waiting or in hand) at each interval's end."""
    return _a(src.stats.backlog.backlog)


def backlog_total(src) -> float:
    """The mean over the measured intervals of the open items at their ends."""
    v = backlog(src)[src.measured]
    return float(v.mean()) if v.size else float("nan")


def age_p50(src) -> np.ndarray:
    """Median age (hours) of the items open at each interval's end (NaN: none open)."""
    return _a(src.stats.backlog.age_p50) / 3600.0


def age_p90(src) -> np.ndarray:
    return _a(src.stats.backlog.age_p90) / 3600.0


def _mean_where_open(values: np.ndarray, src) -> float:
    v = values[src.measured]
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


def age_p50_total(src) -> float:
    """The mean over measured interval ends with open items of the median age."""
    return _mean_where_open(age_p50(src), src)


def age_p90_total(src) -> float:
    return _mean_where_open(age_p90(src), src)


def mean_backlog(src) -> float:
    """Time-averaged number of open items over the horizon (items x seconds / seconds)."""
    return src.stats.backlog.area / src.model.end


# -- pools with QA reviews or coaching (src.stats.tasks: TaskStats) ------------------------------
def _hours(attr: str):
    def interval(src) -> np.ndarray:
        return _a(getattr(src.stats.tasks, attr)) / 3600.0

    def total(src) -> float:
        return float((_a(getattr(src.stats.tasks, attr)) / 3600.0)[src.measured].sum())

    return interval, total


coaching_due, coaching_due_total = _hours("coaching_due")
coaching_done, coaching_done_total = _hours("coaching_done")


def qa_review_s(src) -> np.ndarray:
    """Seconds agents of the pool spent on QA reviews, per interval."""
    return _a(src.stats.time[QA_REVIEW])


def coaching_s(src) -> np.ndarray:
    return _a(src.stats.time[COACHING])


# -- the contact log -------------------------------------------------------------------------
def add_due(contacts, model):
    """The contact log with a ``due`` column (arrival + the queue's due time) when the
    model has deferrable queues (empty for other queues' rows); unchanged otherwise."""
    dues = {q.id: q.due for q in model.queues if q.deferrable}
    if contacts is None or not dues:
        return contacts
    contacts["due"] = contacts["arrival"] + contacts["queue"].map(dues).astype(float)
    return contacts
