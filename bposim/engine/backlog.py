"""The backlog: deferrable work that waits for a free agent instead of abandoning.

Two kinds of deferrable work share one set of rules:

- **items of deferrable queues** (``channel: email`` or ``back_office``): contacts that
  arrive like any other, never abandon, and are due ``QueueModel.due`` seconds after
  they arrive. They wait here, not in the dispatcher's lines, and are served with the
  dispatcher's ``answer`` (state "handling", then wrap and escalations as usual);
- **pool tasks** (:class:`Task`): QA reviews of a sampled share of the contacts closed
  by the pools a pool reviews (``PoolModel.qa``; streams ``qa_sample`` and ``qa_time``
  of the reviewing pool), and coaching sessions for the new hires of the pools it
  coaches (``PoolModel.coaching``; deterministic). An agent works a task in state
  ``qa_review`` or ``coaching``, which count as busy time.

Who takes what: an agent that becomes free takes a waiting real-time contact first
(voice, chat: the dispatcher's routing policy), then backlog work; inside one of its
pool's ``backlog_blocks`` the order is the other way round. Among backlog work it takes
its highest skill priority with an item waiting, and there the item due first; the
pool's own tasks (QA, coaching) come after every skill, the one due first. Work is
never interrupted: an agent finishes the item in hand. An item goes to any pool with
the skill as soon as it arrives (``overflow_after`` does not apply to backlog work).

Events handled here: ``RELEASE`` (a coaching session becomes workable; target: the
task) and ``TASK_END`` (an agent finishes a task; target: the agent, payload: the
task). What happens is told to the observers: ``offered``/``answered``/``ended`` for
queue items (outcome ``"closed"`` at the end of handling, or ``"open_at_end"``),
``waiting`` for the number waiting, and ``task(now, task, what)`` for tasks
(``"released"``, ``"started"``, ``"done"``, ``"open_at_end"``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from heapq import heappop, heappush

from bposim.distributions import DistributionSpec
from bposim.engine.contacts import DONE, SERVING
from bposim.engine.events import RELEASE, TASK_END
from bposim.engine.recorder import COACHING, QA_REVIEW
from bposim.rng import BufferedSampler

WEEK = 7 * 86400.0
DEFAULT_WEEKS = 12.0  # learning period of a replacement hire in a pool without proficiency
CLOSED, OPEN_AT_END = "closed", "open_at_end"
_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)


class Task:
    """A QA review or coaching session: ``work`` seconds of an agent of ``pool``
    (index), workable from ``release``, due at ``due``; ``subject`` is the reviewed
    contact's id or the coached agent's id."""

    __slots__ = ("id", "kind", "pool", "release", "due", "work", "interval", "subject", "agent",
                 "start", "end")

    def __init__(self, tid, kind, pool, release, due, work, interval, subject):
        self.id = tid
        self.kind = kind  # QA_REVIEW or COACHING (the agent's state while working it)
        self.pool = pool
        self.release = release
        self.due = due
        self.work = work
        self.interval = interval  # interval of release
        self.subject = subject
        self.agent = None
        self.start = None
        self.end = None


class _Reviewer:
    """One reviewing pool's QA settings with its two streams."""

    __slots__ = ("pool", "share", "due", "sample", "time")

    def __init__(self, pool, qa, streams):
        self.pool = pool
        self.share = qa.share
        self.due = qa.due
        self.sample = BufferedSampler(_UNIFORM, streams.get("qa_sample", pool.m.id))
        self.time = BufferedSampler(qa.time, streams.get("qa_time", pool.m.id))


