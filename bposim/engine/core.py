"""The discrete-event engine: SimPy keeps the clock, components do the work.

The engine composes components, each owning its state:

- :class:`~bposim.engine.contacts.Customers` — arrivals, contacts and their draws,
  customers coming back;
- :class:`~bposim.engine.dispatch.Dispatcher` — waiting lines, idle agents, talk,
  consults and escalations, with a replaceable routing policy;
- :class:`~bposim.engine.duty.Workforce` — duty spans, absence, breaks, shrinkage;
- :class:`~bposim.engine.outbound.Dialer` — outbound campaigns;
- channel components, present only when the model uses them:
  :class:`~bposim.engine.chat.Chat` (agents holding several chats), callbacks,
  retrials and backlog work (their own modules).

They talk through the engine's calls: :meth:`Engine.at` (schedule an event),
:meth:`Engine._offer` (a contact reaches its queue), :meth:`Engine._set_state` (an
agent changes state), :meth:`Engine._free` and :meth:`Engine._next_work` (the "agent
became free" chain: the workforce first, for an agent going off duty or on a pending
break, then the dispatcher's waiting contacts, then idle, where the dialer may claim
it). Events are data (:mod:`bposim.engine.events`), dispatched by kind through one
table; what happens is reported to observers (:mod:`bposim.engine.observers`), which
fill the statistics and logs.
"""

from __future__ import annotations

from heapq import heappush

import simpy
from simpy.core import NORMAL

from bposim.engine.backlog import Backlog, uses_backlog
from bposim.engine.backlog_stats import BacklogStats
from bposim.engine.callbacks import Callbacks
from bposim.engine.chat import Chat
from bposim.engine.contacts import DONE, SERVING, WAITING, Contact, Customers
from bposim.engine.dispatch import Dispatcher, PoolState, QueueState
from bposim.engine.duty import Agent, Workforce
from bposim.engine.events import FREE, KIND_NAMES, N_KINDS, Event, target_name
from bposim.engine.model import Model
from bposim.engine.observers import AgentStateLog, ContactLog, IntervalStats, bind
from bposim.engine.outbound import Dialer
from bposim.engine.recorder import PoolStats, QueueStats, Recording
from bposim.engine.retrials import Retrials
from bposim.rng import Streams

__all__ = ["Engine", "simulate_model", "Contact", "Agent", "WAITING", "SERVING", "DONE"]


