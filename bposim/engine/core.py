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
from bposim.engine.model import Model, add_time
from bposim.engine.recorder import (
    AWAY, CONSULT, EXTERNAL, HOLD, IDLE, OFF, TALK, TRANSFER, WRAP, ORIGIN_NAMES, STATE_NAMES,
    PoolStats, QueueStats, Recording,
)
from bposim.rng import BufferedSampler, Streams

WAITING, SERVING, DONE, ABANDONED = range(4)
_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_EXP1 = DistributionSpec("exponential", mean=1.0)
_INF = math.inf


class Contact:
    __slots__ = ("id", "parent", "queue", "origin", "arrival", "interval", "handle", "wrap",
                 "patience", "route", "state", "answer", "agent", "holder")

    def __init__(self, cid, parent, queue, origin, arrival, interval, handle, wrap, patience, route):
        self.id = cid
        self.parent = parent
        self.queue = queue
        self.origin = origin
        self.arrival = arrival
        self.interval = interval
        self.handle = handle
        self.wrap = wrap
        self.patience = patience
        self.route = route
        self.state = WAITING
        self.answer = None
        self.agent = None
        self.holder = None  # for a consult: the agent holding the customer


class Agent:
    __slots__ = ("id", "pool", "state", "since", "spans", "span_i", "span_end", "leaving",
                 "break_due", "epoch", "contact")

    def __init__(self, aid, pool, spans):
        self.id = aid
        self.pool = pool
        self.state = OFF
        self.since = 0.0
        self.spans = spans
        self.span_i = 0
        self.span_end = 0.0
        self.leaving = False
        self.break_due = False
        self.epoch = 0
        self.contact = None


class _Queue:
    """Run-time state of a queue: its waiting line and samplers."""

    __slots__ = ("m", "stats", "waiting", "n_waiting", "last_change", "immediate", "overflow",
                 "samplers")

    def __init__(self, m, n):
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


class _Pool:
    __slots__ = ("m", "stats", "idle", "agents", "away_mean", "avail_mean")

    def __init__(self, m, n):
        self.m = m
        self.stats = PoolStats(n)
        self.idle = {}  # agent -> None, in idle-since order (dicts keep insertion order)
        self.agents = []
        s = m.shrinkage
        self.away_mean = m.shrinkage_period
        self.avail_mean = m.shrinkage_period * (1 - s) / s if s > 0 else _INF


