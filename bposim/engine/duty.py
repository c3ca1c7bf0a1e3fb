"""The workforce component: agents' duty spans, absence, breaks and shrinkage.

An agent always finishes the work in hand before going off duty, on a break or into
a shrinkage period; such a wish waits in ``agent.pending``. At most ``max_on_break``
of a pool's on-duty agents (at least one) are on break at once; a break that would
exceed it is retried a few minutes later. Each timer carries the agent's ``epoch``
(raised at every start and end of duty), so a timer of an earlier span is stale and
does nothing.

Events handled here (target: the agent): ``ON_DUTY`` (payload: the span),
``OFF_DUTY``, ``DUE`` (a break or shrinkage period is due; payload: (kind, seconds)),
``SHRINK_DUE`` and ``BACK`` (payload: the kind of absence that ends). The workforce
keeps the pools' workforce accounts itself (paid, absent and overrun time, breaks,
hires and leavers in :class:`~bposim.engine.recorder.PoolStats`); agent time per
state is the observers'.
"""

from __future__ import annotations

import math
from collections import deque

from bposim.distributions import DistributionSpec
from bposim.engine.contacts import SERVING
from bposim.engine.events import BACK, DUE, OFF_DUTY, ON_DUTY, SHRINK_DUE
from bposim.engine.recorder import AWAY, BREAK, BUSY_STATES, DIALING, IDLE, OFF
from bposim.engine.roster import add_time
from bposim.engine.workforce import aht_factor, staffers
from bposim.rng import BufferedSampler

BREAK_RETRY = 300.0  # seconds before a break held back by the cap is tried again
BUSY = (*BUSY_STATES, DIALING)  # an agent in these finishes what it is doing first
_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_EXP1 = DistributionSpec("exponential", mean=1.0)


class Agent:
    """One agent. ``state``/``since`` are the engine's; ``contact`` the dispatcher's;
    ``load``/``free_since`` (chat sessions held) the chat component's; ``dials_out`` the
    dialer's; the duty fields (spans, epoch, pending, leaving) the workforce's."""

    __slots__ = ("id", "pool", "state", "since", "spans", "span_i", "span_end", "leaving",
                 "pending", "epoch", "contact", "hired", "factor", "dials_out", "load", "free_since")

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
        self.load = 0  # chat sessions held (0 for every other kind of work)
        self.free_since = 0.0  # when it last got a free chat slot while holding chats
        # handle-time multiplier: fixed unless the agent is still learning
        learning = pool.m.proficiency is not None and hired is not None
        self.factor = None if learning else pool.m.handle_factor


class Crew:
    """The workforce's run-time state of one pool."""

    __slots__ = ("m", "stats", "on_duty", "on_break", "away_mean", "avail_mean", "shrink_start",
                 "shrink_away", "shrink_avail", "absence")

    def __init__(self, m, stats, streams):
        self.m = m
        self.stats = stats
        s = m.shrinkage
        self.away_mean = m.shrinkage_period
        self.avail_mean = m.shrinkage_period * (1 - s) / s if s > 0 else math.inf
        self.on_duty = 0
        self.on_break = 0
        # shrinkage draws: one buffered stream each, so the k-th draw is fixed whatever
        # the order of events (and a compiled engine can pre-draw them)
        self.shrink_start = BufferedSampler(_UNIFORM, streams.get("shrinkage_start", m.id))
        self.shrink_away = BufferedSampler(_EXP1, streams.get("shrinkage_away", m.id))
        self.shrink_avail = BufferedSampler(_EXP1, streams.get("shrinkage_avail", m.id))
        self.absence = BufferedSampler(_UNIFORM, streams.get("absence", m.id))


