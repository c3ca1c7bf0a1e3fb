"""Kernel: agents' working day (numba), as ``bposim.engine.duty``: duty spans and
absence, planned breaks under the pool's cap (retried), shrinkage periods, and what
an agent does when free. Same float operations and draw order as the SimPy engine."""

from __future__ import annotations

from numba import njit

from bposim.engine.fast.k_base import add_time, draw, idle_remove, next_work, push, set_state
from bposim.engine.fast.layout import (
    AF_SPAN_END, AF_W, AI_EPOCH, AI_LEAVING, AI_PEND_HEAD, AI_PEND_N, AI_POOL, AI_SPAN_HI,
    AI_SPAN_I, AI_STATE, AI_W, ARGS, AWAY, BREAK, BREAK_RETRY, DIALING, E_BACK, E_DUE,
    E_OFF_DUTY, E_ON_DUTY, E_SHRINK_DUE, G_ERROR, G_K, G_N, GF_L, HOLD, IDLE, OFF, OUT_TALK,
    OUT_WRAP, PF_ABSENTEEISM, PF_AVAIL_MEAN, PF_AWAY_MEAN, PF_MAX_ON_BREAK, PF_MAX_SHARE,
    PF_OVERRUN, PF_SHRINKAGE, PF_W, PI_ON_BREAK, PI_ON_DUTY, PI_PLANNED, PI_S_ABSENCE,
    PI_S_AVAIL, PI_S_AWAY, PI_S_START, PI_TAKEN, PI_W, PP_ABSENT, PP_PAID, PREVIEW, T_AF,
    T_AI, T_BK, T_PF, T_PI, T_PK, T_PKS, T_PP, T_SB, T_SP, TALK, WRAP,
)


@njit("b1(i8)", cache=True)
def _busy(state):
    return (state == TALK or state == WRAP or state == HOLD or state == PREVIEW
            or state == OUT_TALK or state == OUT_WRAP or state == DIALING)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def schedule_next_span(I, F, DI, DF, a, now):
    """DutyMixin._schedule_next_span: the next span the agent works, absences skipped."""
    ab = I[T_AI] + a * AI_W
    p = I[ab + AI_POOL]
    pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
    L, n = F[GF_L], I[G_N]
    while I[ab + AI_SPAN_I] < I[ab + AI_SPAN_HI]:
        s = I[ab + AI_SPAN_I]
        I[ab + AI_SPAN_I] = s + 1
        start, end = F[I[T_SP] + 2 * s], F[I[T_SP] + 2 * s + 1]
        absent = F[pf + PF_ABSENTEEISM]
        if absent > 0 and draw(I, F, I[pb + PI_S_ABSENCE]) < absent:
            add_time(F, I[T_PP] + (p * 2 + PP_ABSENT) * n, start, end, L, n)
            continue
        add_time(F, I[T_PP] + (p * 2 + PP_PAID) * n, start, end, L, n)
        if start < now:
            F[pf + PF_OVERRUN] -= min(end, now) - start
        if end <= now:
            continue
        I[pb + PI_PLANNED] += I[I[T_SB] + 2 * s + 1] - I[I[T_SB] + 2 * s]
        push(I, F, DI, DF, now + max(start - now, 0.0), E_ON_DUTY, a, s, 0, 0.0)
        return


