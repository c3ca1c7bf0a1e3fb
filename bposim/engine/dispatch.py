"""The dispatcher: queues of waiting contacts, idle agents, and who serves whom.

Routing rules (skills with priorities, longest-idle agent, longest-waiting contact,
overflow after a wait, consults that hold two agents) do not fit ``simpy.Resource``,
so each queue keeps a FIFO of waiting contacts and each pool its idle agents in
idle-since order. *Which* agent takes a new contact and *which* contact a free agent
takes is the routing policy's choice (:class:`LongestIdle`), a replaceable object.

Events handled here: ``ABANDON`` (a waiting contact's patience ran out; stale once it
was answered), ``OVERFLOW`` (a contact has waited long enough for more pools; stale
once answered or gone) and ``END_TALK`` (target: the agent). The dispatcher talks to
the other components only through the engine's calls (``_offer``, ``_free``,
``_set_state``, ``at``) and reports what happens to the observers.
"""

from __future__ import annotations

import math
from collections import deque

from bposim.engine.channel_model import CHAT
from bposim.engine.contacts import ABANDONED, DONE, SERVING, WAITING
from bposim.engine.events import ABANDON, END_TALK, FREE, OVERFLOW
from bposim.engine.recorder import CONSULT, HOLD, IDLE, TALK, TRANSFER, WRAP

_INF = math.inf


class QueueState:
    """A queue at run time: its waiting line (contacts that left are dropped lazily)."""

    __slots__ = ("m", "stats", "waiting", "n_waiting", "immediate", "overflow", "fcr_matters",
                 "chat")

    def __init__(self, m, stats):
        self.m = m
        self.stats = stats  # the QueueStats the interval-statistics observer fills
        self.waiting = deque()
        self.n_waiting = 0
        # the compiler's routing tables, at hand
        self.immediate = m.immediate
        self.overflow = m.overflow
        self.fcr_matters = m.fcr_matters
        self.chat = m.channel_code == CHAT  # sessions share an agent (bposim.engine.chat)


class PoolState:
    """A pool at run time: its agents and its idle agents, in idle-since order.

    ``idle`` belongs to the dispatcher (only it adds or removes agents, through
    :meth:`Dispatcher.make_idle` and :meth:`Dispatcher.claim`); ``agents`` is filled by
    the workforce; ``camp`` is the outbound campaign this pool works (the dialer's)."""

    __slots__ = ("m", "stats", "idle", "agents", "camp")

    def __init__(self, m, stats):
        self.m = m
        self.stats = stats
        self.idle = {}  # agent -> None, in idle-since order (dicts keep insertion order)
        self.agents = []
        self.camp = None


class LongestIdle:
    """Routing policy: a new contact goes to the longest-idle qualified agent; a free
    agent takes the highest-priority skill level with a contact waiting (and whose
    overflow wait is over), and within it the longest-waiting contact, where a contact
    of a queue with a ``head_start`` of h seconds counts as having arrived h seconds
    earlier (delay-based priority; 0 leaves the plain longest-waiting choice)."""

    def __init__(self, pools, queues):
        self.pools = pools
        self.queues = queues

    def agent_for(self, pools):
        """The longest-idle agent among pool indices ``pools``, or None."""
        best = None
        all_pools = self.pools
        for p in pools:
            idle = all_pools[p].idle
            if idle:
                a = next(iter(idle))
                if best is None or a.since < best.since:
                    best = a
        return best

    def contact_for(self, agent, now, chat_only: bool = False):
        """The (queue, contact) ``agent`` should take now (only chats: ``chat_only``), or None."""
        queues = self.queues
        for level in agent.pool.m.levels:
            best = best_q = None
            best_key = 0.0
            for qi, after in level:
                q = queues[qi]
                if chat_only and not q.chat:
                    continue
                w = q.waiting
                while w and w[0].state != WAITING:
                    w.popleft()
                if w:
                    head = w[0]
                    if after > 0 and now - head.arrival < after - 1e-9:
                        continue
                    # head start: the queue's contacts count as having arrived earlier
                    key = head.arrival - q.m.head_start
                    if best is None or key < best_key:
                        best, best_q, best_key = head, q, key
            if best is not None:
                return best_q, best
        return None


