"""Engine invariants, checked after every event of a replication.

``run_checked(scenario, seed)`` runs one replication with :func:`check_engine` called
after each SimPy event (the engine is otherwise untouched) and the end-of-run
conservation checks after the last one. A broken invariant raises ``AssertionError``
naming the event number and the simulation time, so a failure points at the first
event that left the engine in an impossible state.

What holds after every event:

- queues: the count of waiting contacts matches the line; nobody waits past their
  patience; per arrival interval, offered = answered + abandoned + still waiting;
  answered within the SL threshold ≤ answered, short abandons ≤ abandons, one
  recorded wait per answered contact, escalated + unresolved ≤ answered; no agent of
  a pool that answers a queue at once is idle while that queue has a contact waiting
  (the dispatcher is work-conserving);
- callbacks and retrials: per arrival interval, offered = answered + abandoned +
  waiting + accepted callbacks outside the line + failed callbacks; accepted =
  completed + failed + pending (in the line or outside it); accepted ≤ offered
  callbacks ≤ offered; callbacks outside the line are pending or being dialled and
  never called more than ``attempts`` times; retrials ≤ offered, none on a queue
  without ``retrial``;
- backlog (email, back office, QA reviews, coaching; ``_check_backlog``): items wait in
  arrival order and never abandon; per arrival interval, offered = closed + open
  (waiting or in hand) and closed in time ≤ closed; nobody is idle while backlog work
  they could take waits; what an agent starts follows the rules (outside its pool's
  blocks no real-time contact it could take waits; inside, no backlog work it could
  take is left; among backlog work, skill priority, then earliest due); QA and
  coaching work released = done + waiting + in hand;
- agents: idle exactly when in their pool's idle list, kept in idle-since order;
  on-duty and on-break counts match the agents' states; an agent talking or holding
  a consult holds a contact in service that names them (or rings a callback nobody
  answers), one in wrap a finished
  contact, any other state none; no contact is held twice; one holding a consult has
  a consult in the line or in service; only busy agents finish after their duty;
  an agent waiting on dials has one in flight;
- chats: an agent's load is within its pool's concurrency; an agent holding chats is
  handling, holds no call and is not idle; loads add up to the open sessions; no chat
  waits while a pool answering it at once has a free slot (an agent holding chats may
  keep one free only inside a backlog block while backlog work waits for it);
- campaigns: every dial is in flight or has exactly one outcome; live = connected +
  abandoned + AMD false positives and machines = detected + to agent + unconnected,
  per interval; connected = right party + wrong party; records closed ≤ attempted ≤
  list size; agents' dials in flight ≤ the campaign's (= for preview and progressive).

These read the current engine's run-time state (``Engine.queues``, ``.pools``,
``.campaigns``). An engine redesign keeps :func:`run_checked` and the scenarios of
``tests/test_engine_invariants.py`` and rewrites the reads below for its components.
"""

from __future__ import annotations

import numpy as np

from bposim.engine.callbacks import CALLING, PENDING
from bposim.engine.core import DONE, SERVING, WAITING, Engine
from bposim.engine.duty import BUSY
from bposim.engine.model import compile_scenario
from bposim.engine.backlog import uses_backlog
from bposim.engine.recorder import BREAK, DIALING, HOLD, IDLE, OFF, TALK, TASK_STATES, WRAP, Recording
from bposim.rng import Streams

EPS = 1e-9
OUTCOMES = ("no_answer", "busy", "machine", "live")


def check_engine(engine: Engine) -> None:
    """Every invariant of the engine's state between two events."""
    holders = _check_queues(engine)
    _check_chat(engine, holders)
    _check_agents(engine, holders)
    _check_campaigns(engine)
    _check_backlog(engine)


def _off_line(engine: Engine, q) -> np.ndarray:
    """Per arrival interval, accepted callbacks of ``q`` outside the line (waiting for
    their time or being dialled), after checking their states."""
    out = np.zeros(engine.n, dtype=np.int64)
    if engine.callbacks is None:
        return out
    for c in engine.callbacks.off_line:
        if c.queue is q:
            assert c.state in (PENDING, CALLING) and c.callback is not None, (
                f"{q.m.id}: contact {c.id} outside the line in state {c.state}")
            assert c.callback <= q.m.callback.attempts, f"{q.m.id}: contact {c.id} called too often"
            out[c.interval] += 1
    return out


