"""Callbacks (virtual hold) on voice queues with a ``callback`` setting.

When a contact would wait (no agent free for it) and its *expected* wait is over the
queue's threshold, the customer is offered a callback and accepts with probability
``acceptance`` (stream ``callback_accept``). The expected wait is estimated as an ACD
announces it: ``position × mean handle time (talk + wrap, this interval) / agents on
duty in the pools that answer the queue at once`` (every pool that serves it, when
only overflow pools do), where ``position`` counts the contacts waiting in the line
plus this one; with nobody on duty there it is infinite. No callback is offered while
no agent of any pool serving the queue is on duty (the centre is closed): as a
workforce planner expects, a caller then waits or abandons as without callbacks, and
is not promised a call back hours later when the centre opens.

An accepted callback is the same contact (counted once in ``offered``), and it no
longer abandons:

- ``keep_place``: it keeps its place in the line; an agent who takes it calls back;
- ``scheduled``: it leaves the line and enters it again (at the back) ``delay``
  seconds after the offer.

Each call back succeeds with probability ``success`` (stream ``callback_success``). A
success connects the customer at once: the contact is *answered* then, with a wait of
connection − arrival (the time to callback), which is also its wait in ASA, the wait
percentiles and the service level. A failed attempt costs the agent
:data:`MISS_SECONDS` of talk time (ringing with no answer); the contact enters the line
again ``retry_after`` seconds later, up to ``attempts`` attempts; after the last
failure it ends with outcome ``"callback_failed"``. Callbacks still pending when the
horizon ends are unanswered at the end.

Events handled here: ``CALLBACK_DUE`` (a scheduled callback or a retry enters the line;
target: the contact) and ``CALLBACK_MISS`` (a failed attempt's ringing is over; target:
the agent). The counts reach the observers through ``callback(now, contact, what)``
with ``what`` one of ``offered``, ``accepted``, ``completed``, ``failed``, ``pending``.
"""

from __future__ import annotations

import math

from bposim.engine.contacts import DONE, WAITING, UNIFORM
from bposim.engine.events import CALLBACK_DUE, CALLBACK_MISS
from bposim.engine.recorder import CONSULT, TALK, TRANSFER
from bposim.rng import BufferedSampler

#: seconds an agent spends on a callback attempt nobody answers (about five rings)
MISS_SECONDS = 30.0
#: contact states of an accepted callback outside the line: waiting for its time, and
#: being dialled by an agent (after the states of :mod:`bposim.engine.contacts`)
PENDING, CALLING = 4, 5
_INF = math.inf


class Callbacks:
    """Offers callbacks, keeps the accepted ones outside the line, and places them."""

    def __init__(self, engine):
        self.e = engine
        self.off_line: dict = {}  # contacts PENDING or CALLING -> None, in order
        self._samplers: dict = {}
        self._mean: dict = {}  # queue index -> mean talk + wrap (s)
        engine.on(CALLBACK_DUE, self._due)
        engine.on(CALLBACK_MISS, self._miss)

    def _draws(self, m):
        s = self._samplers.get(m.index)
        if s is None:
            st = self.e.streams
            s = self._samplers[m.index] = (BufferedSampler(UNIFORM, st.get("callback_accept", m.id)),
                                           BufferedSampler(UNIFORM, st.get("callback_success", m.id)))
        return s

    def expected_wait(self, q, c) -> float:
        """The wait announced to contact ``c`` arriving at queue ``q`` now."""
        m = q.m
        crews = self.e.workforce.crews
        pools = q.immediate or [p for p, _ in m.servers]  # a queue only overflow pools serve
        agents = sum(crews[p].on_duty for p in pools)
        if agents <= 0:
            return _INF
        mean = self._mean.get(m.index)
        if mean is None:
            mean = self._mean[m.index] = m.handle.expected + (m.wrap.expected if m.wrap else 0.0)
        if m.handle_scale is not None:
            mean *= m.handle_scale[c.interval]
        return (q.n_waiting + 1) * mean / agents

    def _staffed(self, q) -> bool:
        """Whether some agent of a pool serving ``q`` (at once or after overflow) is on duty."""
        crews = self.e.workforce.crews
        return any(crews[p].on_duty > 0 for p, _ in q.m.servers)

    def consider(self, q, c) -> bool:
        """``c`` is about to wait in ``q``: offer a callback if the expected wait is over
        the threshold. True if the customer accepted and left the line (scheduled)."""
        cb = q.m.callback
        if c.callback is not None or c.origin == TRANSFER or c.origin == CONSULT:
            return False
        wait = self.expected_wait(q, c)
        if wait <= cb.threshold or (wait == _INF and not self._staffed(q)):
            return False
        e = self.e
        now = e.env._now
        self._emit(now, c, "offered")
        accept, _ = self._draws(q.m)
        if accept() >= cb.acceptance:
            return False
        c.callback = 0
        c.patience = _INF  # the customer is off the line: no abandonment
        self._emit(now, c, "accepted")
        if cb.keep_place:
            return False
        self._leave_line(c, cb.delay)
        return True

    def _leave_line(self, c, delay: float) -> None:
        """``c`` waits outside the line and enters it after ``delay`` (if in the horizon)."""
        c.state = PENDING
        self.off_line[c] = None
        e = self.e
        if e.env._now + delay < e.model.end:
            e.at(delay, CALLBACK_DUE, c)

    def _due(self, ev) -> None:
        c = ev.target
        del self.off_line[c]
        c.state = WAITING
        self.e._requeue(c)

    def dial(self, c, agent) -> bool:
        """``agent`` calls back ``c``. False if the customer answers (the dispatcher then
        connects them as usual); True if nobody answers (the agent rings out)."""
        c.callback += 1
        e = self.e
        _, success = self._draws(c.queue.m)
        if success() < c.queue.m.callback.success:
            self._emit(e.env._now, c, "completed")
            return False
        c.state = CALLING
        c.agent = agent
        self.off_line[c] = None
        e.dispatcher.claim(agent)
        e._set_state(agent, TALK)
        agent.contact = c
        e.at(MISS_SECONDS, CALLBACK_MISS, agent)
        return True

    def _miss(self, ev) -> None:
        agent = ev.target
        c = agent.contact
        e = self.e
        now = ev.time
        c.agent = None
        cb = c.queue.m.callback
        del self.off_line[c]
        if c.callback < cb.attempts:
            self._leave_line(c, cb.retry_after)
        else:
            c.state = DONE
            self._emit(now, c, "failed")
            for f in e.on_ended:
                f(now, c, "callback_failed")
        e._free(agent)

    def _emit(self, now, c, what: str) -> None:
        for f in self.e.on_callback:
            f(now, c, what)

    def close(self, end: float) -> None:
        """The horizon ended: callbacks outside the line are unanswered at the end, and
        every accepted callback not completed or failed is pending."""
        e = self.e
        for q in e.queues:
            for c in q.waiting:
                if c.state == WAITING and c.callback is not None:
                    self._emit(end, c, "pending")
        for c in self.off_line:
            if c.state == CALLING:  # the agent rings out past the end: the record has no agent
                c.agent = None
            self._emit(end, c, "pending")
            for f in e.on_unanswered:
                f(end, c)
            for f in e.on_ended:
                f(end, c, "unanswered_at_end")
