"""The discrete-event engine: SimPy keeps the clock, a small dispatcher does routing.

Routing rules (skills with priorities, longest-idle agent, longest-waiting contact,
overflow after a wait, consults that hold two agents) do not fit ``simpy.Resource``,
so each queue keeps a FIFO of waiting contacts and each pool its idle agents in
idle-since order. Events are SimPy timeouts with plain callbacks: an arrival, an
abandonment deadline (ignored if the contact was answered: lazy cancellation), the
end of talk, the end of wrap, and agents' duty and shrinkage changes.

Everything random about a contact (handle, wrap, patience, escalation) is drawn when
it is created, from its queue's named streams, so variants that differ only in
staffing see the same customers.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import simpy
from simpy.events import Timeout

from bposim.distributions import DistributionSpec
from bposim.engine.duty import DutyMixin
from bposim.engine.model import Model
from bposim.engine.outbound import OutboundMixin
from bposim.engine.recorder import (
    CONSULT, EXTERNAL, HOLD, IDLE, OFF, ORIGIN_NAMES, REPEAT, TALK, TRANSFER, WRAP, PoolStats,
    QueueStats, Recording,
)
from bposim.engine.workforce import aht_factor, staffers
from bposim.rng import BufferedSampler, Streams

WAITING, SERVING, DONE, ABANDONED = range(4)
_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_EXP1 = DistributionSpec("exponential", mean=1.0)
_INF = math.inf


class Contact:
    __slots__ = ("id", "parent", "queue", "origin", "arrival", "interval", "handle", "wrap",
                 "patience", "u_escalate", "u_resolve", "repeat_after", "state", "answer",
                 "agent", "holder")

    def __init__(self, cid, parent, queue, origin, arrival, interval, handle, wrap, patience,
                 u_escalate, u_resolve, repeat_after):
        self.id = cid
        self.parent = parent
        self.queue = queue
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


class Agent:
    __slots__ = ("id", "pool", "state", "since", "spans", "span_i", "span_end", "leaving",
                 "pending", "epoch", "contact", "hired", "factor", "dials_out")

    def __init__(self, aid, pool, spans, hired):
        self.id = aid
        self.pool = pool
        self.state = OFF
        self.since = 0.0
        self.spans = spans
        self.span_i = 0
        self.span_end = 0.0
        self.leaving = False
        self.pending = deque()  # (state, seconds) of breaks or shrinkage due after this contact
        self.epoch = 0
        self.contact = None
        self.hired = hired
        self.dials_out = 0  # outbound dials this agent placed and waits on
        # handle-time multiplier: fixed unless the agent is still learning
        learning = pool.m.proficiency is not None and hired is not None
        self.factor = None if learning else pool.m.handle_factor


class _Queue:
    """Run-time state of a queue: its waiting line and samplers."""

    __slots__ = ("m", "stats", "waiting", "n_waiting", "last_change", "immediate", "overflow",
                 "samplers", "fcr_matters")

    def __init__(self, m, n, fcr_matters=False):
        self.m = m
        self.stats = QueueStats(n)
        self.waiting = deque()
        self.n_waiting = 0
        self.last_change = 0.0
        self.immediate = [p for p, after in m.servers if after <= 0]
        afters = sorted({after for _, after in m.servers if after > 0})
        # (threshold, pools eligible once a contact has waited that long)
        self.overflow = [(a, [p for p, after in m.servers if after <= a]) for a in afters]
        self.samplers = {}
        self.fcr_matters = fcr_matters  # a pool serving it leaves some contacts unresolved


class _Pool:
    __slots__ = ("m", "stats", "idle", "agents", "away_mean", "avail_mean", "on_duty",
                 "on_break", "shrink_start", "shrink_away", "shrink_avail", "absence", "camp")

    def __init__(self, m, n, streams: Streams):
        self.m = m
        self.stats = PoolStats(n)
        self.idle = {}  # agent -> None, in idle-since order (dicts keep insertion order)
        self.agents = []
        s = m.shrinkage
        self.away_mean = m.shrinkage_period
        self.avail_mean = m.shrinkage_period * (1 - s) / s if s > 0 else _INF
        self.on_duty = 0
        self.on_break = 0
        # shrinkage draws: one buffered stream each, so the k-th draw is fixed whatever
        # the order of events (and a compiled engine can pre-draw them)
        self.shrink_start = BufferedSampler(_UNIFORM, streams.get("shrinkage_start", m.id))
        self.shrink_away = BufferedSampler(_EXP1, streams.get("shrinkage_away", m.id))
        self.shrink_avail = BufferedSampler(_EXP1, streams.get("shrinkage_avail", m.id))
        self.absence = BufferedSampler(_UNIFORM, streams.get("absence", m.id))
        self.camp = None  # the outbound campaign this pool works, if any


class Engine(DutyMixin, OutboundMixin):
    """One replication of a compiled :class:`Model` driven by named random streams."""

    def __init__(self, model: Model, streams: Streams):
        self.model = model
        self.streams = streams
        self.env = simpy.Environment()
        self.L = model.interval
        self.n = model.n_intervals
        self.queues = [
            _Queue(q, self.n, any(model.pools[p].fcr < 1 for p, _ in q.servers)) for q in model.queues
        ]
        self.pools = [_Pool(p, self.n, streams) for p in model.pools]
        self.contacts = [] if model.keep_contacts else None
        self.agent_states = [] if model.keep_agent_states else None
        self.next_id = 0
        self.busyness = {}
        self.consult_samplers = {}

    # -- scheduling helpers -------------------------------------------------------
    def _at(self, delay, callback):
        ev = Timeout(self.env, delay)
        ev.callbacks.append(callback)

    # -- arrivals -----------------------------------------------------------------
    def _arrival_times(self, q: _Queue) -> list[float]:
        """Poisson arrivals with a piecewise-constant rate, times sorted."""
        m = q.m
        if not m.volumes.any():
            return []
        lam = m.volumes.copy()
        per_day = self.model.horizon.intervals_per_day
        if m.busyness_cv > 0:
            shape = 1.0 / m.busyness_cv**2
            factors = self.streams.get("busyness", m.id).gamma(shape, 1.0 / shape, self.model.horizon.days)
            self.busyness[m.id] = factors.tolist()
            lam = lam * np.repeat(factors, per_day)[: self.n]
        rng = self.streams.get("arrivals", m.id)
        counts = rng.poisson(lam)
        idx = np.repeat(np.arange(self.n), counts)
        times = (idx + rng.random(idx.size)) * self.L
        return np.sort(times).tolist()

    def _start_arrivals(self, q: _Queue) -> None:
        """Chain the queue's arrivals: each offers one contact and schedules the next.

        The iterator is the only source of times, so the first event is scheduled
        from ``next(it)`` too: every time is offered exactly once."""
        it = iter(self._arrival_times(q))
        first = next(it, None)
        if first is None:
            return
        env = self.env
        L = self.L
        last = self.n - 1  # (idx + u) * L can round up to the next boundary

        def arrive(_event):
            self._offer(self._new_contact(q, EXTERNAL, None, env.now, min(int(env.now // L), last)))
            t = next(it, None)
            if t is not None:
                self._at(t - env.now, arrive)

        self._at(first, arrive)

    def _sampler(self, q: _Queue, origin: int):
        s = q.samplers.get(origin)
        if s is None:
            m, st = q.m, self.streams
            tag = "" if origin == EXTERNAL else ":" + ORIGIN_NAMES[origin]

            def sampler(purpose, spec):
                return BufferedSampler(spec, st.get(purpose + tag, m.id))

            s = q.samplers[origin] = (
                sampler("handle", m.handle),
                sampler("wrap", m.wrap) if m.wrap else None,
                sampler("patience", m.patience) if m.patience is not None else None,
                sampler("escalation", _UNIFORM) if m.escalations else None,
                sampler("resolution", _UNIFORM) if q.fcr_matters else None,
                sampler("repeat_after", m.repeat_after) if q.fcr_matters else None,
            )
        return s

    def _new_contact(self, q: _Queue, origin, parent, now, interval) -> Contact:
        handle, wrap, patience, esc, resolve, repeat = self._sampler(q, origin)
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

    # -- the dispatcher -----------------------------------------------------------
    def _offer(self, c: Contact) -> None:
        """A contact reaches its queue: the longest-idle qualified agent, or wait."""
        q = c.queue
        q.stats.offered[c.interval] += 1
        agent = self._longest_idle(q.immediate)
        if agent is not None:
            self._answer(c, agent)
            return
        self._queue_len(q, +1)
        q.waiting.append(c)
        if c.patience < _INF:
            self._at(c.patience, lambda _e, c=c: self._abandon(c))
        for after, pools in q.overflow:
            if after < c.patience:
                self._at(after, lambda _e, c=c, pools=pools: self._overflow(c, pools))

    def _longest_idle(self, pools):
        best = None
        for p in pools:
            idle = self.pools[p].idle
            if idle:
                a = next(iter(idle))
                if best is None or a.since < best.since:
                    best = a
        return best

    def _queue_len(self, q: _Queue, delta: int) -> None:
        now = self.env.now
        q.stats.queue_area += q.n_waiting * (now - q.last_change)
        q.last_change = now
        q.n_waiting += delta

    def _abandon(self, c: Contact) -> None:
        if c.state != WAITING:
            return  # answered before the customer's patience ran out
        q = c.queue
        c.state = ABANDONED
        self._queue_len(q, -1)
        st, i = q.stats, c.interval
        st.abandoned[i] += 1
        if c.patience <= q.m.short_abandon:
            st.short_abandoned[i] += 1
        st.wait_all[i] += c.patience
        if self.contacts is not None:
            self._record(c, self.env.now, "abandoned")
        if c.holder is not None:  # no expert came in time: the first agent carries on alone
            self._finish(c.holder)

    def _overflow(self, c: Contact, pools) -> None:
        if c.state != WAITING:
            return
        agent = self._longest_idle(pools)
        if agent is not None:
            self._queue_len(c.queue, -1)
            self._answer(c, agent)

    def _answer(self, c: Contact, agent: Agent) -> None:
        now = self.env.now
        c.state = SERVING
        c.answer = now
        c.agent = agent
        wait = now - c.arrival
        q, st, i = c.queue, c.queue.stats, c.interval
        st.answered[i] += 1
        st.wait_answered[i] += wait
        st.wait_all[i] += wait
        st.waits[i].append(wait)
        if wait <= q.m.answer_within:
            st.answered_within[i] += 1
        pool = agent.pool
        pool.idle.pop(agent, None)
        j = int(now // self.L)
        if j < self.n:
            pool.stats.handled[j] += 1
            if c.origin in (TRANSFER, CONSULT):
                pool.stats.escalations_taken[j] += 1
        factor = agent.factor
        if factor is None:
            factor = pool.m.handle_factor * aht_factor(pool.m.proficiency, agent.hired, now)
        if factor != 1.0:  # the site's and the agent's speed scale this customer's times
            c.handle *= factor
            c.wrap *= factor
        self._set_state(agent, TALK)
        agent.contact = c
        self._at(c.handle, lambda _e, a=agent: self._end_talk(a))

    def _route(self, c: Contact, agent: Agent):
        """The escalation this contact takes with this agent, if any."""
        if c.u_escalate is None or c.origin == CONSULT:  # a consult advises; it does not escalate
            return None
        factor = agent.pool.m.escalation_factor
        acc = 0.0
        for r in c.queue.m.escalations:
            acc += r.probability * factor
            if c.u_escalate < acc:
                return r
        return None

    def _end_talk(self, agent: Agent) -> None:
        c = agent.contact
        now = self.env.now
        route = self._route(c, agent)
        if route is not None:
            c.queue.stats.escalated[c.interval] += 1
            target = self.queues[route.target]
            origin = CONSULT if route.consult else TRANSFER
            child = self._new_contact(target, origin, c.id, now, min(int(now // self.L), self.n - 1))
            if route.consult:
                if route.consult_time is not None:
                    child.handle = self._consult_time(route)
                child.holder = agent
                self._set_state(agent, HOLD)
                self._offer(child)
                return  # the agent is released when the consult ends
            self._offer(child)
        elif c.u_resolve is not None and c.origin != CONSULT and c.u_resolve >= agent.pool.m.fcr:
            self._unresolved(c)
        if c.holder is not None:  # a consult ended: the holding agent finishes its contact
            self._finish(c.holder)
        self._finish(agent)

    def _consult_time(self, route) -> float:
        sampler = self.consult_samplers.get(route.name)
        if sampler is None:
            sampler = self.consult_samplers[route.name] = BufferedSampler(
                route.consult_time, self.streams.get("consult_time", route.name))
        return sampler()

    def _unresolved(self, c: Contact) -> None:
        """Not resolved at first contact: the customer calls back after a delay."""
        q = c.queue
        q.stats.unresolved[c.interval] += 1
        back = self.env.now + c.repeat_after
        if back >= self.model.end:
            return

        def repeat(_e, parent=c.id):
            child = self._new_contact(q, REPEAT, parent, self.env.now, int(self.env.now // self.L))
            q.stats.repeats[child.interval] += 1
            self._offer(child)

        self._at(c.repeat_after, repeat)

    def _finish(self, agent: Agent) -> None:
        """Talk (and any consult) is over: record the contact, then wrap or free."""
        c = agent.contact
        now = self.env.now
        if self.contacts is not None:
            self._record(c, now, "answered")
        c.state = DONE
        if c.wrap > 0:
            self._set_state(agent, WRAP)
            self._at(c.wrap, lambda _e, a=agent: self._free(a))
        else:
            self._free(agent)

    def _free(self, agent: Agent) -> None:
        agent.contact = None
        if agent.leaving:
            self._leave_after_contact(agent)
        else:
            self._available(agent)

    def _next_work(self, agent: Agent) -> None:
        """A free agent takes the highest-priority skill with contacts waiting, and
        within it the longest-waiting contact; otherwise it becomes idle."""
        now = self.env.now
        queues = self.queues
        for level in agent.pool.m.levels:
            best = None
            best_q = None
            for qi, after in level:
                q = queues[qi]
                w = q.waiting
                while w and w[0].state != WAITING:
                    w.popleft()
                if w:
                    head = w[0]
                    if after > 0 and now - head.arrival < after - 1e-9:
                        continue
                    if best is None or head.arrival < best.arrival:
                        best, best_q = head, q
            if best is not None:
                best_q.waiting.popleft()
                self._queue_len(best_q, -1)
                self._answer(best, agent)
                return
        self._set_state(agent, IDLE)
        agent.pool.idle[agent] = None
        if agent.pool.camp is not None:
            self._outbound_free(agent)

    # -- records and the run ------------------------------------------------------
    def _record(self, c: Contact, end: float, outcome: str) -> None:
        agent = c.agent
        self.contacts.append((
            c.id, c.parent, c.queue.m.id, ORIGIN_NAMES[c.origin], c.arrival, c.answer, end,
            (c.answer if c.answer is not None else end) - c.arrival, outcome,
            agent.id if agent else None, agent.pool.m.id if agent else None,
            c.handle if c.answer is not None else None, c.wrap if c.answer is not None else None,
        ))

    def run(self) -> Recording:
        for q in self.queues:
            self._start_arrivals(q)
        self._setup_campaigns()
        for p in self.pools:
            rng = self.streams.get("attrition", p.m.id) if p.m.attrition else None
            people = staffers(p.m, self.model.end, rng)
            p.stats.leavers = sum(1 for person in people if person.left is not None)
            for k, person in enumerate(people):
                agent = Agent(f"{p.m.id}-{k:04d}", p, person.spans, person.hired)
                p.agents.append(agent)
                self._schedule_next_span(agent)
            p.stats.hires = sum(1 for person in people if person.replaces is not None)
        end = self.model.end
        self.env.run(until=end)
        self._close(end)
        return Recording(
            queues=[q.stats for q in self.queues],
            pools=[p.stats for p in self.pools],
            contacts=self.contacts,
            agent_states=self.agent_states,
            busyness=self.busyness,
            campaigns=[c.stats for c in self.campaigns],
        )

    def _close(self, end: float) -> None:
        """Flush agent time and count contacts still waiting when the horizon ends."""
        for p in self.pools:
            for a in p.agents:
                if a.leaving:  # still finishing a contact after the end of duty
                    p.stats.overrun += end - a.span_end
                    a.leaving = False
                    self._schedule_next_span(a)  # later spans it worked through are paid
                c = a.contact
                if self.contacts is not None and c is not None and c.state == SERVING:
                    self._record(c, math.nan, "answered")  # still in service at the end
                self._set_state(a, OFF)
        for q in self.queues:
            self._queue_len(q, 0)
            for c in q.waiting:
                if c.state == WAITING:
                    q.stats.unanswered_at_end[c.interval] += 1
                    q.stats.wait_all[c.interval] += end - c.arrival
                    if self.contacts is not None:
                        self._record(c, end, "unanswered_at_end")


def simulate_model(model: Model, streams: Streams) -> Recording:
    """Run one replication of ``model``."""
    return Engine(model, streams).run()