class Engine:
    """One replication of a compiled :class:`Model` driven by named random streams.

    ``observers``: objects with some of the methods listed in
    :mod:`bposim.engine.observers`, told of every domain event after the built-in
    statistics. ``trace``: a list (appended to) or a callable, given
    ``(time, kind name, target name, epoch)`` for every event dispatched.
    """

    def __init__(self, model: Model, streams: Streams, observers=(), trace=None, policy=None):
        self.model = model
        self.streams = streams
        self.env = env = simpy.Environment()
        self._queue, self._eid = env._queue, env._eid  # SimPy's heap and insertion counter
        self.L = L = model.interval
        self.n = n = model.n_intervals
        self._callbacks: list = [None] * N_KINDS
        self._trace = trace.append if isinstance(trace, list) else trace
        self.queues = [QueueState(q, QueueStats(n)) for q in model.queues]
        self.pools = [PoolState(p, PoolStats(n)) for p in model.pools]
        self.contacts = [] if model.keep_contacts else None
        self.agent_states = [] if model.keep_agent_states else None
        builtin = [IntervalStats(L, n, len(self.queues))]
        has_backlog = uses_backlog(model)
        if has_backlog:
            builtin.append(BacklogStats(self.queues, self.pools, L, n))
        if self.contacts is not None:
            builtin.append(ContactLog(self.contacts))
        if self.agent_states is not None:
            builtin.append(AgentStateLog(self.agent_states))
        for name, fns in bind(builtin, observers).items():
            setattr(self, "on_" + name, fns)
        self.customers = Customers(self)
        self.dispatcher = Dispatcher(self, self.queues, self.pools, policy)
        self.workforce = Workforce(self, self.pools)
        self.dialer = Dialer(self, self.pools, self.queues)
        # voice-queue features, present only when some queue uses them
        self.callbacks = Callbacks(self) if any(q.callback for q in model.queues) else None
        self.retrials = Retrials(self) if any(q.retrial for q in model.queues) else None
        # chat sessions sharing agents, only when some queue is a chat queue
        self.chat = Chat(self, self.pools, self.queues) if any(q.chat for q in self.queues) else None
        # deferrable work (email, back office, QA reviews, coaching), only when there is some
        self.backlog = Backlog(self) if has_backlog else None
        self.campaigns = self.dialer.campaigns
        self.on(FREE, lambda ev: self._free(ev.target))

    # -- events ------------------------------------------------------------------------
    def on(self, kind: int, handler) -> None:
        """Register the handler of an event kind (each kind has exactly one)."""
        if self._trace is not None:
            record, inner = self._trace, handler

            def handler(ev):
                record((ev.time, KIND_NAMES[ev.kind], target_name(ev.target), ev.epoch))
                inner(ev)

        self._callbacks[kind] = (handler,)

    def at(self, delay: float, kind: int, target, epoch: int = 0, data=None,
           heappush=heappush, NORMAL=NORMAL, Event=Event) -> None:  # (bound once: fast names)
        """Schedule an event of ``kind`` at ``now + delay``: the entry SimPy's own
        ``Environment.schedule(event, NORMAL, delay)`` makes, pushed directly."""
        t = self.env._now + delay
        heappush(self._queue, (t, NORMAL, next(self._eid),
                               Event(self._callbacks[kind], t, kind, target, epoch, data)))

    # -- the engine's calls between components -------------------------------------------
    def _offer(self, c) -> None:
        """A contact reaches its queue (an item of a deferrable queue: the backlog)."""
        if c.queue.m.deferrable:
            self.backlog.offer(c)
        else:
            self.dispatcher.offer(c)

    def _requeue(self, c) -> None:
        """A contact offered before (a callback) enters its queue's line again."""
        self.dispatcher.place(c, self.env._now)

    def _set_state(self, agent, state: int) -> None:
        """``agent`` changes state; observers are told before ``since`` moves on."""
        now = self.env._now
        for f in self.on_agent_state:
            f(now, agent, agent.state, state)
        agent.state = state
        agent.since = now

    def _free(self, agent) -> None:
        """``agent`` finished its work: the "agent became free" chain."""
        agent.contact = None
        if (agent.leaving or agent.pending) and self.workforce.take(agent):
            return
        self._next_work(agent)

    def _next_work(self, agent) -> None:
        """An available agent takes a waiting contact, or backlog work (before real-time
        contacts inside its pool's backlog blocks, after them elsewhere), or becomes idle
        (and a campaign of its pool may then give it outbound work)."""
        backlog = self.backlog
        if backlog is not None and backlog.first(agent) and backlog.take(agent):
            return
        if self.dispatcher.take_work(agent):
            return
        if backlog is not None and backlog.take(agent):
            return
        self.dispatcher.make_idle(agent)
        if agent.pool.camp is not None:
            self.dialer.agent_idle(agent)

    # -- the run ----------------------------------------------------------------------
    def run(self) -> Recording:
        for q in self.queues:
            self.customers.start(q)
        self.dialer.start(self.contacts is not None)
        self.workforce.start()
        if self.backlog is not None:
            self.backlog.start()
        end = self.model.end
        self.env.run(until=end)
        if self.backlog is not None:
            self.backlog.close(end)
        if self.chat is not None:
            self.chat.close(end)
        self.workforce.close(end)
        self.dispatcher.close(end)
        if self.callbacks is not None:
            self.callbacks.close(end)
        return Recording(
            queues=[q.stats for q in self.queues],
            pools=[p.stats for p in self.pools],
            contacts=self.contacts,
            agent_states=self.agent_states,
            busyness=self.customers.busyness,
            campaigns=[c.stats for c in self.campaigns],
        )


def simulate_model(model: Model, streams: Streams, observers=(), trace=None) -> Recording:
    """Run one replication of ``model`` (see :class:`Engine` for ``observers`` and ``trace``)."""
    return Engine(model, streams, observers, trace).run()
