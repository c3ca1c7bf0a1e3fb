"""Observers: everything that records what happens in a replication.

The engine emits *domain events*; an observer is any object with some of these
methods (each receives the simulation time ``now`` in seconds first):

- ``offered(now, contact)`` — a contact reached its queue (arrival, transfer,
  consult or repeat: ``contact.origin``);
- ``answered(now, contact, agent)`` — an agent took it; its wait is
  ``now - contact.arrival``;
- ``abandoned(now, contact)`` — the customer hung up while waiting;
- ``escalated(now, contact)`` / ``unresolved(now, contact)`` — after talk, the contact
  was passed on, or was not resolved (the customer comes back later);
- ``unanswered(now, contact)`` — the horizon ended while the contact was waiting;
- ``ended(now, contact, outcome)`` — the contact's record is complete: ``"answered"``
  (at the end of talk; ``now`` is NaN for a contact still in service when the horizon
  ends), ``"abandoned"``, ``"unanswered_at_end"`` or ``"callback_failed"``; an item of
  a deferrable queue (email, back office) ends ``"closed"`` (at the end of handling) or
  ``"open_at_end"`` (waiting or in hand when the horizon ends);
- ``agent_state(now, agent, old, new)`` — an agent changes state (``agent.since`` is
  still when ``old`` began; states are the constants of :mod:`bposim.engine.recorder`);
- ``waiting(now, queue, before, after)`` — the number of contacts waiting in
  ``queue`` changed;
- ``callback(now, contact, what)`` — a callback of a voice queue was ``"offered"``,
  ``"accepted"``, ``"completed"`` (the customer connected), ``"failed"`` (its last
  attempt failed) or is ``"pending"`` when the horizon ends;
- ``task(now, task, what)`` — a pool task (a QA review or coaching session,
  :class:`bposim.engine.backlog.Task`) was ``"released"`` (became workable),
  ``"started"``, ``"done"``, or is ``"open_at_end"`` (waiting or in hand when the
  horizon ends);
- ``dial_outcome(now, campaign, outcome, interval)`` — an outbound dial ended
  (``"no_answer"``, ``"busy"``, ``"machine_detected"``, ``"amd_false_positive"``,
  ``"abandoned"``, ``"machine_unconnected"`` or ``"connected"``).

Contacts and agents are the engine's own objects: read them, never change them.
``contact.queue.m`` and ``agent.pool.m`` are the compiled queue and pool
(:mod:`bposim.engine.model`: ``.id``, ``.index``, ...).

The engine binds each observer's methods once, before the run; built-in observers
fill the per-interval statistics (:class:`IntervalStats`) and, when kept, the contact
and agent-state logs. A user's observer that raises stops the run with an
:class:`ObserverError` naming it.
"""

from __future__ import annotations

import math

from bposim.engine.recorder import (
    CONSULT, IDLE, OFF, ORIGIN_NAMES, REPEAT, RETRIAL, STATE_NAMES, TALK, TRANSFER,
)
from bposim.errors import BposimError

METHODS = ("offered", "answered", "abandoned", "escalated", "unresolved", "unanswered", "ended",
           "agent_state", "waiting", "dial_outcome", "callback", "task")


class ObserverError(BposimError):
    """An observer passed to the engine is not one, or raised during the run."""


