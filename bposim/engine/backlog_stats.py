"""Statistics of deferrable work, filled by an observer of the engine's domain events.

Per deferrable queue (:class:`BacklogQueueStats`, at ``QueueStats.backlog``), by the
interval an item *arrived* in: items closed, closed within their due time (also added
to the queue's ``answered_within``, so the queue's service level is the share closed
within due), still open at the end, open at the end and not yet due, and the summed
time from arrival to close; by time: the number of open items (waiting or in hand) at
each interval's end and the 50th and 90th percentiles of their ages then, and the
integral of the number open over time.

Per pool with QA or coaching work (:class:`TaskStats`, at ``PoolStats.tasks``), by the
interval a task was released: QA reviews sampled, done, done within due, open at the
end and not yet due; coaching seconds released, done, done within due.
"""

from __future__ import annotations

import numpy as np

from bposim.engine.backlog import CLOSED, OPEN_AT_END
from bposim.engine.recorder import QA_REVIEW


class BacklogQueueStats:
    """Per-interval backlog figures of one deferrable queue (see the module docstring)."""

    def __init__(self, n: int):
        self.n = n
        self.closed = [0] * n
        self.closed_within = [0] * n
        self.open_at_end = [0] * n
        self.open_not_due = [0] * n
        self.close_time = [0.0] * n  # summed seconds from arrival to close, closed items
        self.backlog = [0] * n  # open items at the interval's end
        self.age_p50 = [float("nan")] * n  # seconds, open items at the interval's end
        self.age_p90 = [float("nan")] * n
        self.area = 0.0  # integral of the number of open items over time (item-seconds)


class TaskStats:
    """Per-interval QA and coaching figures of one pool (see the module docstring)."""

    def __init__(self, n: int):
        self.n = n
        self.qa_sampled = [0] * n
        self.qa_done = [0] * n
        self.qa_within = [0] * n
        self.qa_open_not_due = [0] * n  # open at the end, due after it
        self.coaching_due = [0.0] * n  # seconds of sessions released
        self.coaching_done = [0.0] * n
        self.coaching_within = [0.0] * n


class _Open:
    """The open items of one deferrable queue and the last time their count changed."""

    __slots__ = ("arrivals", "last", "flushed")

    def __init__(self):
        self.arrivals = {}  # contact id -> arrival time
        self.last = 0.0
        self.flushed = 0  # interval ends already recorded


class BacklogStats:
    """Observer filling :class:`BacklogQueueStats` and :class:`TaskStats` (built-in; the
    engine adds it when the model has deferrable queues, QA or coaching)."""

    def __init__(self, queues, pools, L: float, n: int):
        self.L, self.n = L, n
        self.open = {}
        for q in queues:
            if q.m.deferrable:
                q.stats.backlog = BacklogQueueStats(n)
                self.open[q.m.index] = _Open()
        for p in pools:
            if p.m.qa is not None or p.m.coaching is not None:
                p.stats.tasks = TaskStats(n)
        self.tasks = [p.stats.tasks for p in pools]

    def _flush(self, k: int, st: BacklogQueueStats, now: float) -> None:
        """Record the interval ends up to ``now`` (the state before the change at ``now``)
        and the area since the last change."""
        o = self.open[k]
        st.area += len(o.arrivals) * (now - o.last)
        o.last = now
        L, n = self.L, self.n
        while o.flushed < n and (o.flushed + 1) * L <= now:
            i = o.flushed
            if o.arrivals:
                ages = (i + 1) * L - np.fromiter(o.arrivals.values(), float, len(o.arrivals))
                st.backlog[i] = ages.size
                st.age_p50[i], st.age_p90[i] = np.percentile(ages, (50, 90))
            o.flushed += 1

    def offered(self, now, c) -> None:
        m = c.queue.m
        if not m.deferrable:
            return
        st = c.queue.stats.backlog
        self._flush(m.index, st, now)
        self.open[m.index].arrivals[c.id] = c.arrival

    def ended(self, now, c, outcome) -> None:
        if outcome == CLOSED:
            q = c.queue
            st, i = q.stats.backlog, c.interval
            self._flush(q.m.index, st, now)
            del self.open[q.m.index].arrivals[c.id]
            took = now - c.arrival
            st.closed[i] += 1
            st.close_time[i] += took
            if took <= q.m.due:
                st.closed_within[i] += 1
                q.stats.answered_within[i] += 1
        elif outcome == OPEN_AT_END:
            q = c.queue
            st, i = q.stats.backlog, c.interval
            self._flush(q.m.index, st, now)
            st.open_at_end[i] += 1
            if now < c.arrival + q.m.due:
                st.open_not_due[i] += 1

    def task(self, now, task, what) -> None:
        st = self.tasks[task.pool]
        i = task.interval
        qa = task.kind == QA_REVIEW
        if what == "released":
            if qa:
                st.qa_sampled[i] += 1
            else:
                st.coaching_due[i] += task.work
        elif what == "done":
            within = now <= task.due
            if qa:
                st.qa_done[i] += 1
                st.qa_within[i] += within
            else:
                st.coaching_done[i] += task.work
                if within:
                    st.coaching_within[i] += task.work
        elif what == "open_at_end" and qa and now < task.due:
            st.qa_open_not_due[i] += 1