class Backlog:
    """Deferrable queue items and pool tasks waiting for agents, and who takes them."""

    def __init__(self, engine):
        e = self.e = engine
        queues, pools = engine.queues, engine.pools
        self.lines = {q.m.index: deque() for q in queues if q.m.deferrable}
        # pool indices that may take each deferrable queue's items
        self.servers = {k: tuple(p for p, _ in queues[k].m.servers) for k in self.lines}
        # per pool: its skill levels reduced to deferrable queues, highest priority first
        self.levels = [tuple(lv for lv in (tuple(k for k, _ in level if k in self.lines)
                                           for level in p.m.levels) if lv)
                       for p in pools]
        self.tasks = [[] for _ in pools]  # per pool: heap of (due, id, task)
        self.blocks = [(tuple(s for s, _ in p.m.backlog_blocks), tuple(t for _, t in p.m.backlog_blocks))
                       for p in pools]
        self.reviewers = [[] for _ in pools]  # per pool: the reviewers of its closed contacts
        for p in pools:
            if p.m.qa is not None:
                r = _Reviewer(p, p.m.qa, engine.streams)
                for k in p.m.qa.of_pools:
                    self.reviewers[k].append(r)
        self.in_hand = {}  # agent -> task being worked
        self.next_id = 0
        engine.on(RELEASE, lambda ev: self._release(ev.target))
        engine.on(TASK_END, self._task_end)

    # -- arrivals ------------------------------------------------------------------------
    def offer(self, c) -> None:
        """A deferrable item arrives: the longest-idle agent of a pool with the skill, or
        the backlog (an idle agent has no real-time contact waiting for it)."""
        e = self.e
        now = e.env._now
        for f in e.on_offered:
            f(now, c)
        k = c.queue.m.index
        agent = e.dispatcher.policy.agent_for(self.servers[k])
        if agent is not None:
            e.dispatcher.answer(c, agent, now)
            return
        line = self.lines[k]
        line.append(c)
        self._waiting(c.queue, len(line) - 1, len(line), now)

    def _waiting(self, q, before: int, after: int, now: float) -> None:
        for f in self.e.on_waiting:
            f(now, q, before, after)

    def closed(self, c, agent, now: float) -> None:
        """``agent`` closed contact ``c``: each pool reviewing ``agent``'s pool samples it
        for a QA review (one uniform draw per closed contact, one time per review)."""
        for r in self.reviewers[agent.pool.m.index]:
            if r.sample() < r.share:
                self._release(self._task(QA_REVIEW, r.pool.m.index, now, now + r.due, r.time(), c.id))

    def _task(self, kind, pool: int, release: float, due: float, work: float, subject) -> Task:
        e = self.e
        self.next_id += 1
        return Task(self.next_id, kind, pool, release, due, work, min(int(release // e.L), e.n - 1), subject)

    def _release(self, task) -> None:
        """A task becomes workable: the pool's longest-idle agent, or the pool's heap."""
        e = self.e
        now = e.env._now
        for f in e.on_task:
            f(now, task, "released")
        agent = e.dispatcher.policy.agent_for((task.pool,))
        if agent is not None:
            self._start(task, agent)
        else:
            heappush(self.tasks[task.pool], (task.due, task.id, task))

    # -- free agents ---------------------------------------------------------------------
    def first(self, agent) -> bool:
        """Whether backlog work comes before real-time contacts for ``agent`` now (inside
        one of its pool's backlog blocks)."""
        starts, ends = self.blocks[agent.pool.m.index]
        if not starts:
            return False
        now = self.e.env._now
        i = bisect_right(starts, now) - 1
        return i >= 0 and now < ends[i]

    def has_work(self, agent) -> bool:
        """Whether backlog work ``agent`` could take waits."""
        pi = agent.pool.m.index
        lines = self.lines
        return bool(self.tasks[pi]) or any(lines[k] for level in self.levels[pi] for k in level)

    def take(self, agent) -> bool:
        """``agent`` takes the backlog work it should do next, if any; True if it did."""
        pi = agent.pool.m.index
        lines = self.lines
        for level in self.levels[pi]:
            best = None
            for k in level:
                line = lines[k]
                if line:
                    head = line[0]
                    due = head.arrival + head.queue.m.due
                    if best is None or due < best_due:
                        best, best_due = k, due
            if best is not None:
                line = lines[best]
                c = line.popleft()
                e = self.e
                now = e.env._now
                self._waiting(c.queue, len(line) + 1, len(line), now)
                e.dispatcher.answer(c, agent, now)
                if e.chat is not None:  # agents saving chat slots for it may take chats again
                    e.chat.backlog_taken()
                return True
        heap = self.tasks[pi]
        if heap:
            self._start(heappop(heap)[2], agent)
            if self.e.chat is not None:
                self.e.chat.backlog_taken()
            return True
        return False

    def _start(self, task, agent) -> None:
        e = self.e
        now = e.env._now
        e.dispatcher.claim(agent)
        task.agent, task.start = agent, now
        self.in_hand[agent] = task
        for f in e.on_task:
            f(now, task, "started")
        e._set_state(agent, task.kind)
        e.at(task.work, TASK_END, agent, 0, task)

    def _task_end(self, ev) -> None:
        agent, task = ev.target, ev.data
        e = self.e
        task.end = ev.time
        del self.in_hand[agent]
        for f in e.on_task:
            f(ev.time, task, "done")
        e._free(agent)

    # -- the run ---------------------------------------------------------------------------
    def start(self) -> None:
        """Schedule the coaching sessions of every new hire (after the workforce drew them):
        ``hours_per_new_hire`` in sessions of ``session`` seconds (the last one shorter),
        session j workable from the start of the j-th equal share of the hire's learning
        period and due at its end; sessions workable only after the horizon are left out."""
        e = self.e
        end = e.model.end
        for p in e.pools:
            cm = p.m.coaching
            if cm is None:
                continue
            total = cm.hours_per_new_hire * 3600.0
            n_sessions = max(1, math.ceil(total / cm.session - 1e-9))
            for k in cm.of_pools:
                coached = e.pools[k]
                prof = coached.m.proficiency
                period = (prof.weeks_to_proficiency if prof is not None else DEFAULT_WEEKS) * WEEK
                for a in coached.agents:
                    if a.hired is None:
                        continue
                    for j in range(n_sessions):
                        release = a.hired + j * period / n_sessions
                        if release >= end:
                            break
                        work = min(cm.session, total - j * cm.session)
                        task = self._task(COACHING, p.m.index, release,
                                          a.hired + (j + 1) * period / n_sessions, work, a.id)
                        e.at(release - e.env._now, RELEASE, task)

    def close(self, end: float) -> None:
        """The horizon ended: items waiting or in hand are reported open at the end (an item
        in hand is not closed), and so are tasks waiting or in hand."""
        e = self.e
        for k, line in self.lines.items():
            self._waiting(e.queues[k], len(line), len(line), end)  # the line's last stretch
            for c in line:
                for f in e.on_unanswered:
                    f(end, c)
                for f in e.on_ended:
                    f(end, c, OPEN_AT_END)
        for p in e.pools:
            for a in p.agents:
                c = a.contact
                if c is not None and c.state == SERVING and c.queue.m.deferrable:
                    for f in e.on_ended:
                        f(end, c, OPEN_AT_END)
                    c.state = DONE  # reported: the workforce's close must not report it again
        for task in self.in_hand.values():
            for f in e.on_task:
                f(end, task, OPEN_AT_END)
        for heap in self.tasks:
            for _, _, task in sorted(heap):
                for f in e.on_task:
                    f(end, task, OPEN_AT_END)

    # -- read-only views (tests, invariants) ----------------------------------------------
    def waiting(self, k: int) -> deque:
        """Items of deferrable queue index ``k`` waiting, in arrival order (read only)."""
        return self.lines[k]

    def pool_tasks(self, pool: int) -> list:
        """Tasks of pool index ``pool`` waiting (read only, heap order)."""
        return [t for _, _, t in self.tasks[pool]]


def uses_backlog(model) -> bool:
    """Whether ``model`` has deferrable queues or pools with QA or coaching work."""
    return (any(q.deferrable for q in model.queues)
            or any(p.qa is not None or p.coaching is not None for p in model.pools))
