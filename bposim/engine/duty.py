"""Agents' working day inside the engine: duty spans, absence, breaks and shrinkage.

A mixin of :class:`bposim.engine.core.Engine`, kept apart so the dispatcher stays
readable. An agent always finishes the contact in hand before going off duty, on a
break or into a shrinkage period; such a wish waits in ``agent.pending``. At most
``max_on_break`` of a pool's on-duty agents (at least one) are on break at once; a
break that would exceed it is retried a few minutes later. Each timer carries the
agent's ``epoch`` so that a timer set in an earlier duty span does nothing.
"""

from __future__ import annotations

from bposim.engine.recorder import AWAY, BREAK, BUSY_STATES, DIALING, IDLE, OFF, STATE_NAMES
from bposim.engine.roster import add_time

BREAK_RETRY = 300.0  # seconds before a break held back by the cap is tried again
BUSY = (*BUSY_STATES, DIALING)  # an agent in these finishes what it is doing first


class DutyMixin:
    """Agent lifecycle events; expects ``env``, ``streams``, ``L``, ``n``, ``_at``,
    ``_next_work`` and ``agent_states`` from the engine."""

    def _set_state(self, agent, state: int) -> None:
        now = self.env.now
        old = agent.state
        if old != OFF and now > agent.since:
            add_time(agent.pool.stats.time[old], agent.since, now, self.L, self.n)
            if self.agent_states is not None:
                self.agent_states.append((agent.id, agent.pool.m.id, STATE_NAMES[old], agent.since, now))
        agent.state = state
        agent.since = now

    def _schedule_next_span(self, agent) -> None:
        """Set the timer for the agent's next span, skipping days they are absent.

        An agent still finishing a contact may run into (or through) the next span: that
        time is paid as scheduled, so it is taken off the overrun, and a span already over
        is not started at all."""
        pool = agent.pool
        now = self.env.now
        while agent.span_i < len(agent.spans):
            span = agent.spans[agent.span_i]
            agent.span_i += 1
            if pool.m.absenteeism > 0 and pool.absence() < pool.m.absenteeism:
                add_time(pool.stats.absent, span.start, span.end, self.L, self.n)
                continue
            add_time(pool.stats.paid, span.start, span.end, self.L, self.n)
            if span.start < now:
                pool.stats.overrun -= min(span.end, now) - span.start
            if span.end <= now:
                continue
            pool.stats.breaks_planned += len(span.breaks)
            self._at(max(span.start - now, 0.0), lambda _e, a=agent, s=span: self._on_duty(a, s))
            return

    def _on_duty(self, agent, span) -> None:
        agent.epoch += 1
        agent.span_end = span.end
        agent.pending.clear()
        epoch = agent.epoch
        pool = agent.pool
        pool.on_duty += 1
        now = self.env.now
        self._at(span.end - now, lambda _e, a=agent, k=epoch: self._off_duty(a, k))
        for start, secs in span.breaks:
            self._at(max(start - now, 0.0), lambda _e, a=agent, k=epoch, s=secs: self._due(a, k, BREAK, s))
        if pool.m.shrinkage > 0:
            # start in the stationary state: away with probability equal to shrinkage
            if pool.shrink_start() < pool.m.shrinkage:
                self._go_away(agent, AWAY, pool.shrink_away() * pool.away_mean)
                return
            self._at(pool.shrink_avail() * pool.avail_mean, lambda _e, a=agent, k=epoch: self._shrink_due(a, k))
        self._next_work(agent)

    def _off_duty(self, agent, epoch: int) -> None:
        if epoch != agent.epoch:
            return
        pool = agent.pool
        agent.epoch += 1
        pool.on_duty -= 1
        agent.pending.clear()
        if agent.state in BUSY:
            agent.leaving = True  # finishes the contact in hand first
            return
        if agent.state == BREAK:
            pool.on_break -= 1
        pool.idle.pop(agent, None)
        self._set_state(agent, OFF)
        self._schedule_next_span(agent)

    def _leave_after_contact(self, agent) -> None:
        agent.leaving = False
        agent.pool.stats.overrun += self.env.now - agent.span_end
        self._set_state(agent, OFF)
        self._schedule_next_span(agent)

    def _shrink_due(self, agent, epoch: int) -> None:
        pool = agent.pool
        self._due(agent, epoch, AWAY, pool.shrink_away() * pool.away_mean)

    def _due(self, agent, epoch: int, kind: int, seconds: float) -> None:
        """A break or shrinkage period is due: now if idle, else after the contact in hand."""
        if epoch != agent.epoch:
            return
        if agent.state == IDLE:
            if self._go_away(agent, kind, seconds):
                agent.pool.idle.pop(agent, None)
        elif agent.state != OFF:
            agent.pending.append((kind, seconds))

    def _go_away(self, agent, kind: int, seconds: float) -> bool:
        """Start a break (if the cap allows) or shrinkage period; False if held back."""
        pool = agent.pool
        if kind == BREAK:
            cap = max(1, int(pool.m.max_on_break * pool.on_duty + 1e-9))
            if pool.on_break >= cap:
                epoch = agent.epoch
                self._at(BREAK_RETRY, lambda _e, a=agent, k=epoch, s=seconds: self._due(a, k, BREAK, s))
                return False
            pool.on_break += 1
            pool.stats.breaks_taken += 1
            share = pool.on_break / max(pool.on_duty, 1)
            if share > pool.stats.max_on_break_share:
                pool.stats.max_on_break_share = share
        self._set_state(agent, kind)
        epoch = agent.epoch
        self._at(seconds, lambda _e, a=agent, k=epoch, kd=kind: self._back(a, k, kd))
        return True

    def _back(self, agent, epoch: int, kind: int) -> None:
        """A break or shrinkage period ends."""
        if epoch != agent.epoch:
            return
        pool = agent.pool
        if kind == BREAK:
            pool.on_break -= 1
        else:
            self._at(pool.shrink_avail() * pool.avail_mean,
                     lambda _e, a=agent, k=epoch: self._shrink_due(a, k))
        self._available(agent)

    def _available(self, agent) -> None:
        """The agent is free: take a pending break or shrinkage first, else work."""
        while agent.pending:
            kind, seconds = agent.pending.popleft()
            if self._go_away(agent, kind, seconds):
                return
        self._next_work(agent)
