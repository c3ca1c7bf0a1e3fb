"""Kernel: contacts and the dispatcher (numba), as ``bposim.engine`` does them: a new
contact's draws, offering it (the longest-idle qualified agent, or the waiting line
with its abandonment and overflow timers), answering, and a free agent's choice of
the highest-priority, longest-waiting contact."""

from __future__ import annotations

import math

import numpy as np

from bposim.engine.fast.k_base import INF, draw, drop, idle_out, push, set_state, take_slot
from bposim.engine.fast.k_compile import subroutine
from bposim.engine.fast.layout import (
    AF_HIRED, AF_SINCE, AF_W, AI_CONTACT, AI_IN_IDLE, AI_NEXT, AI_POOL, AI_PREV, AI_W,
    CF_ANSWER, CF_ARRIVAL, CF_HANDLE, CF_PATIENCE, CF_REPEAT_AFTER, CF_UESC, CF_URES,
    CF_W, CF_WRAP, CI_AGENT, CI_HAS_ESC, CI_HAS_RES, CI_HOLDER, CI_ID, CI_INTERVAL,
    CI_NEXT, CI_ORIGIN, CI_PARENT, CI_QUEUE, CI_REF, CI_STATE, CI_W, CONSULT, E_ABANDON,
    E_END_TALK, E_OVERFLOW, GF_L, G_CFREE, G_CTOP, G_N, G_NANS, G_NEXTID, IDLE, PARGS,
    PC_ESC_TAKEN, PC_HANDLED, PF_GAP, PF_HANDLE_FACTOR, PF_LINEAR, PF_W, PF_WEEKS,
    PI_IDLE_HEAD, PI_IDLE_TAIL, PI_LEV_HI, PI_LEV_LO, PI_W, QC_ANSWERED, QC_N,
    QC_OFFERED, QC_WITHIN, QF_AREA, QF_HEAD_START, QF_LAST, QF_W, QF_WITHIN, QI_HEAD,
    QI_HSCALE, QI_IMM_HI, QI_IMM_LO, QI_NWAIT, QI_OV_HI, QI_OV_LO, QI_PSCALE, QI_SMP,
    QI_TAIL, QI_W, QW_ALL, QW_ANSWERED, SERVING, SM_ESC, SM_HANDLE, SM_PATIENCE,
    SM_REPEAT, SM_RES, SM_WRAP, TALK, TRANSFER, T_AF, T_AI, T_ANSF, T_ANSI, T_CF,
    T_CFREE, T_CI, T_HS, T_LENTA, T_LENTQ, T_LEV, T_OV, T_PC, T_PF, T_PI, T_PS, T_QC,
    T_QF, T_QI, T_QW, T_RT, WAITING, WEEK,
)


@subroutine(f"i8({PARGS}, i8, i8, i8, f8, i8)")
def new_contact(I, F, DI, DF, q, origin, parent, now, interval):
    """A new contact's draws from its queue's streams for ``origin`` (handle, wrap,
    patience, escalation, resolution, repeat delay), scaled for its interval."""
    qb = I[T_QI] + q * QI_W
    sm = qb + QI_SMP + 6 * origin
    h = draw(I, F, I[sm + SM_HANDLE])
    w = draw(I, F, I[sm + SM_WRAP]) if I[sm + SM_WRAP] >= 0 else 0.0
    p = draw(I, F, I[sm + SM_PATIENCE]) if I[sm + SM_PATIENCE] >= 0 else INF
    ue = draw(I, F, I[sm + SM_ESC]) if I[sm + SM_ESC] >= 0 else 0.0
    ur = draw(I, F, I[sm + SM_RES]) if I[sm + SM_RES] >= 0 else 0.0
    ra = draw(I, F, I[sm + SM_REPEAT]) if I[sm + SM_REPEAT] >= 0 else 0.0
    I[G_NEXTID] += 1
    n = I[G_N]
    if I[qb + QI_HSCALE]:
        scale = F[I[T_HS] + q * n + interval]
        h *= scale
        w *= scale
    if I[qb + QI_PSCALE]:
        p *= F[I[T_PS] + q * n + interval]
    c = take_slot(I, DI, G_CFREE, T_CFREE, G_CTOP)
    cb, fb = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
    DI[cb + CI_ID] = I[G_NEXTID]
    DI[cb + CI_PARENT] = parent
    DI[cb + CI_QUEUE] = q
    DI[cb + CI_ORIGIN] = origin
    DI[cb + CI_INTERVAL] = interval
    DI[cb + CI_STATE] = WAITING
    DI[cb + CI_AGENT] = -1
    DI[cb + CI_HOLDER] = -1
    DI[cb + CI_NEXT] = -1
    DI[cb + CI_REF] = 0
    DI[cb + CI_HAS_ESC] = 1 if I[sm + SM_ESC] >= 0 else 0
    DI[cb + CI_HAS_RES] = 1 if I[sm + SM_RES] >= 0 else 0
    DF[fb + CF_ARRIVAL] = now
    DF[fb + CF_HANDLE] = h
    DF[fb + CF_WRAP] = w
    DF[fb + CF_PATIENCE] = p
    DF[fb + CF_UESC] = ue
    DF[fb + CF_URES] = ur
    DF[fb + CF_REPEAT_AFTER] = ra
    DF[fb + CF_ANSWER] = np.nan
    return c


