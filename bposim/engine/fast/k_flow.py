"""Kernel: a contact's way through the centre (numba), as ``bposim.engine.core``:
arrival, offer, abandonment, overflow, end of talk with escalation (transfer or
consult) or an unresolved contact's repeat, wrap and the agent's release."""

from __future__ import annotations

from numba import njit

from bposim.engine.fast.k_base import (
    INF, answer, draw, line_append, longest_idle, new_contact, push, queue_len, record,
    release, set_state,
)
from bposim.engine.fast.k_duty import available, leave_after_contact
from bposim.engine.fast.layout import (
    ABANDONED, AI_CONTACT, AI_LEAVING, AI_POOL, AI_W, ARGS, CF_HANDLE, CF_PATIENCE,
    CF_REPEAT_AFTER, CF_UESC, CF_URES, CF_W, CF_WRAP, CI_HAS_ESC, CI_HAS_RES, CI_HOLDER,
    CI_ID, CI_INTERVAL, CI_ORIGIN, CI_QUEUE, CI_REF, CI_STATE, CI_W, CONSULT, DONE,
    E_ABANDON, E_ARRIVE, E_FREE, E_OVERFLOW, E_REPEAT, EXTERNAL, G_KEEPC, G_N, GF_END, GF_L,
    HOLD, PF_ESC_FACTOR, PF_FCR, PF_W, QC_ABANDONED, QC_ESCALATED, QC_OFFERED, QC_REPEATS,
    QC_SHORT, QC_UNRESOLVED, QF_SHORT, QF_W, QI_ARR_HI, QI_ARR_POS, QI_ESC_HI, QI_ESC_LO,
    QI_IMM_HI, QI_IMM_LO, QI_OV_HI, QI_OV_LO, QI_W, QW_ALL, R_ABANDONED, R_ANSWERED,
    REPEAT, T_AI, T_ARR, T_CF, T_CI, T_ESC, T_ESCP, T_OV, T_OVR, T_PF, T_QC, T_QF, T_QI,
    T_QW, TRANSFER, WAITING, WRAP,
)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def offer(I, F, DI, DF, c, now):
    """Engine._offer: the longest-idle agent of a pool answering at once, or wait."""
    cb = I[T_CI] + c * CI_W
    q = DI[cb + CI_QUEUE]
    qb = I[T_QI] + q * QI_W
    I[I[T_QC] + (q * 9 + QC_OFFERED) * I[G_N] + DI[cb + CI_INTERVAL]] += 1
    a = longest_idle(I, F, I[qb + QI_IMM_LO], I[qb + QI_IMM_HI])
    if a >= 0:
        answer(I, F, DI, DF, c, a, now)
        return
    queue_len(I, F, q, 1, now)
    line_append(I, F, DI, DF, q, c)
    patience = DF[I[T_CF] + c * CF_W + CF_PATIENCE]
    if patience < INF:
        push(I, F, DI, DF, now + patience, E_ABANDON, c, 0, 0, 0.0)
        DI[cb + CI_REF] += 1
    for k in range(I[qb + QI_OV_LO], I[qb + QI_OV_HI]):
        after = F[I[T_OV] + k]
        if after < patience:
            push(I, F, DI, DF, now + after, E_OVERFLOW, c, k, 0, 0.0)
            DI[cb + CI_REF] += 1