class Engine:
    """One replication of a compiled :class:`Model` driven by named random streams."""

    def __init__(self, model: Model, streams: Streams):
        self.model = model
        self.streams = streams
        self.env = simpy.Environment()
        self.L = model.interval
        self.n = model.n_intervals
        self.queues = [_Queue(q, self.n) for q in model.queues]
        self.pools = [_Pool(p, self.n) for p in model.pools]
        self.contacts = [] if model.keep_contacts else None
        self.agent_states = [] if model.keep_agent_states else None
        self.next_id = 0
        self.busyness = {}

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
        times = self._arrival_times(q)
        if not times:
            return
        it = iter(times)
        env = self.env
        L = self.L

        def arrive(_event):
            self._offer(self._new_contact(q, EXTERNAL, None, env.now, int(env.now // L)))
            t = next(it, None)
            if t is not None:
                self._at(t - env.now, arrive)

        self._at(times[0], arrive)

    def _sampler(self, q: _Queue, origin: int):
        s = q.samplers.get(origin)
        if s is None:
            m, st = q.m, self.streams
            tag = "" if origin == EXTERNAL else ":" + ORIGIN_NAMES[origin]
            handle = BufferedSampler(m.handle, st.get("handle" + tag, m.id))
            wrap = BufferedSampler(m.wrap, st.get("wrap" + tag, m.id)) if m.wrap else None
            patience = (BufferedSampler(m.patience, st.get("patience" + tag, m.id))
                        if m.patience is not None else None)
            esc = BufferedSampler(_UNIFORM, st.get("escalation" + tag, m.id)) if m.escalations else None
            s = q.samplers[origin] = (handle, wrap, patience, esc)
        return s

    def _new_contact(self, q: _Queue, origin, parent, now, interval) -> Contact:
        handle, wrap, patience, esc = self._sampler(q, origin)
        route = None
        if esc is not None:
            u = esc()
            if origin != CONSULT:  # a consult advises; it does not escalate further
                acc = 0.0
                for r in q.m.escalations:
                    acc += r.probability
                    if u < acc:
                        route = r
                        break
        self.next_id += 1
        return Contact(self.next_id, parent, q, origin, now, interval, handle(),
                       wrap() if wrap else 0.0, patience() if patience else _INF, route)

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
            if c.origin != EXTERNAL:
                pool.stats.escalations_taken[j] += 1
        self._set_state(agent, TALK)
        agent.contact = c
        self._at(c.handle, lambda _e, a=agent: self._end_talk(a))

    def _end_talk(self, agent: Agent) -> None:
        c = agent.contact
        now = self.env.now
        route = c.route
        if route is not None:
            c.queue.stats.escalated[c.interval] += 1
            target = self.queues[route.target]
            origin = CONSULT if route.consult else TRANSFER
            child = self._new_contact(target, origin, c.id, now, min(int(now // self.L), self.n - 1))
            if route.consult:
                child.holder = agent
                self._set_state(agent, HOLD)
                self._offer(child)
                return  # the agent is released when the consult ends
            self._offer(child)
        if c.holder is not None:  # a consult ended: the holding agent finishes its contact
            self._finish(c.holder)
        self._finish(agent)

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
        now = self.env.now
        if agent.leaving:
            agent.leaving = False
            agent.break_due = False
            agent.pool.stats.overrun += now - agent.span_end
            self._set_state(agent, OFF)
            self._schedule_next_span(agent)
        elif agent.break_due:
            agent.break_due = False
            self._go_away(agent)
        else:
            self._next_work(agent)

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

    # -- agents: duty spans and shrinkage -----------------------------------------
    def _set_state(self, agent: Agent, state: int) -> None:
        now = self.env.now
        old = agent.state
        if old != OFF and now > agent.since:
            add_time(agent.pool.stats.time[old], agent.since, now, self.L, self.n)
            if self.agent_states is not None:
                self.agent_states.append((agent.id, agent.pool.m.id, STATE_NAMES[old], agent.since, now))
        agent.state = state
        agent.since = now

    def _schedule_next_span(self, agent: Agent) -> None:
        if agent.span_i >= len(agent.spans):
            return
        start, end = agent.spans[agent.span_i]
        agent.span_i += 1
        self._at(max(start - self.env.now, 0.0), lambda _e, a=agent, end=end: self._on_duty(a, end))

    def _on_duty(self, agent: Agent, end: float) -> None:
        agent.epoch += 1
        agent.span_end = end
        epoch = agent.epoch
        self._at(end - self.env.now, lambda _e, a=agent, k=epoch: self._off_duty(a, k))
        pool = agent.pool
        if pool.m.shrinkage > 0:
            rng = self.streams.get("shrinkage", pool.m.id)
            # start in the stationary state: away with probability equal to shrinkage
            if rng.random() < pool.m.shrinkage:
                self._set_state(agent, AWAY)
                self._at(rng.exponential(pool.away_mean), lambda _e, a=agent, k=epoch: self._away_end(a, k))
                return
            self._at(rng.exponential(pool.avail_mean), lambda _e, a=agent, k=epoch: self._away_due(a, k))
        self._next_work(agent)

    def _off_duty(self, agent: Agent, epoch: int) -> None:
        if epoch != agent.epoch:
            return
        agent.epoch += 1
        if agent.state in (TALK, WRAP, HOLD):
            agent.leaving = True  # finishes the contact in hand first
            return
        agent.pool.idle.pop(agent, None)
        self._set_state(agent, OFF)
        self._schedule_next_span(agent)

    def _away_due(self, agent: Agent, epoch: int) -> None:
        if epoch != agent.epoch:
            return
        if agent.state == IDLE:
            agent.pool.idle.pop(agent, None)
            self._go_away(agent)
        elif agent.state in (TALK, WRAP, HOLD):
            agent.break_due = True

    def _go_away(self, agent: Agent) -> None:
        pool = agent.pool
        self._set_state(agent, AWAY)
        length = self.streams.get("shrinkage", pool.m.id).exponential(pool.away_mean)
        epoch = agent.epoch
        self._at(length, lambda _e, a=agent, k=epoch: self._away_end(a, k))

    def _away_end(self, agent: Agent, epoch: int) -> None:
        if epoch != agent.epoch:
            return
        pool = agent.pool
        gap = self.streams.get("shrinkage", pool.m.id).exponential(pool.avail_mean)
        self._at(gap, lambda _e, a=agent, k=epoch: self._away_due(a, k))
        self._next_work(agent)

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
        aid = 0
        for p in self.pools:
            for spans in p.m.spans:
                agent = Agent(f"{p.m.id}-{aid:04d}", p, spans)
                aid += 1
                p.agents.append(agent)
                self._schedule_next_span(agent)
        end = self.model.end
        self.env.run(until=end)
        self._close(end)
        return Recording(
            queues=[q.stats for q in self.queues],
            pools=[p.stats for p in self.pools],
            contacts=self.contacts,
            agent_states=self.agent_states,
            busyness=self.busyness,
        )

    def _close(self, end: float) -> None:
        """Flush agent time and count contacts still waiting when the horizon ends."""
        for p in self.pools:
            for a in p.agents:
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
