"""Retrials after abandonment on queues with a ``retrial`` setting.

A customer who abandons calls again with probability ``probability`` (uniform draw
from stream ``retrial``, one per abandonment) after a delay drawn from ``delay``
(stream ``retrial_delay``): a new contact of the same queue with origin ``retrial``
and the abandoned contact as its parent, offered like any other (so ``offered`` =
fresh contacts + retrials; the retrials are counted apart). Its own handle, wrap and
patience come from the queue's ``:retrial`` streams, as for repeats. A retrial that
would come after the end of the horizon is not offered. Consults never retry (an
agent holds their customer).

Events handled here: ``RETRY`` (target: the abandoned contact).
"""

from __future__ import annotations

from bposim.engine.contacts import UNIFORM
from bposim.engine.events import RETRY
from bposim.engine.recorder import CONSULT, RETRIAL
from bposim.rng import BufferedSampler


class Retrials:
    """Decides which abandoned customers call again, and when."""

    def __init__(self, engine):
        self.e = engine
        self._samplers: dict = {}
        engine.on(RETRY, self._retry)

    def _draws(self, m):
        s = self._samplers.get(m.index)
        if s is None:
            st = self.e.streams
            s = self._samplers[m.index] = (BufferedSampler(UNIFORM, st.get("retrial", m.id)),
                                           BufferedSampler(m.retrial.delay, st.get("retrial_delay", m.id)))
        return s

    def abandoned(self, c) -> None:
        """``c`` was abandoned: the customer may call again."""
        m = c.queue.m
        if m.retrial is None or c.origin == CONSULT:
            return
        decide, delay = self._draws(m)
        if decide() >= m.retrial.probability:
            return
        d = delay()
        e = self.e
        if e.env._now + d < e.model.end:
            e.at(d, RETRY, c)

    def _retry(self, ev) -> None:
        e = self.e
        now = ev.time
        parent = ev.target
        e._offer(e.customers.new_contact(parent.queue, RETRIAL, parent.id, now,
                                         min(int(now // e.L), e.n - 1)))