@njit(f"void({ARGS}, i8, f8)", cache=True)
def arrive(I, F, DI, DF, q, now):
    """An external arrival, then the queue's next arrival is scheduled."""
    n = I[G_N]
    i = int(now // F[GF_L])
    c = new_contact(I, F, DI, DF, q, EXTERNAL, -1, now, i if i < n - 1 else n - 1)
    offer(I, F, DI, DF, c, now)
    qb = I[T_QI] + q * QI_W
    pos = I[qb + QI_ARR_POS]
    if pos < I[qb + QI_ARR_HI]:
        I[qb + QI_ARR_POS] = pos + 1
        push(I, F, DI, DF, now + (F[I[T_ARR] + pos] - now), E_ARRIVE, q, 0, 0, 0.0)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def free(I, F, DI, DF, a, now):
    """Engine._free: the agent lets go of the contact; leaves or looks for work."""
    ab = I[T_AI] + a * AI_W
    c = I[ab + AI_CONTACT]
    I[ab + AI_CONTACT] = -1
    release(I, F, DI, DF, c)
    if I[ab + AI_LEAVING]:
        leave_after_contact(I, F, DI, DF, a, now)
    else:
        available(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def finish(I, F, DI, DF, a, now):
    """Engine._finish: talk (and any consult) is over: record, then wrap or free."""
    c = I[I[T_AI] + a * AI_W + AI_CONTACT]
    if I[G_KEEPC]:
        record(I, F, DI, DF, c, now, R_ANSWERED)
    DI[I[T_CI] + c * CI_W + CI_STATE] = DONE
    wrap = DF[I[T_CF] + c * CF_W + CF_WRAP]
    if wrap > 0:
        set_state(I, F, DI, DF, a, WRAP, now)
        push(I, F, DI, DF, now + wrap, E_FREE, a, 0, 0, 0.0)
    else:
        free(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def abandon(I, F, DI, DF, c, now):
    """Engine._abandon (a deadline of a contact no longer waiting does nothing)."""
    cb = I[T_CI] + c * CI_W
    if DI[cb + CI_STATE] != WAITING:
        return
    q, i, n = DI[cb + CI_QUEUE], DI[cb + CI_INTERVAL], I[G_N]
    DI[cb + CI_STATE] = ABANDONED
    queue_len(I, F, q, -1, now)
    I[I[T_QC] + (q * 9 + QC_ABANDONED) * n + i] += 1
    patience = DF[I[T_CF] + c * CF_W + CF_PATIENCE]
    if patience <= F[I[T_QF] + q * QF_W + QF_SHORT]:
        I[I[T_QC] + (q * 9 + QC_SHORT) * n + i] += 1
    F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += patience
    if I[G_KEEPC]:
        record(I, F, DI, DF, c, now, R_ABANDONED)
    holder = DI[cb + CI_HOLDER]
    if holder >= 0:  # no expert came in time: the first agent carries on alone
        finish(I, F, DI, DF, holder, now)


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def overflow(I, F, DI, DF, c, k, now):
    """Engine._overflow: after a wait, more pools may answer."""
    cb = I[T_CI] + c * CI_W
    if DI[cb + CI_STATE] != WAITING:
        return
    a = longest_idle(I, F, I[I[T_OVR] + 2 * k], I[I[T_OVR] + 2 * k + 1])
    if a >= 0:
        queue_len(I, F, DI[cb + CI_QUEUE], -1, now)
        answer(I, F, DI, DF, c, a, now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def unresolved(I, F, DI, DF, c, now):
    """Engine._unresolved: the customer calls back after a delay (within the horizon)."""
    cb = I[T_CI] + c * CI_W
    q = DI[cb + CI_QUEUE]
    I[I[T_QC] + (q * 9 + QC_UNRESOLVED) * I[G_N] + DI[cb + CI_INTERVAL]] += 1
    delay = DF[I[T_CF] + c * CF_W + CF_REPEAT_AFTER]
    back = now + delay
    if back >= F[GF_END]:
        return
    push(I, F, DI, DF, now + delay, E_REPEAT, q, DI[cb + CI_ID], 0, 0.0)


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def repeat(I, F, DI, DF, q, parent, now):
    """The repeat of an unresolved contact reaches its queue."""
    child = new_contact(I, F, DI, DF, q, REPEAT, parent, now, int(now // F[GF_L]))
    i = DI[I[T_CI] + child * CI_W + CI_INTERVAL]
    I[I[T_QC] + (q * 9 + QC_REPEATS) * I[G_N] + i] += 1
    offer(I, F, DI, DF, child, now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def end_talk(I, F, DI, DF, a, now):
    """Engine._end_talk: escalate (transfer or consult), leave unresolved, or finish."""
    c = I[I[T_AI] + a * AI_W + AI_CONTACT]
    cb, fb = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
    q = DI[cb + CI_QUEUE]
    qb = I[T_QI] + q * QI_W
    pf = I[T_PF] + I[I[T_AI] + a * AI_W + AI_POOL] * PF_W
    origin = DI[cb + CI_ORIGIN]
    route = -1
    if DI[cb + CI_HAS_ESC] and origin != CONSULT:
        factor = F[pf + PF_ESC_FACTOR]
        acc = 0.0
        u = DF[fb + CF_UESC]
        for r in range(I[qb + QI_ESC_LO], I[qb + QI_ESC_HI]):
            acc += F[I[T_ESCP] + r] * factor
            if u < acc:
                route = r
                break
    if route >= 0:
        n = I[G_N]
        I[I[T_QC] + (q * 9 + QC_ESCALATED) * n + DI[cb + CI_INTERVAL]] += 1
        eb = I[T_ESC] + 3 * route
        consult = I[eb + 1]
        i = int(now // F[GF_L])
        child = new_contact(I, F, DI, DF, I[eb], CONSULT if consult else TRANSFER,
                            DI[cb + CI_ID], now, i if i < n - 1 else n - 1)
        if consult:
            if I[eb + 2] >= 0:  # the consult's own time replaces the drawn handle time
                DF[I[T_CF] + child * CF_W + CF_HANDLE] = draw(I, F, I[eb + 2])
            DI[I[T_CI] + child * CI_W + CI_HOLDER] = a
            set_state(I, F, DI, DF, a, HOLD, now)
            offer(I, F, DI, DF, child, now)
            return  # the agent is released when the consult ends
        offer(I, F, DI, DF, child, now)
    elif DI[cb + CI_HAS_RES] and origin != CONSULT and DF[fb + CF_URES] >= F[pf + PF_FCR]:
        unresolved(I, F, DI, DF, c, now)
    holder = DI[cb + CI_HOLDER]
    if holder >= 0:  # a consult ended: the holding agent finishes its contact
        finish(I, F, DI, DF, holder, now)
    finish(I, F, DI, DF, a, now)