@njit(f"b1({ARGS}, i8, i8, f8, f8)", cache=True)
def go_away(I, F, DI, DF, a, kind, seconds, now):
    """DutyMixin._go_away: start a break (if the cap allows) or a shrinkage period."""
    ab = I[T_AI] + a * AI_W
    p = I[ab + AI_POOL]
    pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
    if kind == BREAK:
        cap = int(F[pf + PF_MAX_ON_BREAK] * I[pb + PI_ON_DUTY] + 1e-9)
        if cap < 1:
            cap = 1
        if I[pb + PI_ON_BREAK] >= cap:
            push(I, F, DI, DF, now + BREAK_RETRY, E_DUE, a, I[ab + AI_EPOCH], BREAK, seconds)
            return False
        I[pb + PI_ON_BREAK] += 1
        I[pb + PI_TAKEN] += 1
        on = I[pb + PI_ON_DUTY]
        share = I[pb + PI_ON_BREAK] / (on if on > 1 else 1)
        if share > F[pf + PF_MAX_SHARE]:
            F[pf + PF_MAX_SHARE] = share
    set_state(I, F, DI, DF, a, kind, now)
    push(I, F, DI, DF, now + seconds, E_BACK, a, I[ab + AI_EPOCH], kind, 0.0)
    return True


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def on_duty(I, F, DI, DF, a, s, now):
    """DutyMixin._on_duty: a span starts; its breaks and shrinkage are timed."""
    ab = I[T_AI] + a * AI_W
    I[ab + AI_EPOCH] += 1
    epoch = I[ab + AI_EPOCH]
    end = F[I[T_SP] + 2 * s + 1]
    F[I[T_AF] + a * AF_W + AF_SPAN_END] = end
    I[ab + AI_PEND_N] = 0
    p = I[ab + AI_POOL]
    pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
    I[pb + PI_ON_DUTY] += 1
    push(I, F, DI, DF, now + (end - now), E_OFF_DUTY, a, epoch, 0, 0.0)
    for b in range(I[I[T_SB] + 2 * s], I[I[T_SB] + 2 * s + 1]):
        push(I, F, DI, DF, now + max(F[I[T_BK] + 2 * b] - now, 0.0), E_DUE, a, epoch, BREAK,
             F[I[T_BK] + 2 * b + 1])
    shrink = F[pf + PF_SHRINKAGE]
    if shrink > 0:
        if draw(I, F, I[pb + PI_S_START]) < shrink:
            go_away(I, F, DI, DF, a, AWAY, draw(I, F, I[pb + PI_S_AWAY]) * F[pf + PF_AWAY_MEAN], now)
            return
        push(I, F, DI, DF, now + draw(I, F, I[pb + PI_S_AVAIL]) * F[pf + PF_AVAIL_MEAN],
             E_SHRINK_DUE, a, epoch, 0, 0.0)
    next_work(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def off_duty(I, F, DI, DF, a, epoch, now):
    """DutyMixin._off_duty: the span ends (a busy agent first finishes the contact)."""
    ab = I[T_AI] + a * AI_W
    if epoch != I[ab + AI_EPOCH]:
        return
    pb = I[T_PI] + I[ab + AI_POOL] * PI_W
    I[ab + AI_EPOCH] += 1
    I[pb + PI_ON_DUTY] -= 1
    I[ab + AI_PEND_N] = 0
    state = I[ab + AI_STATE]
    if _busy(state):
        I[ab + AI_LEAVING] = 1
        return
    if state == BREAK:
        I[pb + PI_ON_BREAK] -= 1
    idle_remove(I, a)
    set_state(I, F, DI, DF, a, OFF, now)
    schedule_next_span(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def leave_after_contact(I, F, DI, DF, a, now):
    ab = I[T_AI] + a * AI_W
    I[ab + AI_LEAVING] = 0
    F[I[T_PF] + I[ab + AI_POOL] * PF_W + PF_OVERRUN] += now - F[I[T_AF] + a * AF_W + AF_SPAN_END]
    set_state(I, F, DI, DF, a, OFF, now)
    schedule_next_span(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, i8, i8, f8, f8)", cache=True)
def due(I, F, DI, DF, a, epoch, kind, seconds, now):
    """DutyMixin._due: a break or shrinkage period, now if idle, else after the contact."""
    ab = I[T_AI] + a * AI_W
    if epoch != I[ab + AI_EPOCH]:
        return
    state = I[ab + AI_STATE]
    if state == IDLE:
        if go_away(I, F, DI, DF, a, kind, seconds, now):
            idle_remove(I, a)
    elif state != OFF:
        k, cap = I[ab + AI_PEND_N], I[G_K]
        if k >= cap:
            I[G_ERROR] = 1
            return
        j = a * cap + (I[ab + AI_PEND_HEAD] + k) % cap
        I[I[T_PK] + j] = kind
        F[I[T_PKS] + j] = seconds
        I[ab + AI_PEND_N] = k + 1


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def shrink_due(I, F, DI, DF, a, epoch, now):
    """DutyMixin._shrink_due: the away time is drawn before the epoch is checked."""
    p = I[I[T_AI] + a * AI_W + AI_POOL]
    pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
    due(I, F, DI, DF, a, epoch, AWAY, draw(I, F, I[pb + PI_S_AWAY]) * F[pf + PF_AWAY_MEAN], now)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def available(I, F, DI, DF, a, now):
    """DutyMixin._available: a pending break or shrinkage first, else work."""
    ab = I[T_AI] + a * AI_W
    cap = I[G_K]
    while I[ab + AI_PEND_N] > 0:
        j = I[ab + AI_PEND_HEAD]
        kind, seconds = I[I[T_PK] + a * cap + j], F[I[T_PKS] + a * cap + j]
        I[ab + AI_PEND_HEAD] = (j + 1) % cap
        I[ab + AI_PEND_N] -= 1
        if go_away(I, F, DI, DF, a, kind, seconds, now):
            return
    next_work(I, F, DI, DF, a, now)


@njit(f"void({ARGS}, i8, i8, i8, f8)", cache=True)
def back(I, F, DI, DF, a, epoch, kind, now):
    """DutyMixin._back: a break or shrinkage period ends."""
    ab = I[T_AI] + a * AI_W
    if epoch != I[ab + AI_EPOCH]:
        return
    p = I[ab + AI_POOL]
    if kind == BREAK:
        I[I[T_PI] + p * PI_W + PI_ON_BREAK] -= 1
    else:
        pb, pf = I[T_PI] + p * PI_W, I[T_PF] + p * PF_W
        push(I, F, DI, DF, now + draw(I, F, I[pb + PI_S_AVAIL]) * F[pf + PF_AVAIL_MEAN],
             E_SHRINK_DUE, a, epoch, 0, 0.0)
    available(I, F, DI, DF, a, now)