@subroutine(f"void({PARGS}, i8, i8, f8)")
def answer(I, F, DI, DF, c, a, now):
    """Agent ``a`` takes contact ``c``: the wait is counted, talk starts."""
    cb, fb = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
    DI[cb + CI_STATE] = SERVING
    DF[fb + CF_ANSWER] = now
    DI[cb + CI_AGENT] = a
    wait = now - DF[fb + CF_ARRIVAL]
    q, i, n = DI[cb + CI_QUEUE], DI[cb + CI_INTERVAL], I[G_N]
    I[I[T_QC] + (q * QC_N + QC_ANSWERED) * n + i] += 1
    F[I[T_QW] + (q * 2 + QW_ANSWERED) * n + i] += wait
    F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += wait
    k = I[G_NANS]
    DI[I[T_ANSI] + k] = q * n + i
    DF[I[T_ANSF] + k] = wait
    I[G_NANS] = k + 1
    if wait <= F[I[T_QF] + q * QF_W + QF_WITHIN]:
        I[I[T_QC] + (q * QC_N + QC_WITHIN) * n + i] += 1
    p = I[I[T_AI] + a * AI_W + AI_POOL]
    idle_out(I, a)
    j = int(now // F[GF_L])
    if j < n:
        I[I[T_PC] + (p * 2 + PC_HANDLED) * n + j] += 1
        o = DI[cb + CI_ORIGIN]
        if o == TRANSFER or o == CONSULT:
            I[I[T_PC] + (p * 2 + PC_ESC_TAKEN) * n + j] += 1
    pf = I[T_PF] + p * PF_W
    factor = F[pf + PF_HANDLE_FACTOR]
    hired = F[I[T_AF] + a * AF_W + AF_HIRED]
    if hired >= 0.0:  # a learning agent: Workforce.speed (workforce.aht_factor)
        weeks = max(0.0, now - hired) / WEEK
        if F[pf + PF_LINEAR] > 0.0:
            left = max(0.0, 1.0 - weeks / F[pf + PF_WEEKS])
        else:  # exponential: 95 % of the gap closed after the weeks to proficiency
            left = math.exp(-3.0 * weeks / F[pf + PF_WEEKS])
        factor = factor * (1.0 + F[pf + PF_GAP] * left)
    if factor != 1.0:  # the site's and the agent's speed scale this customer's times
        DF[fb + CF_HANDLE] *= factor
        DF[fb + CF_WRAP] *= factor
    set_state(I, F, DI, DF, a, TALK, now)
    I[I[T_AI] + a * AI_W + AI_CONTACT] = c
    DI[cb + CI_REF] += 1
    push(I, F, DI, DF, now + DF[fb + CF_HANDLE], E_END_TALK, a, 0, 0, 0.0)


@subroutine(f"void({PARGS}, i8, f8)")
def next_work(I, F, DI, DF, a, now):
    """A free agent takes the highest-priority skill level with contacts waiting, in it
    the longest-waiting contact (a queue's head start counted as wait); otherwise it
    becomes idle (last in idle-since order)."""
    ab = I[T_AI] + a * AI_W
    pb = I[T_PI] + I[ab + AI_POOL] * PI_W
    ci, cf = I[T_CI], I[T_CF]
    for lv in range(I[pb + PI_LEV_LO], I[pb + PI_LEV_HI]):
        best, best_q, best_key = -1, -1, 0.0
        for e in range(I[I[T_LEV] + 2 * lv], I[I[T_LEV] + 2 * lv + 1]):
            q = I[I[T_LENTQ] + e]
            after = F[I[T_LENTA] + e]
            qb = I[T_QI] + q * QI_W
            h = I[qb + QI_HEAD]
            while h >= 0 and DI[ci + h * CI_W + CI_STATE] != WAITING:  # stale: drop it
                nxt = DI[ci + h * CI_W + CI_NEXT]
                I[qb + QI_HEAD] = nxt
                if nxt < 0:
                    I[qb + QI_TAIL] = -1
                drop(I, F, DI, DF, h)
                h = nxt
            if h >= 0:
                arrival = DF[cf + h * CF_W + CF_ARRIVAL]
                if after > 0 and now - arrival < after - 1e-9:
                    continue
                # head start: the queue's contacts count as having arrived earlier
                key = arrival - F[I[T_QF] + q * QF_W + QF_HEAD_START]
                if best < 0 or key < best_key:
                    best, best_q, best_key = h, q, key
        if best >= 0:
            qb = I[T_QI] + best_q * QI_W
            nxt = DI[ci + best * CI_W + CI_NEXT]  # the head leaves the line
            I[qb + QI_HEAD] = nxt
            if nxt < 0:
                I[qb + QI_TAIL] = -1
            DI[ci + best * CI_W + CI_REF] -= 1  # the agent's reference replaces the line's
            qf = I[T_QF] + best_q * QF_W
            F[qf + QF_AREA] += I[qb + QI_NWAIT] * (now - F[qf + QF_LAST])
            F[qf + QF_LAST] = now
            I[qb + QI_NWAIT] -= 1
            answer(I, F, DI, DF, best, a, now)
            return
    set_state(I, F, DI, DF, a, IDLE, now)
    if not I[ab + AI_IN_IDLE]:  # (a dict keeps a key's first place)
        tail = I[pb + PI_IDLE_TAIL]
        I[ab + AI_PREV] = tail
        I[ab + AI_NEXT] = -1
        if tail >= 0:
            I[I[T_AI] + tail * AI_W + AI_NEXT] = a
        else:
            I[pb + PI_IDLE_HEAD] = a
        I[pb + PI_IDLE_TAIL] = a
        I[ab + AI_IN_IDLE] = 1


@subroutine("i8(CPointer(int64), CPointer(float64), i8, i8)")
def longest_idle(I, F, lo, hi):
    """The agent idle longest among the pools RT[lo:hi] (first pool on a tie), or -1."""
    best = -1
    for k in range(lo, hi):
        a = I[I[T_PI] + I[I[T_RT] + k] * PI_W + PI_IDLE_HEAD]
        if a >= 0 and (best < 0 or F[I[T_AF] + a * AF_W + AF_SINCE]
                       < F[I[T_AF] + best * AF_W + AF_SINCE]):
            best = a
    return best


@subroutine(f"void({PARGS}, i8, f8)")
def offer(I, F, DI, DF, c, now):
    """A contact reaches its queue: the longest-idle agent of a pool answering at once,
    or it waits (abandonment at its patience, overflow timers that can still matter)."""
    cb = I[T_CI] + c * CI_W
    q = DI[cb + CI_QUEUE]
    qb = I[T_QI] + q * QI_W
    I[I[T_QC] + (q * QC_N + QC_OFFERED) * I[G_N] + DI[cb + CI_INTERVAL]] += 1
    a = longest_idle(I, F, I[qb + QI_IMM_LO], I[qb + QI_IMM_HI])
    if a >= 0:
        answer(I, F, DI, DF, c, a, now)
        return
    qf = I[T_QF] + q * QF_W
    F[qf + QF_AREA] += I[qb + QI_NWAIT] * (now - F[qf + QF_LAST])
    F[qf + QF_LAST] = now
    I[qb + QI_NWAIT] += 1
    tail = I[qb + QI_TAIL]
    if tail >= 0:
        DI[I[T_CI] + tail * CI_W + CI_NEXT] = c
    else:
        I[qb + QI_HEAD] = c
    I[qb + QI_TAIL] = c
    DI[cb + CI_REF] += 1
    patience = DF[I[T_CF] + c * CF_W + CF_PATIENCE]
    if patience < INF:
        push(I, F, DI, DF, now + patience, E_ABANDON, c, 0, 0, 0.0)
        DI[cb + CI_REF] += 1
    for k in range(I[qb + QI_OV_LO], I[qb + QI_OV_HI]):
        after = F[I[T_OV] + k]
        if after < patience:
            push(I, F, DI, DF, now + after, E_OVERFLOW, c, k, 0, 0.0)
            DI[cb + CI_REF] += 1
