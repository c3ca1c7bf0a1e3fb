"""Chat: an agent holds up to ``pool.concurrency`` chat sessions at once.

Capacity per channel: a voice call (or a backlog item) takes an agent whole; a chat
session takes one of its pool's ``concurrency`` slots. An agent holding chats (state
``handling``) may take another chat until full, but no call: it is not in the pool's
idle list (which means "free for a call"); it is in this component's list of
partially loaded agents, in the order they got a free slot. A chat goes to the agent
free the longest: a fully idle agent since it went idle, a partially loaded one since
it last got a free slot.

A session answered while ``k`` sessions are in progress (itself included) takes
``handle × stretch^(k−1)`` (after the site's and the learning curve's factors); its
after-work keeps the slot. Chat customers abandon with the queue's own patience, and
the queue has its own service level, as any real-time queue. An escalation from a
chat is passed on as a transfer (the agent does not hold a chat for a consult).

Inside one of its pool's backlog blocks, an agent whose chat slot frees while backlog
work it could take waits *saves* its free slots: it takes no new chat, finishes the
chats it holds and then takes the backlog work. It stops saving (takes chats again, up
to its limit) as soon as no backlog work it could take waits (someone else took it) or
the block ends. Everywhere else a freed slot is filled at once with waiting chats.

Agent time while holding chats is split by load: with ``j`` of ``k`` slots taken, a
second counts ``j/k`` as handling and ``1 − j/k`` as idle, so occupancy and utilisation
count partial load (an agent with 2 of 3 chats is 2/3 busy). The engine flushes an
agent's time at every change of load (a ``handling`` → ``handling`` state change).

Events handled here: ``CHAT_END`` (talk is over; target: the chat contact),
``CHAT_FREE`` (its after-work is over: the slot frees; target: the chat contact) and
``CHAT_BLOCK_END`` (a backlog block of a pool with saving agents ends; target: the
pool). Hook: ``Backlog.take`` calls :meth:`Chat.backlog_taken`.
"""

from __future__ import annotations

import math

from bposim.engine.contacts import DONE
from bposim.engine.events import CHAT_BLOCK_END, CHAT_END, CHAT_FREE
from bposim.engine.recorder import TALK, TRANSFER