def _check_callbacks(engine: Engine, q, in_line: np.ndarray, off_line: np.ndarray) -> None:
    """accepted = completed + failed + pending (in the line or outside it), per interval;
    offered callbacks ≤ offered, accepted ≤ offered callbacks."""
    st, qid = q.stats, q.m.id
    n = {k: np.asarray(getattr(st, k)) for k in (
        "offered", "callbacks_offered", "callbacks_accepted", "callbacks_completed", "callbacks_failed")}
    assert (n["callbacks_accepted"] <= n["callbacks_offered"]).all(), f"{qid}: accepted > offered callbacks"
    assert (n["callbacks_offered"] <= n["offered"]).all(), f"{qid}: more callbacks offered than contacts"
    pending = in_line + off_line
    bad = np.flatnonzero(n["callbacks_accepted"] != n["callbacks_completed"] + n["callbacks_failed"] + pending)
    if bad.size:
        i = bad[0]
        raise AssertionError(f"{qid} interval {i}: accepted {n['callbacks_accepted'][i]} != completed "
                             f"{n['callbacks_completed'][i]} + failed {n['callbacks_failed'][i]} + pending {pending[i]}")


def _check_queues(engine: Engine) -> set:
    now = engine.env.now
    holders = set()  # agents holding a customer while a consult waits
    for q in engine.queues:
        st, qid = q.stats, q.m.id
        waiting = [c for c in q.waiting if c.state == WAITING]
        assert len(waiting) == q.n_waiting, f"{qid}: {q.n_waiting} counted waiting, {len(waiting)} in line"
        assert len({id(c) for c in waiting}) == len(waiting), f"{qid}: a contact is in line twice"
        by_interval = np.zeros(engine.n, dtype=np.int64)
        callbacks_in_line = np.zeros(engine.n, dtype=np.int64)
        for c in waiting:
            assert c.answer is None and c.arrival <= now + EPS, f"{qid}: contact {c.id} waits but was answered"
            assert now - c.arrival <= c.patience + EPS, f"{qid}: contact {c.id} waits past its patience"
            by_interval[c.interval] += 1
            if c.callback is not None:
                callbacks_in_line[c.interval] += 1
            if c.holder is not None:
                holders.add(c.holder)
        off_line = _off_line(engine, q)
        by_interval += _in_backlog(engine, q)  # a deferrable queue's items wait in the backlog
        offered, answered, abandoned, failed = (np.asarray(x) for x in (
            st.offered, st.answered, st.abandoned, st.callbacks_failed))
        bad = np.flatnonzero(offered != answered + abandoned + by_interval + off_line + failed)
        if bad.size:
            i = bad[0]
            raise AssertionError(f"{qid} interval {i}: offered {offered[i]} != answered {answered[i]} "
                                 f"+ abandoned {abandoned[i]} + waiting {by_interval[i]} + callbacks "
                                 f"outside the line {off_line[i]} + failed {failed[i]}")
        _check_callbacks(engine, q, callbacks_in_line, off_line)
        assert (np.asarray(st.retrials) <= offered).all(), f"{qid}: more retrials than offered"
        if q.m.retrial is None:
            assert not any(st.retrials), f"{qid}: retrials on a queue without retrial"
        if q.m.callback is None:
            assert not any(st.callbacks_offered), f"{qid}: callbacks on a queue without callback"
        assert (np.asarray(st.answered_within) <= answered).all(), f"{qid}: answered within > answered"
        assert (np.asarray(st.short_abandoned) <= abandoned).all(), f"{qid}: short abandons > abandons"
        assert list(map(len, st.waits)) == st.answered, f"{qid}: waits recorded != answered"
        assert (np.asarray(st.escalated) + np.asarray(st.unresolved) <= answered).all(), (
            f"{qid}: more escalated or unresolved than answered")
        if waiting:
            for p in q.immediate:
                pool = engine.pools[p]
                assert not pool.idle, f"{qid}: a contact waits while {pool.m.id} has idle agents"
    return holders