class Workforce:
    """Who is on duty, on a break or away; hands agents to the engine when free."""

    def __init__(self, engine, pools):
        self.e = engine
        self.pools = pools
        self.crews = [Crew(p.m, p.stats, engine.streams) for p in pools]
        engine.on(ON_DUTY, self._on_duty)
        engine.on(OFF_DUTY, self._off_duty)
        engine.on(DUE, lambda ev: self._due(ev.target, ev.epoch, *ev.data))
        engine.on(SHRINK_DUE, self._shrink_due)
        engine.on(BACK, self._back)

    def start(self) -> None:
        """Draw each pool's people (leavers, hires) and set their first duty timers."""
        e = self.e
        for p in self.pools:
            rng = e.streams.get("attrition", p.m.id) if p.m.attrition else None
            people = staffers(p.m, e.model.end, rng)
            p.stats.leavers = sum(1 for person in people if person.left is not None)
            for k, person in enumerate(people):
                agent = Agent(f"{p.m.id}-{k:04d}", p, person.spans, person.hired)
                p.agents.append(agent)
                self.schedule_next_span(agent)
            p.stats.hires = sum(1 for person in people if person.replaces is not None)

    def speed(self, agent, now: float) -> float:
        """Handle-time multiplier of a learning agent now (site factor included)."""
        m = agent.pool.m
        return m.handle_factor * aht_factor(m.proficiency, agent.hired, now)

    def schedule_next_span(self, agent) -> None:
        """Set the timer for the agent's next span, skipping days they are absent.

        An agent still finishing a contact may run into (or through) the next span: that
        time is paid as scheduled, so it is taken off the overrun, and a span already over
        is not started at all."""
        e = self.e
        crew = self.crews[agent.pool.m.index]
        st = crew.stats
        now = e.env.now
        while agent.span_i < len(agent.spans):
            span = agent.spans[agent.span_i]
            agent.span_i += 1
            if crew.m.absenteeism > 0 and crew.absence() < crew.m.absenteeism:
                add_time(st.absent, span.start, span.end, e.L, e.n)
                continue
            add_time(st.paid, span.start, span.end, e.L, e.n)
            if span.start < now:
                st.overrun -= min(span.end, now) - span.start
            if span.end <= now:
                continue
            st.breaks_planned += len(span.breaks)
            e.at(max(span.start - now, 0.0), ON_DUTY, agent, 0, span)
            return

    def _on_duty(self, ev) -> None:
        agent, span = ev.target, ev.data
        e = self.e
        agent.epoch += 1
        agent.span_end = span.end
        agent.pending.clear()
        epoch = agent.epoch
        crew = self.crews[agent.pool.m.index]
        crew.on_duty += 1
        now = e.env.now
        e.at(span.end - now, OFF_DUTY, agent, epoch)
        for start, secs in span.breaks:
            e.at(max(start - now, 0.0), DUE, agent, epoch, (BREAK, secs))
        if crew.m.shrinkage > 0:
            # start in the stationary state: away with probability equal to shrinkage
            if crew.shrink_start() < crew.m.shrinkage:
                self._go_away(agent, AWAY, crew.shrink_away() * crew.away_mean)
                return
            e.at(crew.shrink_avail() * crew.avail_mean, SHRINK_DUE, agent, epoch)
        e._next_work(agent)

    def _off_duty(self, ev) -> None:
        agent = ev.target
        if ev.epoch != agent.epoch:
            return
        e = self.e
        crew = self.crews[agent.pool.m.index]
        agent.epoch += 1
        crew.on_duty -= 1
        agent.pending.clear()
        if agent.state in BUSY:
            agent.leaving = True  # finishes the contact in hand first
            return
        if agent.state == BREAK:
            crew.on_break -= 1
        e.dispatcher.claim(agent)
        e._set_state(agent, OFF)
        self.schedule_next_span(agent)

    def take(self, agent) -> bool:
        """First link of the engine's "agent became free" chain: an agent past the end of
        duty goes off, a pending break or shrinkage period starts; True if either did."""
        if agent.leaving:
            self._leave_after_contact(agent)
            return True
        while agent.pending:
            kind, seconds = agent.pending.popleft()
            if self._go_away(agent, kind, seconds):
                return True
        return False

    def _leave_after_contact(self, agent) -> None:
        e = self.e
        agent.leaving = False
        self.crews[agent.pool.m.index].stats.overrun += e.env.now - agent.span_end
        e._set_state(agent, OFF)
        self.schedule_next_span(agent)

    def _shrink_due(self, ev) -> None:
        agent = ev.target
        crew = self.crews[agent.pool.m.index]
        self._due(agent, ev.epoch, AWAY, crew.shrink_away() * crew.away_mean)

    def _due(self, agent, epoch: int, kind: int, seconds: float) -> None:
        """A break or shrinkage period is due: now if idle, else after the contact in hand."""
        if epoch != agent.epoch:
            return
        if agent.state == IDLE:
            if self._go_away(agent, kind, seconds):
                self.e.dispatcher.claim(agent)
        elif agent.state != OFF:
            agent.pending.append((kind, seconds))

    def _go_away(self, agent, kind: int, seconds: float) -> bool:
        """Start a break (if the cap allows) or shrinkage period; False if held back."""
        e = self.e
        crew = self.crews[agent.pool.m.index]
        if kind == BREAK:
            cap = max(1, int(crew.m.max_on_break * crew.on_duty + 1e-9))
            if crew.on_break >= cap:
                e.at(BREAK_RETRY, DUE, agent, agent.epoch, (BREAK, seconds))
                return False
            crew.on_break += 1
            st = crew.stats
            st.breaks_taken += 1
            share = crew.on_break / max(crew.on_duty, 1)
            if share > st.max_on_break_share:
                st.max_on_break_share = share
        e._set_state(agent, kind)
        e.at(seconds, BACK, agent, agent.epoch, kind)
        return True

    def _back(self, ev) -> None:
        """A break or shrinkage period ends."""
        agent = ev.target
        epoch = ev.epoch
        if epoch != agent.epoch:
            return
        crew = self.crews[agent.pool.m.index]
        if ev.data == BREAK:
            crew.on_break -= 1
        else:
            self.e.at(crew.shrink_avail() * crew.avail_mean, SHRINK_DUE, agent, epoch)
        if not self.take(agent):
            self.e._next_work(agent)

    def close(self, end: float) -> None:
        """The horizon ended: time worked past the end of duty is overrun; every agent
        goes off (so the observers see each state's last stretch)."""
        e = self.e
        for p in self.pools:
            st = p.stats
            for a in p.agents:
                if a.leaving:  # still finishing a contact after the end of duty
                    st.overrun += end - a.span_end
                    a.leaving = False
                    self.schedule_next_span(a)  # later spans it worked through are paid
                c = a.contact
                if c is not None and c.state == SERVING:  # still in service at the end
                    for f in e.on_ended:
                        f(math.nan, c, "answered")
                e._set_state(a, OFF)