class Chat:
    """Chat sessions and partially loaded agents, per pool."""

    def __init__(self, engine, pools, queues):
        self.e = engine
        self.pools = pools
        self.queues = queues
        self.partial = [{} for _ in pools]  # agent -> None: 0 < load < concurrency, by free-since
        self.open = 0  # sessions holding a slot (in talk or after-work)
        self.talking = {}  # chat contacts in talk, in the order they were answered
        self.saving = {}  # agent -> None: saving free slots for backlog work, in order saved
        self.block_ends = set()  # (pool index, end) of block ends scheduled
        engine.on(CHAT_END, self._end)
        engine.on(CHAT_FREE, lambda ev: self._release(ev.target, ev.time))
        engine.on(CHAT_BLOCK_END, lambda ev: self._resume(ev.time))

    def agent_for(self, pools):
        """The agent with a free chat slot for longest among pool indices ``pools``."""
        best, best_t = None, math.inf
        idle_agents = self.e.dispatcher.idle_agents  # the dispatcher's list, read only
        for p in pools:
            idle = idle_agents(self.pools[p])
            if idle:
                a = next(iter(idle))
                if best is None or a.since < best_t:
                    best, best_t = a, a.since
            part = self.partial[p]
            while part:
                a = next(iter(part))
                if a.leaving or a.pending:  # finishing its chats before going off or away
                    del part[a]
                    continue
                if best is None or a.free_since < best_t:
                    best, best_t = a, a.free_since
                break
        return best

    def start(self, c, agent, now: float) -> None:
        """``agent`` answers chat ``c`` (the dispatcher has done the common part)."""
        e = self.e
        m = agent.pool.m
        e._set_state(agent, TALK)  # flushes the agent's time at its old load
        k = agent.load + 1
        agent.load = k
        self.open += 1
        if k > 1 and m.stretch != 1.0:
            c.handle *= m.stretch ** (k - 1)
        part = self.partial[m.index]
        if k < m.concurrency:
            if agent not in part:
                part[agent] = None
                agent.free_since = now
        else:
            part.pop(agent, None)
        self.talking[c] = None
        e.at(c.handle, CHAT_END, c)

    def fill(self, agent) -> None:
        """``agent`` has just taken a chat: it takes waiting chats up to its limit."""
        take = self.e.dispatcher.take_work
        limit = agent.pool.m.concurrency
        while agent.load < limit and take(agent, chat_only=True):
            pass

    def _end(self, ev) -> None:
        c = ev.target
        e = self.e
        agent = c.agent
        now = ev.time
        del self.talking[c]
        route = e.dispatcher._route(c, agent)
        if route is not None:
            for f in e.on_escalated:
                f(now, c)
            child = e.customers.new_contact(self.queues[route.target], TRANSFER, c.id, now,
                                            min(int(now // e.L), e.n - 1))
            e._offer(child)
        elif c.u_resolve is not None and c.u_resolve >= agent.pool.m.fcr:
            for f in e.on_unresolved:
                f(now, c)
            e.customers.come_back(c)
        for f in e.on_ended:
            f(now, c, "answered")
        c.state = DONE
        if e.backlog is not None:  # QA reviews sample closed contacts
            e.backlog.closed(c, agent, now)
        if c.holder is not None:  # a consult answered in chat ended: its holder finishes
            e.dispatcher.finish(c.holder)
        if c.wrap > 0:
            e.at(c.wrap, CHAT_FREE, c)
        else:
            self._release(c, now)

    def _release(self, c, now: float) -> None:
        """``c``'s slot frees: the agent takes another chat, or is free when it has none."""
        e = self.e
        agent = c.agent
        e._set_state(agent, TALK)  # flushes the agent's time at its old load
        agent.load -= 1
        self.open -= 1
        part = self.partial[agent.pool.m.index]
        if agent.load == 0:
            part.pop(agent, None)
            self.saving.pop(agent, None)
            e._free(agent)
            return
        if agent.leaving or agent.pending:  # it finishes its chats, then goes
            part.pop(agent, None)
            return
        if self._saves(agent):  # it finishes its chats, then takes backlog work
            part.pop(agent, None)
            if agent not in self.saving:
                self.saving[agent] = None
                self._schedule_block_end(agent, now)
            return
        self.saving.pop(agent, None)
        if agent not in part:
            part[agent] = None
            agent.free_since = now
        self.fill(agent)  # every free slot, not one: a slot may have been saved before

    def _saves(self, agent) -> bool:
        """Whether ``agent`` keeps its free slots for backlog work: inside a block of its
        pool, with backlog work it could take waiting."""
        backlog = self.e.backlog
        return backlog is not None and backlog.first(agent) and backlog.has_work(agent)

    def _schedule_block_end(self, agent, now: float) -> None:
        """An event at the end of the block ``agent`` saves slots in (once per block)."""
        pi = agent.pool.m.index
        for start, end in agent.pool.m.backlog_blocks:
            if start <= now < end:
                if (pi, end) not in self.block_ends:
                    self.block_ends.add((pi, end))
                    self.e.at(end - now, CHAT_BLOCK_END, agent.pool)
                return

    def backlog_taken(self) -> None:
        """Backlog work was taken: agents saving slots for work that no longer waits for
        them take chats again."""
        if self.saving:
            self._resume(self.e.env._now)

    def _resume(self, now: float) -> None:
        """Agents saving slots that no longer have a reason to go back on the partially
        loaded list (free since ``now``) and fill their free slots, in the order they saved."""
        for agent in [a for a in self.saving if not (a.leaving or a.pending or self._saves(a))]:
            if agent not in self.saving:  # a previous agent's chats changed things
                continue
            del self.saving[agent]
            part = self.partial[agent.pool.m.index]
            if agent not in part:
                part[agent] = None
                agent.free_since = now
            self.fill(agent)

    def close(self, end: float) -> None:
        """Chats still in talk when the horizon ends get their records (end NaN)."""
        for f in self.e.on_ended:
            for c in self.talking:
                f(math.nan, c, "answered")