def _check_agents(engine: Engine, holders: set) -> None:
    now = engine.env.now
    held = set()
    on_hold = []
    for pool in engine.pools:
        pid = pool.m.id
        since = -1.0
        for a in pool.idle:
            assert a.state == IDLE, f"{a.id} is in {pid}'s idle list in state {a.state}"
            assert a.since >= since, f"{pid}'s idle list is out of idle-since order at {a.id}"
            since = a.since
        idle = on_break = on_duty = 0
        for a in pool.agents:
            state, c = a.state, a.contact
            idle += state == IDLE
            on_break += state == BREAK
            on_duty += state != OFF and not a.leaving
            assert a.since <= now + EPS, f"{a.id}: state since {a.since} > now"
            assert a.dials_out >= 0, f"{a.id}: {a.dials_out} dials out"
            assert not a.leaving or state in BUSY, f"{a.id} finishes after duty in state {state}"
            if state == TALK and c is not None and c.state == CALLING:  # a callback nobody answers
                assert c.agent is a and c in engine.callbacks.off_line, f"{a.id} rings a callback it lost"
            elif (state == TALK and not a.load) or state == HOLD:  # (chats: _check_chat)
                assert c is not None and c.state == SERVING and c.agent is a, (
                    f"{a.id} in state {state} holds no contact in service")
                if state == HOLD:
                    on_hold.append(a)
                elif c.holder is not None:
                    holders.add(c.holder)
            elif state == WRAP:
                assert c is not None and c.state == DONE, f"{a.id} wraps up no finished contact"
            else:
                assert c is None, f"{a.id} in state {state} holds contact {c.id}"
            if c is not None:
                assert id(c) not in held, f"contact {c.id} is held by two agents"
                held.add(id(c))
            if state == DIALING:
                assert a.dials_out >= 1, f"{a.id} waits on dials with none out"
        crew = engine.workforce.crews[pool.m.index]
        assert idle == len(pool.idle), f"{pid}: {idle} agents idle, {len(pool.idle)} listed"
        assert on_break == crew.on_break, f"{pid}: {on_break} agents on break, counted {crew.on_break}"
        assert on_duty == crew.on_duty, f"{pid}: {on_duty} agents on duty, counted {crew.on_duty}"
    for a in on_hold:
        assert a in holders, f"{a.id} holds a customer for a consult that is nowhere"


def _check_chat(engine: Engine, holders: set) -> None:
    """Chat sessions: an agent's load is within its pool's concurrency, and an agent with
    chats is handling, holds no call and is not idle; the loads add up to the sessions
    holding a slot; a session in talk is in service with a loaded agent; the partially
    loaded list holds agents with a free slot; no chat waits while an agent of a pool
    answering it at once has a free slot (idle, or holding chats and not about to leave,
    unless it is inside a backlog block with backlog work waiting for it)."""
    chat = engine.chat
    assert (chat is not None) == any(q.chat for q in engine.queues), "chat component iff chat queues"
    if chat is None:
        return
    loads = 0
    for pool in engine.pools:
        k, pid = pool.m.concurrency, pool.m.id
        for a in pool.agents:
            assert 0 <= a.load <= k, f"{a.id} holds {a.load} chats (concurrency {k})"
            if a.load:
                assert a.state == TALK and a.contact is None and a not in pool.idle, (
                    f"{a.id} holds {a.load} chats in state {a.state}")
            loads += a.load
        for a in chat.partial[pool.m.index]:
            assert a.state == TALK and 0 < a.load < k, f"{pid}: {a.id} listed with a free chat slot, load {a.load}"
    assert loads == chat.open, f"agents hold {loads} chats, {chat.open} sessions open"
    assert len(chat.talking) <= chat.open, "more chats in talk than sessions open"
    for c in chat.talking:
        assert c.state == SERVING and c.queue.chat and c.agent.load > 0, f"chat {c.id} in talk without a slot"
        if c.holder is not None:
            holders.add(c.holder)
    backlog = engine.backlog
    for q in engine.queues:
        if q.chat and any(c.state == WAITING for c in q.waiting):
            for p in q.immediate:
                pool = engine.pools[p]
                free = [a for a in chat.partial[p] if not (a.leaving or a.pending)]
                assert not free and not pool.idle, f"{q.m.id}: a chat waits while {pool.m.id} has a free slot"
                # an agent off the list may keep a free slot only to finish its chats before
                # backlog work waiting for it inside a block (or before leaving / a break)
                for a in pool.agents:
                    if 0 < a.load < pool.m.concurrency and not (a.leaving or a.pending):
                        assert backlog is not None and backlog.first(a) and backlog.has_work(a), (
                            f"{q.m.id}: a chat waits while {a.id} has {a.load} of "
                            f"{pool.m.concurrency} chats and no backlog work waits for it")


