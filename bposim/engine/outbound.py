"""The dialer component: outbound campaigns, dialer modes, predictive pacing, blending.

A dial rings; it ends as no answer,
busy, a machine or a live answer (outcome drawn from the campaign's stream when it
is placed). With answering-machine detection a detected machine is dropped and a
human taken for a machine is hung up on. A live answer (or an undetected machine)
goes to an agent within ``connect_limit`` seconds or is **abandoned**.

- ``preview``: a free agent reviews a record (``preview_time``), then dials it and
  waits for the result: no call can be abandoned.
- ``progressive``: a free agent places ``dials_per_agent`` dials (a fractional ratio is
  rounded at random to keep its mean) and waits; with a ratio of 1 nothing is abandoned.
- ``predictive``: dials in flight are kept at ``factor × free agents ÷ live-answer
  rate`` (the rate observed so far, shrunk toward ``prior_live_rate``). The factor
  is reviewed every ``window``/10 live answers: it falls by ``step`` while the abandon
  rate over the last ``window`` live answers is above 70 % of the target, and rises by
  ``step`` while it is below 30 % of it (once a full window has been seen). Calls
  hung up by answering-machine detection are reported (they count as abandons under
  Ofcom's rule) but do not steer the pacing: no dial rate can prevent them.

Blending: an agent of a pool with inbound skills takes inbound work first and is
used for outbound only while more than ``reserve`` of its pool's agents are idle.
Records are called only inside their own time zone's calling windows, oldest due
first; retries wait the delay of their last outcome.

Events handled here: ``WAKE`` (target: the campaign; a record may be due),
``PREVIEW_DONE`` (target: the agent; payload (campaign, record)), ``DIAL_END`` (a dial
ended without reaching an agent; payload (campaign, record, owner, interval,
outcome)), ``DIAL_ANSWER`` (target: the :class:`Call`; payload: the campaign),
``CONNECT_TIMEOUT`` (target: the call; stale once it was connected) and
``OUT_TALK_END`` (target: the agent; payload: the campaign). The dialer learns that
an agent of a campaign pool became idle through :meth:`Dialer.agent_idle` (the last
link of the engine's "agent became free" chain), and hands agents back through the
engine's ``_free``. Dial outcomes are reported to observers (``dial_outcome``); the
campaign's own counts are the dialer's accounts (:class:`CampaignStats`).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque

from bposim.distributions import DistributionSpec
from bposim.engine.events import (
    CONNECT_TIMEOUT, DIAL_ANSWER, DIAL_END, FREE, OUT_TALK_END, PREVIEW_DONE, WAKE,
)
from bposim.engine.recorder import DIALING, OUT_TALK, OUT_WRAP, PREVIEW, CampaignStats
from bposim.rng import BufferedSampler

_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_WRONG_PARTY = DistributionSpec("exponential", mean=30.0)
_MACHINE_MESSAGE = DistributionSpec("deterministic", mean=20.0)
_PREVIEW = DistributionSpec("exponential", mean=20.0)
_PRIOR_WEIGHT = 20.0  # the prior live rate counts as this many dials
# how a dial ended without reaching an agent (codes on the hot path, names for counts)
NO_ANSWER, BUSY, MACHINE_DETECTED, AMD_FALSE_POSITIVE, ABANDONED = range(5)
OUTCOME_NAMES = ("no_answer", "busy", "machine_detected", "amd_false_positive", "abandoned")


class Call:
    __slots__ = ("record", "owner", "live", "interval", "waiting")

    def __init__(self, record, owner, live, interval):
        self.record = record
        self.owner = owner
        self.live = live  # True: a person; False: an undetected answering machine
        self.interval = interval
        self.waiting = False


class _Campaign:
    """Run-time state of a campaign."""

    def __init__(self, m, n_intervals, streams):
        self.m = m
        spec = m.spec
        self.spec = spec
        self.predictive = spec.mode == "predictive"  # decided once, not per event
        self.preview_mode = spec.mode == "preview"
        self.stats = CampaignStats(n_intervals)
        self.pools = []
        self.heaps = [[(0.0, r) for r in g.records] for g in m.groups]
        for h in self.heaps:
            heapq.heapify(h)
        self.starts = [[a for a, _ in g.windows] for g in m.groups]
        self.group_of = {r: k for k, g in enumerate(m.groups) for r in g.records}
        self.attempts = [0] * m.n_records
        self.in_flight = 0
        self.waiting = deque()
        self.factor = spec.pacing.initial
        self.live_seen = 0
        self.resolved = 0
        self.recent = deque(maxlen=spec.pacing.window)
        self.since_adjust = 0
        self.wake_at = math.inf

        def sampler(name, dist):
            return BufferedSampler(dist, streams.get(name, m.id))

        self.u_outcome = sampler("dial_outcome", _UNIFORM)
        self.u_party = sampler("right_party", _UNIFORM)
        self.u_amd = sampler("amd", _UNIFORM)
        self.u_round = sampler("dial_rounding", _UNIFORM)
        self.answer_delay = sampler("answer_delay", spec.answer_delay)
        self.talk_rp = sampler("talk_right_party", spec.talk_right_party)
        self.talk_wp = sampler("talk_wrong_party", spec.talk_wrong_party or _WRONG_PARTY)
        self.talk_machine = sampler("talk_machine", spec.talk_machine or _MACHINE_MESSAGE)
        self.wrap = sampler("outbound_wrap", spec.wrap) if spec.wrap else None
        self.preview = sampler("preview", spec.preview_time or _PREVIEW)
        o = spec.outcomes
        self.cuts = (o.no_answer, o.no_answer + o.busy, o.no_answer + o.busy + o.machine)


class Dialer:
    """Places dials for every campaign and connects answered calls to agents."""

    def __init__(self, engine, pools, queues):
        self.e = engine
        self.env = engine.env
        self.L, self.n = engine.L, engine.n
        self.model = engine.model
        self.pools = pools
        self.queues = queues
        self.campaigns = []
        engine.on(WAKE, lambda ev: self._wake(ev.target))
        engine.on(PREVIEW_DONE, lambda ev: self._after_preview(ev.data[0], ev.target, ev.data[1]))
        engine.on(DIAL_END, lambda ev: self._end_dial(*ev.data))
        engine.on(DIAL_ANSWER, lambda ev: self._answered(ev.data, ev.target))
        engine.on(CONNECT_TIMEOUT, lambda ev: self._connect_timeout(ev.data, ev.target))
        engine.on(OUT_TALK_END, lambda ev: self._outbound_talk_end(ev.data, ev.target))

    def start(self, keep_dial_times: bool) -> None:
        """Set up each campaign and wake it at time 0."""
        for cm in self.model.campaigns:
            camp = _Campaign(cm, self.n, self.e.streams)
            if keep_dial_times:
                camp.stats.dial_times = []
            for p in cm.pools:
                self.pools[p].camp = camp
                camp.pools.append(self.pools[p])
            self.campaigns.append(camp)
            self.e.at(0.0, WAKE, camp)

    # -- who may work outbound now ----------------------------------------------------
    def _reserve(self, pool, camp) -> int:
        if not pool.m.levels:
            return 0  # an outbound-only pool keeps nobody back
        reserve = camp.m.reserve
        if camp.m.reserve_by_queue:
            i = min(int(self.env.now // self.L), self.n - 1)
            reserve += sum(r for q, r in camp.m.reserve_by_queue if self.queues[q].m.volumes[i] > 0)
        return reserve

    def _spare(self, pool, camp) -> int:
        """Idle agents of ``pool`` beyond its reserve."""
        return max(0, len(self.e.dispatcher.idle_agents(pool)) - self._reserve(pool, camp))

    def _free_agent(self, camp):
        """The longest-idle agent that may take outbound work, or None."""
        best = None
        for pool in camp.pools:
            idle = self.e.dispatcher.idle_agents(pool)
            if idle and self._spare(pool, camp) > 0:
                a = next(iter(idle))
                if best is None or a.since < best.since:
                    best = a
        return best

    def agent_idle(self, agent) -> None:
        """``agent`` of a campaign pool has just become idle: outbound work, if any."""
        camp = agent.pool.camp
        while camp.waiting and not camp.waiting[0].waiting:
            camp.waiting.popleft()
        if camp.waiting and self._spare(agent.pool, camp) > 0:
            self._connect(camp, camp.waiting.popleft(), agent)
            return
        if camp.predictive:
            self._pace(camp)
        elif self._spare(agent.pool, camp) > 0:
            self._agent_dials(camp, agent)

    def _wake(self, camp) -> None:
        camp.wake_at = math.inf
        if camp.predictive:
            self._pace(camp)
            return
        while True:
            agent = self._free_agent(camp)
            if agent is None or not self._agent_dials(camp, agent):
                return

    # -- records -------------------------------------------------------------------
    def _next_record(self, camp):
        """The record due longest whose calling window is open now, or None (and a wake-up
        is set for when one will be)."""
        now = self.env.now
        best, best_k = None, -1
        wake = math.inf
        for k, heap in enumerate(camp.heaps):
            if not heap:
                continue
            spans = camp.m.groups[k].windows
            due = max(heap[0][0], now)
            j = bisect.bisect_right(camp.starts[k], due) - 1
            if j >= 0 and spans[j][0] <= due < spans[j][1]:
                opens = due
            elif j + 1 < len(spans):
                opens = spans[j + 1][0]
            else:
                continue  # no window left in the horizon
            if opens <= now:
                if best is None or heap[0][0] < best:
                    best, best_k = heap[0][0], k
            else:
                wake = min(wake, opens)
        if best_k >= 0:
            return heapq.heappop(camp.heaps[best_k])[1]
        if wake < camp.wake_at and wake < self.model.end:
            camp.wake_at = wake
            self.e.at(wake - now, WAKE, camp)
        return None

    def _retry(self, camp, record, delay) -> None:
        if delay is None or camp.attempts[record] >= camp.spec.retry.max_attempts:
            camp.stats.records_closed += 1
            return
        heapq.heappush(camp.heaps[camp.group_of[record]], (self.env.now + delay, record))
        due = self.env.now + delay
        if due < camp.wake_at and due < self.model.end:
            camp.wake_at = due
            self.e.at(delay, WAKE, camp)

    # -- placing dials -------------------------------------------------------------
    def _agent_dials(self, camp, agent) -> bool:
        """Preview or progressive: ``agent`` takes records and dials; False if none is due."""
        record = self._next_record(camp)
        if record is None:
            return False
        self.e.dispatcher.claim(agent)
        if camp.preview_mode:
            self.e._set_state(agent, PREVIEW)
            self.e.at(camp.preview(), PREVIEW_DONE, agent, 0, (camp, record))
            return True
        ratio = camp.spec.dials_per_agent
        n = int(ratio) + (1 if camp.u_round() < ratio - int(ratio) else 0)
        records = [record] + [r for r in (self._next_record(camp) for _ in range(max(n, 1) - 1))
                              if r is not None]
        self.e._set_state(agent, DIALING)
        agent.dials_out += len(records)  # dials of an earlier round may still be ringing
        for r in records:
            self._dial(camp, r, agent)
        return True

    def _after_preview(self, camp, agent, record) -> None:
        k = camp.group_of[record]
        spans, now = camp.m.groups[k].windows, self.env.now
        j = bisect.bisect_right(camp.starts[k], now) - 1
        if not (j >= 0 and spans[j][0] <= now < spans[j][1]):  # the window closed meanwhile
            heapq.heappush(camp.heaps[k], (now, record))
            self.e._free(agent)
            return
        self.e._set_state(agent, DIALING)
        agent.dials_out += 1
        self._dial(camp, record, agent)

    def _pace(self, camp) -> None:
        """Predictive: top dials in flight up to factor × free agents ÷ live rate."""
        free = sum(self._spare(pool, camp) for pool in camp.pools)
        if free == 0:
            return
        p = (camp.live_seen + camp.spec.pacing.prior_live_rate * _PRIOR_WEIGHT) / (camp.resolved + _PRIOR_WEIGHT)
        wanted = int(camp.factor * free / max(p, 1e-3)) - camp.in_flight
        for _ in range(wanted):
            record = self._next_record(camp)
            if record is None:
                return
            self._dial(camp, record, None)

    def _dial(self, camp, record, owner) -> None:
        now = self.env.now
        i = min(int(now // self.L), self.n - 1)
        st = camp.stats
        st.counts["dials"][i] += 1
        if camp.attempts[record] == 0:
            st.records_attempted += 1
        camp.attempts[record] += 1
        if st.dial_times is not None:
            st.dial_times.append((now, camp.m.groups[camp.group_of[record]].zone))
        camp.in_flight += 1
        u = camp.u_outcome()
        no_answer, busy, machine = camp.cuts
        spec = camp.spec
        at = self.e.at
        if u < no_answer:
            at(spec.ring_seconds, DIAL_END, camp, 0, (camp, record, owner, i, NO_ANSWER))
            return
        if u < busy:
            at(spec.busy_seconds, DIAL_END, camp, 0, (camp, record, owner, i, BUSY))
            return
        live = u >= machine
        delay = camp.answer_delay()
        if spec.amd.enabled:
            delay += spec.amd.decision_seconds
            correct = camp.u_amd() < spec.amd.accuracy
            if not live and correct:
                at(delay, DIAL_END, camp, 0, (camp, record, owner, i, MACHINE_DETECTED))
                return
            if live and not correct:
                at(delay, DIAL_END, camp, 0, (camp, record, owner, i, AMD_FALSE_POSITIVE))
                return
        at(delay, DIAL_ANSWER, Call(record, owner, live, i), 0, camp)

    # -- outcomes ------------------------------------------------------------------
    def _end_dial(self, camp, record, owner, i, outcome: int) -> None:
        """A dial ended without reaching an agent (``outcome``: one of the codes above)."""
        camp.in_flight -= 1
        camp.resolved += 1
        c = camp.stats.counts
        name = OUTCOME_NAMES[outcome]
        c[name][i] += 1
        for f in self.e.on_dial_outcome:
            f(self.env.now, camp, name, i)
        retry = camp.spec.retry
        if outcome == MACHINE_DETECTED:
            c["machine"][i] += 1
            delay = retry.after_machine
        elif outcome >= AMD_FALSE_POSITIVE:  # a person answered: AMD hung up, or nobody came
            c["live"][i] += 1
            camp.live_seen += 1
            if outcome == ABANDONED:  # AMD's mistakes are not the pacing's to correct
                self._paced(camp, abandoned=True)
            delay = retry.after_abandoned
        else:
            delay = retry.after_no_answer if outcome == NO_ANSWER else retry.after_busy
        self._retry(camp, record, delay)
        self._owner_done(owner)
        if camp.predictive:
            self._pace(camp)

    def _owner_done(self, owner, connected_to=None) -> None:
        """One of ``owner``'s dials is settled; free the owner when none is left."""
        if owner is None:
            return
        owner.dials_out -= 1
        if owner.dials_out <= 0 and owner.state == DIALING and owner is not connected_to:
            self.e._free(owner)

    def _answered(self, camp, call: Call) -> None:
        """A person (or undetected machine) answered: connect to an agent or wait."""
        owner = call.owner
        if owner is not None and owner.state == DIALING:
            agent = owner
        else:
            agent = self._free_agent(camp)
        if agent is not None:
            self._connect(camp, call, agent)
            return
        call.waiting = True
        camp.waiting.append(call)
        self.e.at(camp.spec.connect_limit, CONNECT_TIMEOUT, call, 0, camp)

    def _connect_timeout(self, camp, call: Call) -> None:
        if not call.waiting:
            return
        call.waiting = False
        if call.live:
            self._end_dial(camp, call.record, call.owner, call.interval, ABANDONED)
        else:  # an undetected machine nobody picked up: it just records silence
            camp.stats.counts["machine"][call.interval] += 1
            camp.stats.counts["machine_unconnected"][call.interval] += 1
            for f in self.e.on_dial_outcome:
                f(self.env.now, camp, "machine_unconnected", call.interval)
            camp.in_flight -= 1
            camp.resolved += 1
            self._retry(camp, call.record, camp.spec.retry.after_machine)
            self._owner_done(call.owner)

    def _connect(self, camp, call: Call, agent) -> None:
        call.waiting = False
        camp.in_flight -= 1
        camp.resolved += 1
        i, c, retry = call.interval, camp.stats.counts, camp.spec.retry
        for f in self.e.on_dial_outcome:
            f(self.env.now, camp, "connected", i)
        if call.live:
            camp.live_seen += 1
            c["live"][i] += 1
            c["connected"][i] += 1
            self._paced(camp, abandoned=False)
            if camp.u_party() < camp.spec.outcomes.right_party:
                c["right_party"][i] += 1
                talk, delay = camp.talk_rp(), None  # reached: the record is done
            else:
                c["wrong_party"][i] += 1
                talk, delay = camp.talk_wp(), retry.after_wrong_party
        else:
            c["machine"][i] += 1
            c["machine_to_agent"][i] += 1
            talk, delay = camp.talk_machine(), retry.after_machine
        self._retry(camp, call.record, delay)
        self.e.dispatcher.claim(agent)
        owner = call.owner
        if owner is agent:
            agent.dials_out -= 1
        else:
            self._owner_done(owner)
        j = min(int(self.env.now // self.L), self.n - 1)
        camp.stats.talk[j] += talk
        self.e._set_state(agent, OUT_TALK)
        self.e.at(talk, OUT_TALK_END, agent, 0, camp)

    def _outbound_talk_end(self, camp, agent) -> None:
        if camp.wrap is not None:
            self.e._set_state(agent, OUT_WRAP)
            self.e.at(camp.wrap(), FREE, agent)
        else:
            self.e._free(agent)

    def _paced(self, camp, abandoned: bool) -> None:
        """Predictive pacing control on every live answer."""
        camp.recent.append(1 if abandoned else 0)
        camp.since_adjust += 1
        window = camp.recent.maxlen
        if not camp.predictive or camp.since_adjust < max(1, window // 10):
            return
        camp.since_adjust = 0
        rate = sum(camp.recent) / len(camp.recent)
        pacing, target = camp.spec.pacing, camp.spec.abandon_target
        if rate > 0.7 * target:
            camp.factor = max(pacing.minimum, camp.factor - pacing.step)
        elif rate < 0.3 * target and len(camp.recent) == window:
            camp.factor = min(pacing.maximum, camp.factor + pacing.step)

