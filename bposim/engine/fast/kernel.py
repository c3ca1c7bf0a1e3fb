"""Kernel: the event loop (numba).

``run(I, F, DI, DF)`` (the compiled entry point; :func:`play` on the arrays' data)
plays one replication and can be called again where it stopped: first arrivals and
agents' first spans are scheduled in the SimPy engine's order, then events are taken
in (time, insertion) order until the horizon ends (an event at exactly the end is not
run, as ``env.run(until=end)``), then the run is closed. Between two events it returns
to Python when a growing table is nearly full (``ROOM``) or a pre-drawn stream runs
low (``LOW``); Python enlarges the arrays and calls it again, so nothing is drawn
twice. Each event kind is handled here as the SimPy engine's handler of that kind does
(named in the comments).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bposim.engine.fast.k_agent import available, due, finish, free, go_away, schedule_next_span
from bposim.engine.fast.k_base import draw, drop, idle_out, push, record, set_state
from bposim.engine.fast.k_compile import pointer, subroutine
from bposim.engine.fast.k_contact import answer, longest_idle, new_contact, next_work, offer
from bposim.engine.fast.layout import (
    ABANDONED, AF_SPAN_END, AF_W, AI_CONTACT, AI_EPOCH, AI_LEAVING, AI_PEND_N, AI_POOL,
    AI_STATE, AI_W, ARGS, AWAY, BREAK, BROKEN, CF_ARRIVAL, CF_HANDLE, CF_PATIENCE,
    CF_REPEAT_AFTER, CF_UESC, CF_URES, CF_W, CI_HAS_ESC, CI_HAS_RES, CI_HOLDER, CI_ID,
    CI_INTERVAL, CI_NEXT, CI_ORIGIN, CI_QUEUE, CI_STATE, CI_W, CONSULT, DIALING, DONE_,
    EF_F, EF_TIME, EF_W, EI_A, EI_B, EI_C, EI_KIND, EI_W, EXTERNAL, E_ABANDON, E_ARRIVE,
    E_BACK, E_DUE, E_END_TALK, E_FREE, E_OFF_DUTY, E_ON_DUTY, E_OVERFLOW, E_REPEAT,
    E_RETRY, E_SHRINK_DUE, GF_END, GF_L, G_ACAP, G_CCAP, G_CTOP, G_ECAP, G_EFREE,
    G_ERROR, G_ETOP, G_HEAPN, G_KEEPC, G_KEEPS, G_LOW, G_MARGIN, G_N, G_NA, G_NANS,
    G_NEED, G_NQ, G_NREC, G_NST, G_PHASE, G_RCAP, G_SCAP, G_STATUS, HOLD, LOW, OFF, OUT,
    OUT_TALK, OUT_WRAP, PARGS, PF_AVAIL_MEAN, PF_AWAY_MEAN, PF_ESC_FACTOR, PF_FCR,
    PF_OVERRUN, PF_SHRINKAGE, PF_W, PHASE_DONE, PHASE_LOOP, PHASE_START, PI_ON_BREAK,
    PI_ON_DUTY, PI_S_AVAIL, PI_S_AWAY, PI_S_START, PI_W, PREVIEW, QC_ABANDONED,
    QC_ESCALATED, QC_N, QC_REPEATS, QC_RETRIALS, QC_SHORT, QC_UNANSWERED, QC_UNRESOLVED,
    QF_AREA, QF_LAST, QF_RETRY_P, QF_SHORT, QF_W, QI_ARR_HI, QI_ARR_POS, QI_ARR_STREAM,
    QI_ESC_HI, QI_ESC_LO, QI_HEAD, QI_NWAIT, QI_RETRY, QI_RETRY_DELAY, QI_W, QW_ALL,
    REPEAT, RETRIAL, ROOM, R_ABANDONED, R_ANSWERED, R_UNANSWERED, SERVING, TALK,
    TRANSFER, T_AF, T_AI, T_BK, T_CF, T_CI, T_EF, T_EFREE, T_EI, T_ESC, T_ESCP, T_HEAP,
    T_OVR, T_PF, T_PI, T_QC, T_QF, T_QI, T_QW, T_SB, T_SP, WAITING, WRAP,
)


@subroutine("b1(CPointer(int64), i8)")
def _short(I, extra):
    """True if a growing table lacks room for ``extra`` more rows (noted in G_NEED);
    records and agent states count only when they are kept."""
    if (I[G_CTOP] + extra > I[G_CCAP] or I[G_ETOP] + extra > I[G_ECAP]
            or I[G_NANS] + extra > I[G_ACAP]
            or (I[G_KEEPC] and I[G_NREC] + extra > I[G_RCAP])
            or (I[G_KEEPS] and I[G_NST] + extra > I[G_SCAP])):
        I[G_NEED] = extra
        return True
    return False


@subroutine("void(CPointer(int64), CPointer(float64), i8, i8, f8)")
def _queue_len(I, F, q, delta, now):
    """The area under the number waiting (Little's law), then the change."""
    qb, qf = I[T_QI] + q * QI_W, I[T_QF] + q * QF_W
    F[qf + QF_AREA] += I[qb + QI_NWAIT] * (now - F[qf + QF_LAST])
    F[qf + QF_LAST] = now
    I[qb + QI_NWAIT] += delta


@subroutine(f"i8({PARGS})")
def play(I, F, DI, DF):
    """run() on the arrays' data (the kernel indexes raw pointers: see k_compile.pointer)."""
    end, L = F[GF_END], F[GF_L]
    n, margin = I[G_N], I[G_MARGIN]
    if I[G_PHASE] == PHASE_START:
        if _short(I, margin + I[G_NQ] + I[G_NA]):
            return ROOM
        for q in range(I[G_NQ]):  # each queue's first arrival, then each agent's first span
            qb = I[T_QI] + q * QI_W
            pos = I[qb + QI_ARR_POS]
            if pos < I[qb + QI_ARR_HI]:
                I[qb + QI_ARR_POS] = pos + 1
                push(I, F, DI, DF, 0.0 + draw(I, F, I[qb + QI_ARR_STREAM]), E_ARRIVE, q, 0, 0, 0.0)
        for a in range(I[G_NA]):
            schedule_next_span(I, F, DI, DF, a, 0.0)
        I[G_PHASE] = PHASE_LOOP
        if I[G_STATUS] >= 0:
            return OUT
    while I[G_HEAPN] > 0:
        if I[G_LOW] >= 0:
            return LOW
        if _short(I, margin):
            return ROOM
        h, ei, ef = I[T_HEAP], I[T_EI], I[T_EF]
        top = DI[h]
        eb, fb = ei + top * EI_W, ef + top * EF_W
        now = DF[fb + EF_TIME]
        if now >= end:
            break
        kind, x, y, z = DI[eb + EI_KIND], DI[eb + EI_A], DI[eb + EI_B], DI[eb + EI_C]
        f = DF[fb + EF_F]
        last = I[G_HEAPN] - 1  # the event leaves the heap: sift the last one down
        I[G_HEAPN] = last
        if last > 0:
            s = DI[h + last]
            ts, qs = DF[ef + s * EF_W], DI[ei + s * EI_W]
            i = 0
            while True:
                child = 2 * i + 1
                if child >= last:
                    break
                if child + 1 < last:
                    c1, c2 = DI[h + child], DI[h + child + 1]
                    t1, t2 = DF[ef + c1 * EF_W], DF[ef + c2 * EF_W]
                    if t2 < t1 or (t2 == t1 and DI[ei + c2 * EI_W] < DI[ei + c1 * EI_W]):
                        child += 1
                cs = DI[h + child]
                tc = DF[ef + cs * EF_W]
                if ts < tc or (ts == tc and qs < DI[ei + cs * EI_W]):
                    break
                DI[h + i] = cs
                i = child
            DI[h + i] = s
        DI[I[T_EFREE] + I[G_EFREE]] = top  # its slot is free again
        I[G_EFREE] += 1
        if kind == E_ARRIVE:  # an external arrival; the queue's next one is scheduled
            i = int(now // L)
            c = new_contact(I, F, DI, DF, x, EXTERNAL, -1, now, i if i < n - 1 else n - 1)
            offer(I, F, DI, DF, c, now)
            qb = I[T_QI] + x * QI_W
            pos = I[qb + QI_ARR_POS]
            if pos < I[qb + QI_ARR_HI]:
                I[qb + QI_ARR_POS] = pos + 1
                t = draw(I, F, I[qb + QI_ARR_STREAM])
                push(I, F, DI, DF, now + (t - now), E_ARRIVE, x, 0, 0, 0.0)
        elif kind == E_ABANDON:  # patience ran out (nothing if no longer waiting)
            cb = I[T_CI] + x * CI_W
            if DI[cb + CI_STATE] == WAITING:
                q, i = DI[cb + CI_QUEUE], DI[cb + CI_INTERVAL]
                DI[cb + CI_STATE] = ABANDONED
                _queue_len(I, F, q, -1, now)
                I[I[T_QC] + (q * QC_N + QC_ABANDONED) * n + i] += 1
                patience = DF[I[T_CF] + x * CF_W + CF_PATIENCE]
                if patience <= F[I[T_QF] + q * QF_W + QF_SHORT]:
                    I[I[T_QC] + (q * QC_N + QC_SHORT) * n + i] += 1
                F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += patience
                if I[G_KEEPC]:
                    record(I, F, DI, DF, x, now, R_ABANDONED)
                qb = I[T_QI] + q * QI_W  # the customer may call again (Retrials.abandoned)
                if I[qb + QI_RETRY] >= 0 and DI[cb + CI_ORIGIN] != CONSULT:
                    if draw(I, F, I[qb + QI_RETRY]) < F[I[T_QF] + q * QF_W + QF_RETRY_P]:
                        d = draw(I, F, I[qb + QI_RETRY_DELAY])
                        if now + d < end:
                            push(I, F, DI, DF, now + d, E_RETRY, q, DI[cb + CI_ID], 0, 0.0)
                if DI[cb + CI_HOLDER] >= 0:  # no expert came: the first agent carries on alone
                    finish(I, F, DI, DF, DI[cb + CI_HOLDER], now)
            drop(I, F, DI, DF, x)
        elif kind == E_OVERFLOW:  # after a wait, more pools may answer
            cb = I[T_CI] + x * CI_W
            if DI[cb + CI_STATE] == WAITING:
                a = longest_idle(I, F, I[I[T_OVR] + 2 * y], I[I[T_OVR] + 2 * y + 1])
                if a >= 0:
                    _queue_len(I, F, DI[cb + CI_QUEUE], -1, now)
                    answer(I, F, DI, DF, x, a, now)
            drop(I, F, DI, DF, x)
        elif kind == E_END_TALK:  # escalate (a transfer, or a consult that holds the agent),
            # or leave the contact unresolved (its customer comes back later); then finish
            c = I[I[T_AI] + x * AI_W + AI_CONTACT]
            cb, cf = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
            q = DI[cb + CI_QUEUE]
            qb = I[T_QI] + q * QI_W
            pf = I[T_PF] + I[I[T_AI] + x * AI_W + AI_POOL] * PF_W
            origin = DI[cb + CI_ORIGIN]
            route = -1
            if DI[cb + CI_HAS_ESC] and origin != CONSULT:  # a consult advises; it does not escalate
                factor = F[pf + PF_ESC_FACTOR]
                acc = 0.0
                u = DF[cf + CF_UESC]
                for r in range(I[qb + QI_ESC_LO], I[qb + QI_ESC_HI]):
                    acc += F[I[T_ESCP] + r] * factor
                    if u < acc:
                        route = r
                        break
            held = False
            if route >= 0:
                I[I[T_QC] + (q * QC_N + QC_ESCALATED) * n + DI[cb + CI_INTERVAL]] += 1
                rb = I[T_ESC] + 3 * route
                consult = I[rb + 1]
                i = int(now // L)
                child = new_contact(I, F, DI, DF, I[rb], CONSULT if consult else TRANSFER,
                                    DI[cb + CI_ID], now, i if i < n - 1 else n - 1)
                if consult:
                    if I[rb + 2] >= 0:  # the consult's own time replaces the drawn handle time
                        DF[I[T_CF] + child * CF_W + CF_HANDLE] = draw(I, F, I[rb + 2])
                    DI[I[T_CI] + child * CI_W + CI_HOLDER] = x
                    set_state(I, F, DI, DF, x, HOLD, now)
                    held = True  # the agent is released when the consult ends
                offer(I, F, DI, DF, child, now)
            elif DI[cb + CI_HAS_RES] and origin != CONSULT and DF[cf + CF_URES] >= F[pf + PF_FCR]:
                I[I[T_QC] + (q * QC_N + QC_UNRESOLVED) * n + DI[cb + CI_INTERVAL]] += 1
                delay = DF[cf + CF_REPEAT_AFTER]
                if now + delay < end:
                    push(I, F, DI, DF, now + delay, E_REPEAT, q, DI[cb + CI_ID], 0, 0.0)
            if not held:
                if DI[cb + CI_HOLDER] >= 0:  # a consult ended: the holder finishes its contact
                    finish(I, F, DI, DF, DI[cb + CI_HOLDER], now)
                finish(I, F, DI, DF, x, now)
        elif kind == E_FREE:  # wrap is over
            free(I, F, DI, DF, x, now)
        elif kind == E_REPEAT:  # an unresolved contact's customer comes back
            c = new_contact(I, F, DI, DF, x, REPEAT, y, now, int(now // L))
            I[I[T_QC] + (x * QC_N + QC_REPEATS) * n + DI[I[T_CI] + c * CI_W + CI_INTERVAL]] += 1
            offer(I, F, DI, DF, c, now)
        elif kind == E_RETRY:  # an abandoned customer calls again (Retrials._retry)
            i = int(now // L)
            c = new_contact(I, F, DI, DF, x, RETRIAL, y, now, i if i < n - 1 else n - 1)
            I[I[T_QC] + (x * QC_N + QC_RETRIALS) * n + DI[I[T_CI] + c * CI_W + CI_INTERVAL]] += 1
            offer(I, F, DI, DF, c, now)
        elif kind == E_ON_DUTY:  # a span starts: its end, breaks and shrinkage timed, then work
            ab = I[T_AI] + x * AI_W
            I[ab + AI_EPOCH] += 1
            epoch = I[ab + AI_EPOCH]
            stop = F[I[T_SP] + 2 * y + 1]
            F[I[T_AF] + x * AF_W + AF_SPAN_END] = stop
            I[ab + AI_PEND_N] = 0
            p = I[ab + AI_POOL]
            pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
            I[pb + PI_ON_DUTY] += 1
            push(I, F, DI, DF, now + (stop - now), E_OFF_DUTY, x, epoch, 0, 0.0)
            for b in range(I[I[T_SB] + 2 * y], I[I[T_SB] + 2 * y + 1]):
                push(I, F, DI, DF, now + max(F[I[T_BK] + 2 * b] - now, 0.0), E_DUE, x, epoch,
                     BREAK, F[I[T_BK] + 2 * b + 1])
            away = False
            shrink = F[pf + PF_SHRINKAGE]
            if shrink > 0:
                if draw(I, F, I[pb + PI_S_START]) < shrink:  # away with probability = shrinkage
                    go_away(I, F, DI, DF, x, AWAY,
                            draw(I, F, I[pb + PI_S_AWAY]) * F[pf + PF_AWAY_MEAN], now)
                    away = True
                else:
                    push(I, F, DI, DF, now + draw(I, F, I[pb + PI_S_AVAIL]) * F[pf + PF_AVAIL_MEAN],
                         E_SHRINK_DUE, x, epoch, 0, 0.0)
            if not away:
                next_work(I, F, DI, DF, x, now)
        elif kind == E_OFF_DUTY:  # the span ends (a busy agent first finishes its contact)
            ab = I[T_AI] + x * AI_W
            if y == I[ab + AI_EPOCH]:
                pb = I[T_PI] + I[ab + AI_POOL] * PI_W
                I[ab + AI_EPOCH] += 1
                I[pb + PI_ON_DUTY] -= 1
                I[ab + AI_PEND_N] = 0
                state = I[ab + AI_STATE]
                if (state == TALK or state == WRAP or state == HOLD or state == PREVIEW
                        or state == OUT_TALK or state == OUT_WRAP or state == DIALING):
                    I[ab + AI_LEAVING] = 1
                else:
                    if state == BREAK:
                        I[pb + PI_ON_BREAK] -= 1
                    idle_out(I, x)
                    set_state(I, F, DI, DF, x, OFF, now)
                    schedule_next_span(I, F, DI, DF, x, now)
        elif kind == E_DUE:
            due(I, F, DI, DF, x, y, z, f, now)
        elif kind == E_SHRINK_DUE:  # the away time is drawn before the epoch is checked
            p = I[I[T_AI] + x * AI_W + AI_POOL]
            mean = F[I[T_PF] + p * PF_W + PF_AWAY_MEAN]
            seconds = draw(I, F, I[I[T_PI] + p * PI_W + PI_S_AWAY]) * mean
            due(I, F, DI, DF, x, y, AWAY, seconds, now)
        elif kind == E_BACK:  # a break or shrinkage period ends
            ab = I[T_AI] + x * AI_W
            if y == I[ab + AI_EPOCH]:
                p = I[ab + AI_POOL]
                if z == BREAK:
                    I[I[T_PI] + p * PI_W + PI_ON_BREAK] -= 1
                else:
                    avail = draw(I, F, I[I[T_PI] + p * PI_W + PI_S_AVAIL]) * F[I[T_PF] + p * PF_W + PF_AVAIL_MEAN]
                    push(I, F, DI, DF, now + avail, E_SHRINK_DUE, x, y, 0, 0.0)
                available(I, F, DI, DF, x, now)
        if I[G_STATUS] >= 0:
            return OUT
        if I[G_ERROR]:
            return BROKEN
    if _short(I, margin + I[G_NA] + I[G_CTOP]):
        return ROOM
    for a in range(I[G_NA]):  # the horizon ends: agents' time flushed (overruns, spans
        ab = I[T_AI] + a * AI_W  # worked through), contacts in service recorded
        if I[ab + AI_LEAVING]:
            F[I[T_PF] + I[ab + AI_POOL] * PF_W + PF_OVERRUN] += end - F[I[T_AF] + a * AF_W + AF_SPAN_END]
            I[ab + AI_LEAVING] = 0
            schedule_next_span(I, F, DI, DF, a, end)
        c = I[ab + AI_CONTACT]
        if I[G_KEEPC] and c >= 0 and DI[I[T_CI] + c * CI_W + CI_STATE] == SERVING:
            record(I, F, DI, DF, c, np.nan, R_ANSWERED)
        set_state(I, F, DI, DF, a, OFF, end)
    for q in range(I[G_NQ]):  # contacts still waiting counted (their wait until the end)
        _queue_len(I, F, q, 0, end)
        c = I[I[T_QI] + q * QI_W + QI_HEAD]
        while c >= 0:
            cb = I[T_CI] + c * CI_W
            if DI[cb + CI_STATE] == WAITING:
                i = DI[cb + CI_INTERVAL]
                I[I[T_QC] + (q * QC_N + QC_UNANSWERED) * n + i] += 1
                F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += end - DF[I[T_CF] + c * CF_W + CF_ARRIVAL]
                if I[G_KEEPC]:
                    record(I, F, DI, DF, c, end, R_UNANSWERED)
            c = DI[cb + CI_NEXT]
    I[G_PHASE] = PHASE_DONE
    return OUT if I[G_STATUS] >= 0 else DONE_


@njit(f"i8({ARGS})", cache=True, _nrt=False, no_rewrites=True)
def run(I, F, DI, DF):
    """Play the replication from where it stopped; returns DONE_, ROOM, LOW, OUT or BROKEN."""
    return play(pointer(I), pointer(F), pointer(DI), pointer(DF))


@njit("void(i8[::1], f8[::1], i8[::1], f8[::1])", cache=True, _nrt=False)
def sort_waits(keys, waits, starts, out):
    """Answered waits grouped by key (queue * n + interval), each group in the order
    answered: ``starts`` (where each group begins in ``out``) is advanced as it goes."""
    for k in range(keys.size):
        j = keys[k]
        out[starts[j]] = waits[k]
        starts[j] += 1