def _check_campaigns(engine: Engine) -> None:
    for camp in engine.dialer.campaigns:
        st, cid = camp.stats, camp.m.id
        c = {k: sum(v) for k, v in st.counts.items()}
        assert camp.in_flight >= 0, f"{cid}: {camp.in_flight} dials in flight"
        assert c["dials"] == camp.resolved + camp.in_flight, f"{cid}: dials != resolved + in flight"
        ended = sum(c[k] for k in OUTCOMES)
        assert c["dials"] == ended + camp.in_flight, f"{cid}: {c['dials']} dials, {ended} outcomes"
        n = {k: np.asarray(v) for k, v in st.counts.items()}
        assert (n["live"] == n["connected"] + n["abandoned"] + n["amd_false_positive"]).all(), f"{cid}: live"
        assert (n["machine"] == n["machine_detected"] + n["machine_to_agent"] + n["machine_unconnected"]).all(), (
            f"{cid}: machines")
        assert (n["connected"] == n["right_party"] + n["wrong_party"]).all(), f"{cid}: connected"
        assert st.records_closed <= st.records_attempted <= camp.m.n_records, f"{cid}: records"
        owned = sum(a.dials_out for p in camp.pools for a in p.agents)
        assert owned <= camp.in_flight, f"{cid}: agents wait on {owned} dials, {camp.in_flight} in flight"
        if camp.spec.mode != "predictive":
            assert owned == camp.in_flight, f"{cid}: a dial in flight has no agent"


def _in_backlog(engine: Engine, q) -> np.ndarray:
    """Per arrival interval, the items of deferrable queue ``q`` waiting in the backlog."""
    out = np.zeros(engine.n, dtype=np.int64)
    if q.m.deferrable:
        for c in engine.backlog.waiting(q.m.index):
            out[c.interval] += 1
    return out


def _realtime_waiting_for(engine: Engine, agent, now: float) -> str | None:
    """A real-time queue with a contact ``agent`` could take now, or None."""
    for level in agent.pool.m.levels:
        for k, after in level:
            q = engine.queues[k]
            if q.m.deferrable:
                continue
            head = next((c for c in q.waiting if c.state == WAITING), None)
            if head is not None and (after <= 0 or now - head.arrival >= after - 1e-9):
                return q.m.id
    return None


def _backlog_for(engine: Engine, agent) -> list:
    """Backlog work ``agent`` could take: (priority level, due, what), best first."""
    b = engine.backlog
    out = []
    for rank, level in enumerate(agent.pool.m.levels):
        for k, _ in level:
            if engine.queues[k].m.deferrable:
                out += [(rank, c.arrival + c.queue.m.due, f"item {c.id}") for c in b.waiting(k)]
    out += [(len(agent.pool.m.levels), t.due, f"task {t.id}") for t in b.pool_tasks(agent.pool.m.index)]
    return sorted(out)