class IntervalStats:
    """Fills each queue's :class:`QueueStats` and each pool's agent time and work counts.

    Counts go to the interval the contact arrived in; agent time is split across the
    intervals it falls in (``add_time``); the pools' ``handled`` counts go to the
    interval of the answer.
    """

    def __init__(self, L: float, n: int, n_queues: int):
        self.L, self.n = L, n
        self.last = [0.0] * n_queues  # when each queue's line last changed length

    def offered(self, now, c) -> None:
        st = c.queue.stats
        st.offered[c.interval] += 1
        if c.origin == REPEAT:
            st.repeats[c.interval] += 1
        elif c.origin == RETRIAL:
            st.retrials[c.interval] += 1

    def answered(self, now, c, agent) -> None:
        wait = now - c.arrival
        st, i = c.queue.stats, c.interval
        st.answered[i] += 1
        st.wait_answered[i] += wait
        st.wait_all[i] += wait
        st.waits[i].append(wait)
        if wait <= c.queue.m.answer_within:
            st.answered_within[i] += 1
        j = int(now // self.L)
        if j < self.n:
            ps = agent.pool.stats
            ps.handled[j] += 1
            if c.origin == TRANSFER or c.origin == CONSULT:
                ps.escalations_taken[j] += 1

    def abandoned(self, now, c) -> None:
        st, i = c.queue.stats, c.interval
        st.abandoned[i] += 1
        if c.patience <= c.queue.m.short_abandon:
            st.short_abandoned[i] += 1
        st.wait_all[i] += c.patience

    def callback(self, now, c, what) -> None:
        st, i = c.queue.stats, c.interval
        if what == "offered":
            st.callbacks_offered[i] += 1
        elif what == "accepted":
            st.callbacks_accepted[i] += 1
        elif what == "completed":
            st.callbacks_completed[i] += 1
            st.time_to_callback[i] += now - c.arrival
        elif what == "failed":
            st.callbacks_failed[i] += 1
            st.wait_all[i] += now - c.arrival
        else:
            st.callbacks_pending[i] += 1

    def escalated(self, now, c) -> None:
        c.queue.stats.escalated[c.interval] += 1

    def unresolved(self, now, c) -> None:
        c.queue.stats.unresolved[c.interval] += 1

    def unanswered(self, now, c) -> None:
        st = c.queue.stats
        st.unanswered_at_end[c.interval] += 1
        st.wait_all[c.interval] += now - c.arrival

    def agent_state(self, now, agent, old, new) -> None:
        start = agent.since
        if old != OFF and now > start:  # add_time, inlined: the same float operations
            if agent.load:  # holding chats: time split by load (bposim.engine.chat)
                self._split(agent, start, now)
                return
            acc = agent.pool.stats.time[old]
            length, n = self.L, self.n
            i = int(start // length)
            while start < now and i < n:
                boundary = (i + 1) * length
                stop = now if now < boundary else boundary
                acc[i] += stop - start
                start = stop
                i += 1

    def _split(self, agent, start: float, end: float) -> None:
        """Chat time: ``load/concurrency`` of it handling, the rest idle."""
        busy = agent.load / agent.pool.m.concurrency
        time = agent.pool.stats.time
        add_time_weighted(time[TALK], start, end, self.L, self.n, busy)
        if busy < 1.0:
            add_time_weighted(time[IDLE], start, end, self.L, self.n, 1.0 - busy)

    def waiting(self, now, q, before, after) -> None:
        last = self.last
        k = q.m.index
        q.stats.queue_area += before * (now - last[k])
        last[k] = now


def add_time_weighted(acc, start: float, end: float, length: float, n: int, weight: float) -> None:
    """``weight`` × the span [start, end) added to ``acc``, split at interval boundaries."""
    i = int(start // length)
    while start < end and i < n:
        boundary = (i + 1) * length
        stop = end if end < boundary else boundary
        acc[i] += (stop - start) * weight
        start = stop
        i += 1


class ContactLog:
    """The contact records (``CONTACT_COLUMNS`` tuples), appended as contacts end."""

    def __init__(self, rows: list):
        self.rows = rows

    def ended(self, now, c, outcome) -> None:
        agent = c.agent
        answered = c.answer is not None
        self.rows.append((
            c.id, c.parent, c.queue.m.id, ORIGIN_NAMES[c.origin], c.arrival, c.answer, now,
            (c.answer if answered else now) - c.arrival, outcome,
            agent.id if agent else None, agent.pool.m.id if agent else None,
            c.handle if answered else None, c.wrap if answered else None,
        ))


class AgentStateLog:
    """Agent-state records (``AGENT_STATE_COLUMNS`` tuples), one per state left."""

    def __init__(self, rows: list):
        self.rows = rows

    def agent_state(self, now, agent, old, new) -> None:
        if old != OFF and now > agent.since:
            self.rows.append((agent.id, agent.pool.m.id, STATE_NAMES[old], agent.since, now))


def _guarded(obs, name: str, fn):
    """``fn`` (a user's observer method) with its failures named."""
    label = f"{type(obs).__name__}.{name}"

    def call(now, *args):
        try:
            fn(now, *args)
        except Exception as exc:  # noqa: BLE001 - re-raised with the observer named
            at = "the end of the run" if isinstance(now, float) and math.isnan(now) else f"t={now:.3f} s"
            raise ObserverError(f"observer {label} failed at {at}: {type(exc).__name__}: {exc}") from exc

    return call


def bind(builtin: list, user) -> dict[str, tuple]:
    """Per domain event, the tuple of methods to call (built-in observers first)."""
    user = list(user or ())
    for obs in user:
        if not any(callable(getattr(obs, m, None)) for m in METHODS):
            raise ObserverError(f"{obs!r} is not an observer: it has none of the methods "
                                f"{', '.join(METHODS)}")
    out = {}
    for name in METHODS:
        fns = [getattr(o, name) for o in builtin if callable(getattr(o, name, None))]
        fns += [_guarded(o, name, getattr(o, name)) for o in user if callable(getattr(o, name, None))]
        out[name] = tuple(fns)
    return out
