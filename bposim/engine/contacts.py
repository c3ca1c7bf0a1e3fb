"""Customers: contacts, their arrival streams, and everything random about them.

Everything random about a contact (handle, wrap, patience, escalation, resolution,
when it comes back) is drawn when it is created, from its queue's named streams
(``BufferedSampler``: the k-th contact of a queue gets the k-th draws), so variants
that differ only in staffing see the same customers.

Events handled here: ``ARRIVAL`` (a queue's next external arrival; target: its
:class:`ArrivalStream`) and ``COME_BACK`` (an unresolved customer comes back; target:
the first contact).
"""

from __future__ import annotations

import math

import numpy as np

from bposim.distributions import DistributionSpec
from bposim.engine.events import ARRIVAL, COME_BACK
from bposim.engine.recorder import EXTERNAL, ORIGIN_NAMES, REPEAT
from bposim.rng import BufferedSampler

WAITING, SERVING, DONE, ABANDONED = range(4)
UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_INF = math.inf


class Contact:
    """One customer contact (one attempt: a transfer, consult or repeat is a new one)."""

    __slots__ = ("id", "parent", "queue", "origin", "arrival", "interval", "handle", "wrap",
                 "patience", "u_escalate", "u_resolve", "repeat_after", "state", "answer",
                 "agent", "holder", "callback")

    def __init__(self, cid, parent, queue, origin, arrival, interval, handle, wrap, patience,
                 u_escalate, u_resolve, repeat_after):
        self.id = cid
        self.parent = parent
        self.queue = queue  # the dispatcher's queue (``.m`` is its QueueModel)
        self.origin = origin
        self.arrival = arrival
        self.interval = interval
        self.handle = handle
        self.wrap = wrap
        self.patience = patience
        self.u_escalate = u_escalate  # uniform draws deciding escalation and resolution
        self.u_resolve = u_resolve
        self.repeat_after = repeat_after
        self.state = WAITING
        self.answer = None
        self.agent = None
        self.holder = None  # for a consult: the agent holding the customer
        self.callback = None  # once a callback is accepted: attempts made (engine.callbacks)


def arrival_array(model, m, streams) -> tuple[np.ndarray, list[float] | None]:
    """Poisson arrivals of queue model ``m`` with a piecewise-constant rate, as a sorted
    float64 array, and the per-day busyness factors drawn (None when the queue has no
    busyness)."""
    if not m.volumes.any():
        return np.zeros(0), None
    n, horizon = model.n_intervals, model.horizon
    lam = m.volumes.copy()
    factors = None
    if m.busyness_cv > 0:
        shape = 1.0 / m.busyness_cv**2
        drawn = streams.get("busyness", m.id).gamma(shape, 1.0 / shape, horizon.days)
        factors = drawn.tolist()
        lam = lam * np.repeat(drawn, horizon.intervals_per_day)[:n]
    rng = streams.get("arrivals", m.id)
    counts = rng.poisson(lam)
    idx = np.repeat(np.arange(n), counts)
    times = (idx + rng.random(idx.size)) * model.interval
    return np.sort(times), factors


def arrival_times(model, m, streams) -> tuple[list[float], list[float] | None]:
    """:func:`arrival_array` with the times as a list of floats (what the engine iterates)."""
    times, factors = arrival_array(model, m, streams)
    return times.tolist(), factors


class ArrivalStream:
    """A queue's external arrival times, offered one event at a time."""

    __slots__ = ("queue", "times", "samplers")

    def __init__(self, queue, times, samplers):
        self.queue = queue
        self.times = times  # an iterator of sorted absolute times
        self.samplers = samplers  # the queue's samplers for external arrivals


class Customers:
    """Creates contacts and schedules their arrivals and returns (repeats)."""

    def __init__(self, engine):
        self.e = engine
        self.streams = engine.streams
        self.next_id = 0
        self.busyness = {}  # queue id -> per-day factors drawn
        self.samplers = {}  # (queue index, origin) -> samplers
        self.consult_samplers = {}
        engine.on(ARRIVAL, self._arrive)
        engine.on(COME_BACK, self._repeat)

    def arrival_times(self, m) -> list[float]:
        """Arrival times of queue model ``m`` (busyness factors kept for the recording)."""
        times, factors = arrival_times(self.e.model, m, self.streams)
        if factors is not None:
            self.busyness[m.id] = factors
        return times

    def start(self, q) -> None:
        """Schedule the first arrival of queue ``q``; each arrival schedules the next.

        The iterator is the only source of times, so every time is offered exactly once."""
        it = iter(self.arrival_times(q.m))
        first = next(it, None)
        if first is not None:
            self.e.at(first, ARRIVAL, ArrivalStream(q, it, self._sampler(q, EXTERNAL)))

    def _arrive(self, ev) -> None:
        e = self.e
        now = ev.time
        s = ev.target
        e._offer(self.new_contact(s.queue, EXTERNAL, None, now, min(int(now // e.L), e.n - 1), s.samplers))
        t = next(s.times, None)
        if t is not None:
            e.at(t - now, ARRIVAL, s)

    def _repeat(self, ev) -> None:
        e = self.e
        now = ev.time
        parent = ev.target
        e._offer(self.new_contact(parent.queue, REPEAT, parent.id, now, int(now // e.L)))

    def come_back(self, c) -> None:
        """``c`` was not resolved: the customer calls again after ``c.repeat_after``."""
        e = self.e
        if e.env._now + c.repeat_after >= e.model.end:
            return
        e.at(c.repeat_after, COME_BACK, c)

    def _sampler(self, q, origin: int):
        key = (q.m.index, origin)
        s = self.samplers.get(key)
        if s is None:
            m, st = q.m, self.streams
            tag = "" if origin == EXTERNAL else ":" + ORIGIN_NAMES[origin]

            def sampler(purpose, spec):
                return BufferedSampler(spec, st.get(purpose + tag, m.id))

            s = self.samplers[key] = (
                sampler("handle", m.handle),
                sampler("wrap", m.wrap) if m.wrap else None,
                sampler("patience", m.patience) if m.patience is not None else None,
                sampler("escalation", UNIFORM) if m.escalations else None,
                sampler("resolution", UNIFORM) if q.fcr_matters else None,
                sampler("repeat_after", m.repeat_after) if q.fcr_matters else None,
            )
        return s

    def new_contact(self, q, origin, parent, now, interval, samplers=None) -> Contact:
        """A contact of queue ``q`` with all its draws made (``samplers``: the queue's for
        this origin, when the caller has them at hand)."""
        handle, wrap, patience, esc, resolve, repeat = samplers or self._sampler(q, origin)
        self.next_id += 1
        h, w = handle(), wrap() if wrap else 0.0
        p = patience() if patience else _INF
        m = q.m
        if m.handle_scale is not None:  # the forecast's mean for this interval, same shape
            h *= m.handle_scale[interval]
            w *= m.handle_scale[interval]
        if m.patience_scale is not None:
            p *= m.patience_scale[interval]
        return Contact(self.next_id, parent, q, origin, now, interval, h, w, p,
                       esc() if esc else None, resolve() if resolve else None,
                       repeat() if repeat else None)

    def consult_time(self, route) -> float:
        """A consult's own time (when the route gives one), from its own stream."""
        sampler = self.consult_samplers.get(route.name)
        if sampler is None:
            sampler = self.consult_samplers[route.name] = BufferedSampler(
                route.consult_time, self.streams.get("consult_time", route.name))
        return sampler()