def _check_backlog(engine: Engine) -> None:
    """Deferrable work: items wait in arrival order and never abandon; nobody idles while
    backlog work they could take waits; what an agent started at this instant follows the
    rules (outside a block: no real-time contact it could take was waiting; inside: no
    backlog work it could take was left; among backlog work, the highest skill priority,
    then the earliest due); per arrival interval, offered = closed + open (waiting or in
    hand); QA and coaching work released = done + waiting + in hand."""
    b = engine.backlog
    assert (b is not None) == uses_backlog(engine.model), "backlog present iff the model has deferrable work"
    if b is None:
        return
    now = engine.env.now
    in_hand = {}
    for p in engine.pools:
        for a in p.agents:
            c = a.contact
            if c is not None and c.state == SERVING and c.queue.m.deferrable:
                in_hand.setdefault(c.queue.m.index, []).append(c)
    for q in engine.queues:
        if not q.m.deferrable:
            continue
        qid, line = q.m.id, list(b.waiting(q.m.index))
        assert not q.waiting, f"{qid}: a backlog item is in the dispatcher's line"
        for x, y in zip(line, line[1:]):
            assert x.arrival <= y.arrival, f"{qid}: backlog out of arrival order at {y.id}"
        for c in line:
            assert c.state == WAITING and c.answer is None and c.patience == float("inf"), (
                f"{qid}: backlog item {c.id} in state {c.state}")
        st, bst = q.stats, q.stats.backlog
        open_ = np.zeros(engine.n, dtype=np.int64)
        for c in line + in_hand.get(q.m.index, []):
            open_[c.interval] += 1
        offered, closed = np.asarray(st.offered), np.asarray(bst.closed)
        bad = np.flatnonzero(offered != closed + open_)
        if bad.size:
            i = bad[0]
            raise AssertionError(f"{qid} interval {i}: offered {offered[i]} != closed {closed[i]} + open {open_[i]}")
        assert (np.asarray(bst.closed_within) <= closed).all(), f"{qid}: closed within due > closed"
        assert st.answered_within == bst.closed_within, f"{qid}: answered within != closed within due"
    # what each agent holds, to tell what it started during this very event
    seen = engine.__dict__.setdefault("_invariants_holding", {})
    for p in engine.pools:
        for a in p.agents:
            work = b.in_hand.get(a) if a.state in TASK_STATES else a.contact
            new = work is not None and seen.get(a) is not work
            seen[a] = work
            started_item = new and a.state == TALK and work.state == SERVING and work.answer == now
            started_task = new and a.state in TASK_STATES and work.start == now
            if a.state == IDLE:
                left = _backlog_for(engine, a)
                assert not left, f"{a.id} is idle while {left[0][2]} waits for its pool"
            if not (started_item or started_task):
                continue
            deferrable = started_task or a.contact.queue.m.deferrable
            block = any(start <= now < end for start, end in p.m.backlog_blocks)
            if deferrable and not block:
                rt = _realtime_waiting_for(engine, a, now)
                assert rt is None, f"{a.id} started backlog work outside a block while {rt} has a contact waiting"
            if deferrable:
                rank = (len(p.m.levels) if started_task else
                        next(r for r, lv in enumerate(p.m.levels) if any(k == a.contact.queue.m.index for k, _ in lv)))
                due = b.in_hand[a].due if started_task else a.contact.arrival + a.contact.queue.m.due
                better = [x for x in _backlog_for(engine, a) if (x[0], x[1]) < (rank, due)]
                assert not better, f"{a.id} started work due {due} while {better[0][2]} comes first"
            elif block:
                left = _backlog_for(engine, a)
                assert not left, f"{a.id} took a real-time contact in a backlog block while {left[0][2]} waits"
    for p in engine.pools:
        ts = p.stats.tasks
        if ts is None:
            continue
        waiting = b.pool_tasks(p.m.index)
        held = [t for t in b.in_hand.values() if t.pool == p.m.index]
        qa = [t for t in waiting + held if t.kind == TASK_STATES[0]]
        assert sum(ts.qa_sampled) == sum(ts.qa_done) + len(qa), f"{p.m.id}: QA reviews not conserved"
        coach = sum(t.work for t in waiting + held if t.kind == TASK_STATES[1])
        assert abs(sum(ts.coaching_due) - sum(ts.coaching_done) - coach) < 1e-6, (
            f"{p.m.id}: coaching time not conserved")
        for t in held:
            assert t.agent.state == t.kind and b.in_hand[t.agent] is t, f"{p.m.id}: task {t.id} held wrongly"


def check_recording(rec: Recording) -> None:
    """After the horizon: every contact offered is answered, abandoned, still waiting
    (a pending callback included) or a failed callback; every accepted callback is
    completed, failed or pending."""
    for st in rec.queues:
        for i in range(st.n):
            assert st.offered[i] == (st.answered[i] + st.abandoned[i] + st.unanswered_at_end[i]
                                     + st.callbacks_failed[i]), f"interval {i}: contacts not conserved at the end"
            assert st.callbacks_accepted[i] == (st.callbacks_completed[i] + st.callbacks_failed[i]
                                                + st.callbacks_pending[i]), f"interval {i}: callbacks not conserved"


def run_checked(scenario, seed: int = 1, check=check_engine, every: int = 1) -> tuple[Recording, int]:
    """One replication of ``scenario`` (a Scenario or a compiled Model) with ``check``
    called after every event (after every ``every``-th one, for large centres where a
    check per event would be slow); returns the recording and the number of events."""
    model = scenario if hasattr(scenario, "n_intervals") else compile_scenario(scenario)
    engine = Engine(model, Streams(seed))
    env = engine.env
    step = env.step
    count = 0

    def checked_step():
        nonlocal count
        step()
        count += 1
        if count % every:
            return
        try:
            check(engine)
        except AssertionError as exc:
            raise AssertionError(f"after event {count} at t={env.now:.6f} s: {exc}") from None

    env.step = checked_step  # Environment.run calls self.step() for each event
    rec = engine.run()
    check_recording(rec)
    return rec, count
