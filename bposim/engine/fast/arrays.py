"""Turn a compiled Model and a replication's Streams into the kernel's arrays.

Everything random the SimPy engine draws before the run (arrival times, busyness
factors) comes from its own code, and every draw it makes during the run comes
from a :class:`~bposim.rng.BufferedSampler` (k-th call = k-th value, drawn with
``spec.sample(rng, 2048)`` block by block). Here each such sampler becomes a
*stream*: its blocks are drawn the same way from the same named generator, ahead
of the run, enough for the run as estimated; the kernel reads them in order, and if
one runs out, :meth:`Draws.more` draws further blocks and the run starts again. No
numba here.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from bposim.distributions import DistributionSpec
from bposim.engine.fast.layout import (
    AF_HIRED, AF_W, AI_CONTACT, AI_NEXT, AI_POOL, AI_PREV, AI_SPAN_HI, AI_SPAN_I,
    AI_STATE, AI_W, CONSULT, DYN_TABLES, EXTERNAL, F_HEADER, GF_END, GF_L, G_ACAP,
    G_CCAP, G_CTOP, G_ECAP, G_ETOP, G_K, G_KEEPC, G_KEEPS, G_LOW, G_LOWMARK, G_MARGIN,
    G_N, G_NA, G_NANS, G_NEED, G_NP, G_NQ, G_NREC, G_NST, G_NSTATES, G_RCAP, G_SCAP,
    G_STATUS, HEADER, N_ORIGINS, OFF, PF_ABSENTEEISM, PF_AVAIL_MEAN, PF_AWAY_MEAN,
    PF_ESC_FACTOR, PF_FCR, PF_GAP, PF_HANDLE_FACTOR, PF_LINEAR, PF_MAX_ON_BREAK,
    PF_SHRINKAGE, PF_W, PF_WEEKS, PI_IDLE_HEAD, PI_IDLE_TAIL, PI_LEV_HI, PI_LEV_LO,
    PI_S_ABSENCE, PI_S_AVAIL, PI_S_AWAY, PI_S_START, PI_W, QC_N, QF_HEAD_START,
    QF_RETRY_P, QF_SHORT, QF_W, QF_WITHIN, QI_ARR_HI, QI_ARR_POS, QI_ARR_STREAM,
    QI_ESC_HI, QI_ESC_LO, QI_HEAD, QI_HSCALE, QI_IMM_HI, QI_IMM_LO, QI_OV_HI, QI_OV_LO,
    QI_PSCALE, QI_RETRY, QI_RETRY_DELAY, QI_SMP, QI_TAIL, QI_W, REPEAT, RETRIAL, SD_LEN,
    SD_OFF, SD_OPEN, SD_POS, SD_W, SM_ESC, SM_HANDLE, SM_PATIENCE, SM_REPEAT, SM_RES,
    SM_WRAP, TRANSFER, T_AF, T_AI, T_BK, T_DR, T_ESC, T_ESCP, T_HS, T_LENTA, T_LENTQ,
    T_LEV, T_OV, T_OVR, T_PC, T_PF, T_PI, T_PK, T_PKS, T_PP, T_PS, T_PT, T_QC, T_QF,
    T_QI, T_QW, T_RT, T_SB, T_SD, T_SP,
)
from bposim.engine.recorder import ORIGIN_NAMES, STATE_NAMES
from bposim.rng import BufferedSampler

BLOCK = inspect.signature(BufferedSampler).parameters["block"].default  # its block size
WINDOW = 8  # at most this many blocks of a stream are held at once
_UNIFORM = DistributionSpec("uniform", low=0.0, high=1.0)
_EXP1 = DistributionSpec("exponential", mean=1.0)


class Draws:
    """The streams of one replication: one per BufferedSampler of the SimPy engine
    (drawn with ``spec.sample(rng, 2048)`` block by block from the same named
    generator) and one per queue for its arrival times. Each is held as a window in
    ``F``: values the kernel has used are dropped when a window is refilled, so memory
    does not grow with the length of the run."""

    def __init__(self, streams):
        self.streams = streams
        self.index: dict[tuple[str, str], int] = {}
        self.specs: list[DistributionSpec | None] = []
        self.rngs: list = []
        self.sources: list[np.ndarray | None] = []  # arrival times still to window
        self.window: list[np.ndarray] = []  # values not yet known to be used
        self.want: list[int] = []  # blocks to add at the next build
        self.dropped = False  # once used values are dropped, a restart is impossible

    def _new(self, spec, rng, source) -> int:
        self.specs.append(spec)
        self.rngs.append(rng)
        self.sources.append(source)
        self.window.append(np.zeros(0))
        self.want.append(0)
        return len(self.specs) - 1

    def add(self, purpose: str, name: str, spec: DistributionSpec, expected: float) -> int:
        """The stream drawn from ``streams.get(purpose, name)`` with ``spec``; about
        ``expected`` draws (a first window of up to :data:`WINDOW` blocks)."""
        k = self.index.get((purpose, name))
        if k is None:
            k = self.index[(purpose, name)] = self._new(spec, self.streams.get(purpose, name), None)
        self.want[k] = max(self.want[k], min(WINDOW, math.ceil(max(expected, 0.0) / BLOCK)))
        return k

    def add_values(self, values: np.ndarray) -> int:
        """A stream of given values (a queue's arrival times), read in order."""
        k = self._new(None, None, np.asarray(values, dtype=np.float64))
        self.want[k] = WINDOW
        return k

    def build(self, head: np.ndarray, I: np.ndarray) -> np.ndarray:
        """``F``: ``head`` then every window (wanted blocks added first); the windows
        become views into it and ``I``'s stream table says where they are."""
        for k, want in enumerate(self.want):
            if not want:
                continue
            src = self.sources[k]
            if self.specs[k] is None:  # given values: the next part, if any is left
                fresh = [] if src is None else [src[:want * BLOCK]]
                rest = None if src is None else src[want * BLOCK:]
                self.sources[k] = rest if rest is not None and rest.size else None
            else:
                fresh = [self.specs[k].sample(self.rngs[k], BLOCK) for _ in range(want)]
            self.window[k] = np.concatenate([self.window[k], *fresh]).astype(np.float64, copy=False)
            self.want[k] = 0
        F = np.concatenate([head, *self.window, np.zeros(1)])
        off = head.size
        for k, w in enumerate(self.window):
            base = I[T_SD] + k * SD_W
            I[base + SD_OFF], I[base + SD_LEN], I[base + SD_POS] = off - head.size, w.size, 0
            I[base + SD_OPEN] = int(self.specs[k] is not None or self.sources[k] is not None)
            self.window[k] = F[off:off + w.size]
            off += w.size
        I[T_DR] = head.size
        return F

    def refill(self, I: np.ndarray, F: np.ndarray, low: int) -> np.ndarray:
        """Stream ``low`` runs low: used values of every stream are dropped and ``low``
        gets more; returns the new ``F``."""
        for k in range(len(self.window)):
            used = int(I[I[T_SD] + k * SD_W + SD_POS])
            if used:
                self.window[k] = self.window[k][used:]
                self.dropped = True
                if self.window[k].size < WINDOW * BLOCK // 4:  # busy too: refill it now
                    self.want[k] = WINDOW
        self.want[low] = WINDOW  # a stream that runs low is a busy one: a full window
        self.window = [w.copy() for w in self.window]  # let the old F go
        return self.build(F[:I[T_DR]], I)

    def more(self, k: int) -> None:
        """Stream ``k`` ran out inside an event: more of it, and the run starts again."""
        if self.dropped:
            raise RuntimeError("fast engine: a random stream ran out after its start was dropped")
        self.want[k] = max(1, math.ceil(self.window[k].size / BLOCK))


class Prepared:
    """A model's tables before the run, built once; :meth:`arrays` gives fresh copies
    for one attempt (with the streams as drawn so far)."""

    def __init__(self, model, streams):
        from bposim.engine import contacts  # the SimPy engine's own arrival code
        from bposim.engine.workforce import staffers

        self.model = m = model
        self.n = n = m.n_intervals
        nq, npl = len(m.queues), len(m.pools)
        times, self.busyness = [], {}
        # arrival_array (sorted float64 array) when the engine has it, else the list form
        arrival = getattr(contacts, "arrival_array", None) or contacts.arrival_times
        for q in m.queues:
            t, factors = arrival(m, q, streams)
            times.append(np.asarray(t, dtype=np.float64))
            del t
            if factors is not None:
                self.busyness[q.id] = factors
        self.draws = draws = Draws(streams)
        self.queue_ids = [q.id for q in m.queues]
        self.pool_ids = [p.id for p in m.pools]
        arr_counts = [len(t) for t in times]
        flows = _flows(m, arr_counts)

        qi = np.zeros((nq, QI_W), np.int64)
        qf = np.zeros((nq, QF_W))
        hscale, pscale = np.ones((nq, n)), np.ones((nq, n))
        rt, ov, ovr, esc, esc_p = [], [], [], [], []
        for q in m.queues:
            i = q.index
            row = qi[i]
            row[QI_ARR_POS], row[QI_ARR_HI] = 0, arr_counts[i]
            row[QI_ARR_STREAM] = draws.add_values(times[i])
            row[QI_HEAD] = row[QI_TAIL] = -1
            qf[i, QF_WITHIN], qf[i, QF_SHORT] = q.answer_within, q.short_abandon
            row[QI_IMM_LO] = len(rt)
            rt += [p for p, after in q.servers if after <= 0]
            row[QI_IMM_HI] = len(rt)
            row[QI_OV_LO] = len(ov)
            for a in sorted({after for _, after in q.servers if after > 0}):
                ov.append(a)
                lo = len(rt)
                rt += [p for p, after in q.servers if after <= a]
                ovr.append((lo, len(rt)))
            row[QI_OV_HI] = len(ov)
            row[QI_ESC_LO] = len(esc_p)
            for r in q.escalations:
                stream = -1
                if r.consult and r.consult_time is not None:
                    stream = draws.add("consult_time", r.name, r.consult_time,
                                       _margin(flows.total[i] * r.probability * flows.esc_max))
                esc.append((r.target, int(r.consult), stream))
                esc_p.append(r.probability)
            row[QI_ESC_HI] = len(esc_p)
            if q.handle_scale is not None:
                row[QI_HSCALE] = 1
                hscale[i] = q.handle_scale
            if q.patience_scale is not None:
                row[QI_PSCALE] = 1
                pscale[i] = q.patience_scale
            fcr_matters = any(m.pools[p].fcr < 1 for p, _ in q.servers)
            row[QI_SMP:QI_SMP + 6 * N_ORIGINS] = -1
            qf[i, QF_HEAD_START] = q.head_start
            row[QI_RETRY] = row[QI_RETRY_DELAY] = -1
            if q.retrial is not None:  # one decision per abandonment; a delay per retrial
                qf[i, QF_RETRY_P] = q.retrial.probability
                row[QI_RETRY] = draws.add("retrial", q.id, _UNIFORM, _margin(flows.total[i]))
                row[QI_RETRY_DELAY] = draws.add("retrial_delay", q.id, q.retrial.delay,
                                                _margin(flows.by_origin[i][RETRIAL]))
            possible = _origins(m, q, fcr_matters)
            for origin, expected in enumerate(flows.by_origin[i]):
                tag = "" if origin == EXTERNAL else ":" + ORIGIN_NAMES[origin]
                # one draw of each per external arrival; others as estimated, and at least
                # a margin wherever such a contact can come (never an empty stream there)
                e = expected if origin == EXTERNAL else _margin(expected) if origin in possible else 0
                sm = QI_SMP + 6 * origin
                row[sm + SM_HANDLE] = draws.add("handle" + tag, q.id, q.handle, e)
                if q.wrap:
                    row[sm + SM_WRAP] = draws.add("wrap" + tag, q.id, q.wrap, e)
                if q.patience is not None:
                    row[sm + SM_PATIENCE] = draws.add("patience" + tag, q.id, q.patience, e)
                if q.escalations:
                    row[sm + SM_ESC] = draws.add("escalation" + tag, q.id, _UNIFORM, e)
                if fcr_matters:
                    row[sm + SM_RES] = draws.add("resolution" + tag, q.id, _UNIFORM, e)
                    row[sm + SM_REPEAT] = draws.add("repeat_after" + tag, q.id, q.repeat_after, e)

        pi = np.zeros((npl, PI_W), np.int64)
        pf = np.zeros((npl, PF_W))
        lev, lent_q, lent_a = [], [], []
        agents, spans, sb, bk = [], [], [], []
        self.agent_ids, self.agent_pool, self.leavers, self.hires = [], [], [], []
        for p in m.pools:
            j = p.index
            pi[j, PI_IDLE_HEAD] = pi[j, PI_IDLE_TAIL] = -1
            pi[j, PI_LEV_LO] = len(lev)
            for level in p.levels:
                lo = len(lent_q)
                for qx, after in level:
                    lent_q.append(qx)
                    lent_a.append(after)
                lev.append((lo, len(lent_q)))
            pi[j, PI_LEV_HI] = len(lev)
            s = p.shrinkage
            pf[j, PF_SHRINKAGE] = s
            pf[j, PF_AWAY_MEAN] = p.shrinkage_period
            pf[j, PF_AVAIL_MEAN] = p.shrinkage_period * (1 - s) / s if s > 0 else math.inf
            pf[j, PF_MAX_ON_BREAK] = p.max_on_break
            pf[j, PF_ABSENTEEISM] = p.absenteeism
            pf[j, PF_FCR] = p.fcr
            pf[j, PF_ESC_FACTOR] = p.escalation_factor
            pf[j, PF_HANDLE_FACTOR] = p.handle_factor
            prof = p.proficiency
            if prof is not None:
                pf[j, PF_LINEAR] = 1.0 if prof.linear else 0.0
                pf[j, PF_GAP] = prof.initial_factor - 1.0
                pf[j, PF_WEEKS] = prof.weeks_to_proficiency
            # the SimPy engine's draw of who leaves and who replaces them (Workforce.start)
            people = staffers(p, m.end, streams.get("attrition", p.id) if p.attrition else None)
            self.leavers.append(sum(1 for person in people if person.left is not None))
            self.hires.append(sum(1 for person in people if person.replaces is not None))
            n_spans, on_secs = 0, 0.0
            for k, person in enumerate(people):
                lo = len(spans)
                for span in person.spans:
                    b0 = len(bk)
                    bk.extend(span.breaks)
                    sb.append((b0, len(bk)))
                    spans.append((span.start, span.end))
                    on_secs += span.end - span.start
                # a learning agent's handle time follows the curve (Workforce.speed)
                hired = person.hired if prof is not None and person.hired is not None else -1.0
                agents.append((j, lo, len(spans), hired))
                n_spans += len(spans) - lo
                self.agent_ids.append(f"{p.id}-{k:04d}")
                self.agent_pool.append(j)
            pi[j, PI_S_START:PI_S_ABSENCE + 1] = -1
            if s > 0:
                cycles = on_secs * s / p.shrinkage_period + n_spans
                pi[j, PI_S_START] = draws.add("shrinkage_start", p.id, _UNIFORM, n_spans)
                pi[j, PI_S_AWAY] = draws.add("shrinkage_away", p.id, _EXP1, _margin(cycles))
                pi[j, PI_S_AVAIL] = draws.add("shrinkage_avail", p.id, _EXP1, _margin(cycles))
            if p.absenteeism > 0:
                pi[j, PI_S_ABSENCE] = draws.add("absence", p.id, _UNIFORM, n_spans)
        na = len(agents)
        ai = np.zeros((na, AI_W), np.int64)
        af = np.zeros((na, AF_W))
        for a, (j, lo, hi, hired) in enumerate(agents):
            ai[a, AI_POOL], ai[a, AI_SPAN_I], ai[a, AI_SPAN_HI] = j, lo, hi
            af[a, AF_HIRED] = hired
        ai[:, AI_STATE] = OFF
        ai[:, AI_CONTACT] = -1
        ai[:, AI_PREV] = -1
        ai[:, AI_NEXT] = -1
        sb = np.array(sb, np.int64).reshape(-1, 2)
        pending = int((sb[:, 1] - sb[:, 0]).max(initial=0)) + 3  # a span's breaks, a shrinkage

        ints = _Flat(np.int64, HEADER)
        ints.header[G_N], ints.header[G_NQ], ints.header[G_NP], ints.header[G_NA] = n, nq, npl, na
        ints.header[G_STATUS] = -1
        ints.header[G_KEEPC], ints.header[G_KEEPS] = int(m.keep_contacts), int(m.keep_agent_states)
        ints.header[G_MARGIN] = 32 + 2 * pending + 2 * len(ov)
        ints.header[G_K] = pending
        ints.header[G_NSTATES] = len(STATE_NAMES)
        spans_per_agent = max([hi - lo for _, lo, hi, _ in agents] + [0])
        ints.header[G_LOWMARK] = 16 + spans_per_agent  # at most this many draws in one event
        floats = _Flat(np.float64, F_HEADER)
        floats.header[GF_L], floats.header[GF_END] = m.interval, m.end
        for slot, flat, table in (
            (T_QI, ints, qi), (T_QC, ints, np.zeros(nq * QC_N * n, np.int64)), (T_RT, ints, rt),
            (T_OVR, ints, ovr), (T_LEV, ints, lev), (T_LENTQ, ints, lent_q), (T_ESC, ints, esc),
            (T_PI, ints, pi), (T_PC, ints, np.zeros(npl * 2 * n, np.int64)), (T_AI, ints, ai),
            (T_PK, ints, np.zeros(na * pending, np.int64)), (T_SB, ints, sb),
            (T_QF, floats, qf), (T_QW, floats, np.zeros(nq * 2 * n)), (T_HS, floats, hscale),
            (T_PS, floats, pscale),
            (T_OV, floats, ov), (T_LENTA, floats, lent_a), (T_ESCP, floats, esc_p),
            (T_PF, floats, pf), (T_PT, floats, np.zeros(npl * len(STATE_NAMES) * n)),
            (T_PP, floats, np.zeros(npl * 2 * n)), (T_AF, floats, af),
            (T_PKS, floats, np.zeros(na * pending)), (T_SP, floats, spans), (T_BK, floats, bk),
        ):
            ints.header[slot] = flat.add(table)
        self.ints, self.floats = ints, floats
        self.expected_contacts = int(flows.total.sum())

    def arrays(self):
        """Fresh ``I, F, DI, DF`` for one attempt of the run."""
        I = self.ints.build(np.zeros(len(self.draws.window) * SD_W, np.int64))
        I[T_SD] = self.ints.size
        I[G_LOW] = -1
        F = self.draws.build(self.floats.build(np.zeros(0)), I)
        na = int(I[G_NA])
        answers = int(1.02 * self.expected_contacts) + 256  # (a shortfall only costs a copy)
        records = answers + na if self.model.keep_contacts else 64
        states = 4096 if self.model.keep_agent_states else 64
        DI, DF = new_dyn(I, 8192 + 2 * na, 8192 + 4 * na, answers, records, states)
        return I, F, DI, DF


class _Flat:
    """Tables appended one after the other into one flat array, after a header."""

    def __init__(self, dtype, header: int):
        self.dtype = dtype
        self.header = np.zeros(header, dtype)
        self.parts: list[np.ndarray] = []
        self.size = header

    def add(self, table) -> int:
        arr = np.ascontiguousarray(np.asarray(table, dtype=self.dtype)).ravel()
        offset = self.size
        self.parts.append(arr)
        self.size += arr.size
        return offset

    def build(self, last: np.ndarray) -> np.ndarray:
        """The flat array with ``last`` appended (the streams, which change per attempt)."""
        return np.concatenate([self.header, *self.parts, np.asarray(last, self.dtype).ravel()])


def new_dyn(I: np.ndarray, contacts: int, events: int, answers: int, records: int,
            states: int) -> tuple[np.ndarray, np.ndarray]:
    """Empty growing tables with these capacities; their offsets and capacities go in ``I``."""
    caps = {G_CCAP: contacts, G_ECAP: events, G_ACAP: answers, G_RCAP: records, G_SCAP: states}
    for cap, rows in caps.items():
        I[cap] = rows
    return _layout(I, None, None)


def grow(I: np.ndarray, DI: np.ndarray, DF: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``DI``/``DF`` with every growing table that lacks room for ``I[G_NEED]`` more
    rows made half as large again, as often as needed (contents copied, offsets in
    ``I`` updated)."""
    need = int(I[G_NEED])
    old_caps = {cap: int(I[cap]) for _, cap, _, _ in DYN_TABLES}
    for used, cap, kept in ((G_CTOP, G_CCAP, 1), (G_ETOP, G_ECAP, 1), (G_NANS, G_ACAP, 1),
                            (G_NREC, G_RCAP, I[G_KEEPC]), (G_NST, G_SCAP, I[G_KEEPS])):
        while kept and I[used] + need > I[cap]:
            I[cap] = max(I[cap] + I[cap] // 2, 16)
    return _layout(I, DI, DF, old_caps)


def _layout(I, DI, DF, old_caps=None):
    """Place the growing tables at capacity; copy their rows from ``DI``/``DF`` if given."""
    old = {slot: int(I[slot]) for slot, _, _, _ in DYN_TABLES}
    sizes = {True: 0, False: 0}
    for slot, cap, width, in_ints in DYN_TABLES:
        I[slot] = sizes[in_ints]
        sizes[in_ints] += int(I[cap]) * width
    NI, NF = np.zeros(max(sizes[True], 1), np.int64), np.zeros(max(sizes[False], 1))
    if DI is not None:
        for slot, cap, width, in_ints in DYN_TABLES:
            src, dst = (DI, NI) if in_ints else (DF, NF)
            m = old_caps[cap] * width
            dst[I[slot]:I[slot] + m] = src[old[slot]:old[slot] + m]
    return NI, NF


def _margin(expected: float) -> float:
    """A generous first guess of a stream's use; a shortfall only costs a re-run."""
    return 1.25 * expected + 64


class _Flows:
    def __init__(self, total, by_origin, esc_max):
        self.total, self.by_origin, self.esc_max = total, by_origin, esc_max


def _origins(m, q, fcr_matters: bool) -> set[int]:
    """The origins a contact of queue ``q`` can have, from the model's structure."""
    out = {EXTERNAL}
    for other in m.queues:
        for r in other.escalations:
            if r.target == q.index:
                out.add(CONSULT if r.consult else TRANSFER)
    if fcr_matters:
        out.add(REPEAT)
    if q.retrial is not None:
        out.add(RETRIAL)
    return out


def _flows(m, arrivals: list[int]) -> _Flows:
    """Expected contacts per queue and origin (external, transfer, consult, repeat,
    retrial), from the arrival counts, escalation probabilities, first-contact
    resolution and retrial probabilities (as if every customer abandoned). An estimate
    for the first windows of the streams: a shortfall only costs a refill."""
    nq = len(m.queues)
    ext = np.array(arrivals, dtype=float)
    esc_max = max([p.escalation_factor for p in m.pools] + [1.0])
    unresolved = np.array([max([1 - m.pools[p].fcr for p, _ in q.servers] + [0.0]) for q in m.queues])
    retry = np.array([q.retrial.probability if q.retrial is not None else 0.0 for q in m.queues])
    by = np.zeros((nq, N_ORIGINS))
    by[:, EXTERNAL] = ext
    cap = 4 * ext.sum() + 4096  # loops of escalations: the estimate stops growing here
    for _ in range(8):
        total = by.sum(axis=1)
        nxt = np.zeros((nq, N_ORIGINS))
        nxt[:, EXTERNAL] = ext
        for q in m.queues:
            for r in q.escalations:
                nxt[r.target, CONSULT if r.consult else TRANSFER] += (
                    total[q.index] * min(1.0, r.probability * esc_max))
        nxt[:, REPEAT] = total * unresolved
        nxt[:, RETRIAL] = (total - by[:, CONSULT]) * retry  # consults never call again
        by = np.minimum(nxt, cap)
    return _Flows(by.sum(axis=1), by, esc_max)