class Dispatcher:
    """Offers contacts to agents, runs talk and consults, and makes free agents work."""

    def __init__(self, engine, queues, pools, policy=None):
        self.e = engine
        self.queues = queues
        self.pools = pools
        self.policy = policy or LongestIdle(pools, queues)
        engine.on(ABANDON, self._abandon)
        engine.on(OVERFLOW, self._overflow)
        engine.on(END_TALK, self._end_talk)

    # -- contacts arriving and leaving the line ----------------------------------------
    def offer(self, c) -> None:
        """A contact reaches its queue: the policy's agent, or wait."""
        e = self.e
        now = e.env._now
        for f in e.on_offered:
            f(now, c)
        self.place(c, now)

    def place(self, c, now) -> None:
        """``c`` goes to the policy's agent, or waits (a callback entering the line again
        comes here directly: it was offered once)."""
        e = self.e
        q = c.queue
        agent = e.chat.agent_for(q.immediate) if q.chat else self.policy.agent_for(q.immediate)
        if agent is not None:
            self.answer(c, agent, now)
            return
        if q.m.callback is not None and e.callbacks.consider(q, c):
            return  # a scheduled callback: the customer left the line
        self._line(q, +1, now)
        q.waiting.append(c)
        if c.patience < _INF:
            e.at(c.patience, ABANDON, c)
        for after, pools in q.overflow:
            if after < c.patience:
                e.at(after, OVERFLOW, c, 0, pools)

    def _line(self, q, delta: int, now) -> None:
        before = q.n_waiting
        q.n_waiting = before + delta
        for f in self.e.on_waiting:
            f(now, q, before, before + delta)

    def _abandon(self, ev) -> None:
        c = ev.target
        if c.state != WAITING:
            return  # answered before the customer's patience ran out
        e = self.e
        now = ev.time
        c.state = ABANDONED
        self._line(c.queue, -1, now)
        for f in e.on_abandoned:
            f(now, c)
        for f in e.on_ended:
            f(now, c, "abandoned")
        if c.queue.m.retrial is not None:
            e.retrials.abandoned(c)
        if c.holder is not None:  # no expert came in time: the first agent carries on alone
            self.finish(c.holder)

    def _overflow(self, ev) -> None:
        c = ev.target
        if c.state != WAITING:
            return
        agent = self.e.chat.agent_for(ev.data) if c.queue.chat else self.policy.agent_for(ev.data)
        if agent is not None:
            self._line(c.queue, -1, ev.time)
            self.answer(c, agent, ev.time)

    # -- service ---------------------------------------------------------------------
    def claim(self, agent) -> None:
        """``agent`` is no longer idle (it took work, went on a break or off duty)."""
        agent.pool.idle.pop(agent, None)

    def idle_agents(self, pool) -> dict:
        """``pool``'s idle agents in idle-since order (read only)."""
        return pool.idle

    def make_idle(self, agent) -> None:
        self.e._set_state(agent, IDLE)
        agent.pool.idle[agent] = None

    def answer(self, c, agent, now: float) -> None:
        e = self.e
        if c.callback is not None and e.callbacks.dial(c, agent):
            return  # a callback nobody answered: the agent rings out
        c.state = SERVING
        c.answer = now
        c.agent = agent
        for f in e.on_answered:
            f(now, c, agent)
        pool = agent.pool
        pool.idle.pop(agent, None)
        factor = agent.factor
        if factor is None:
            factor = e.workforce.speed(agent, now)
        if factor != 1.0:  # the site's and the agent's speed scale this customer's times
            c.handle *= factor
            c.wrap *= factor
        if c.queue.chat:  # one session of several (bposim.engine.chat)
            e.chat.start(c, agent, now)
            return
        e._set_state(agent, TALK)
        agent.contact = c
        e.at(c.handle, END_TALK, agent)

    def _route(self, c, agent):
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

    def _end_talk(self, ev) -> None:
        agent = ev.target
        e = self.e
        c = agent.contact
        now = ev.time
        route = None if c.u_escalate is None else self._route(c, agent)
        if route is not None:
            for f in e.on_escalated:
                f(now, c)
            target = self.queues[route.target]
            customers = e.customers
            child = customers.new_contact(target, CONSULT if route.consult else TRANSFER, c.id, now,
                                          min(int(now // e.L), e.n - 1))
            if route.consult:
                if route.consult_time is not None:
                    child.handle = customers.consult_time(route)
                child.holder = agent
                e._set_state(agent, HOLD)
                e._offer(child)
                return  # the agent is released when the consult ends
            e._offer(child)
        elif c.u_resolve is not None and c.origin != CONSULT and c.u_resolve >= agent.pool.m.fcr:
            for f in e.on_unresolved:
                f(now, c)
            e.customers.come_back(c)
        if c.holder is not None:  # a consult ended: the holding agent finishes its contact
            self.finish(c.holder)
        self.finish(agent)

    def finish(self, agent) -> None:
        """Talk (and any consult) is over: the record ends, then wrap or free."""
        e = self.e
        c = agent.contact
        now = e.env._now
        outcome = "closed" if c.queue.m.deferrable else "answered"
        for f in e.on_ended:
            f(now, c, outcome)
        c.state = DONE
        if e.backlog is not None:  # QA reviews sample closed contacts
            e.backlog.closed(c, agent, now)
        if c.wrap > 0:
            e._set_state(agent, WRAP)
            e.at(c.wrap, FREE, agent)
        else:
            e._free(agent)

    def take_work(self, agent, chat_only: bool = False) -> bool:
        """A free agent takes the policy's contact, if any; True if it did (an agent holding
        chats with a free slot: ``chat_only``)."""
        e = self.e
        now = e.env._now
        pick = self.policy.contact_for(agent, now, chat_only)
        if pick is None:
            return False
        q, c = pick
        q.waiting.popleft()
        self._line(q, -1, now)
        self.answer(c, agent, now)
        if q.chat and not chat_only:  # a free agent took a chat: more chats, up to its limit
            e.chat.fill(agent)
        return True

    def close(self, end: float) -> None:
        """The horizon ended: the line is flushed and contacts still waiting reported."""
        e = self.e
        for q in self.queues:
            self._line(q, 0, end)
            for c in q.waiting:
                if c.state == WAITING:
                    for f in e.on_unanswered:
                        f(end, c)
                    for f in e.on_ended:
                        f(end, c, "unanswered_at_end")
