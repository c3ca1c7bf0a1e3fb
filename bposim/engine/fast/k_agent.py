"""Kernel: agents' working day (numba), as ``bposim.engine``'s workforce does it: duty
spans and absence, breaks under the pool's cap (retried), shrinkage periods, and an
agent finishing a contact (wrap, leaving after the end of duty, or what comes next)."""

from __future__ import annotations

from bposim.engine.fast.k_base import add_time, draw, drop, idle_out, push, record, set_state
from bposim.engine.fast.k_compile import subroutine
from bposim.engine.fast.k_contact import next_work
from bposim.engine.fast.layout import (
    AF_SPAN_END, AF_W, AI_CONTACT, AI_EPOCH, AI_LEAVING, AI_PEND_HEAD, AI_PEND_N, AI_POOL,
    AI_SPAN_HI, AI_SPAN_I, AI_STATE, AI_W, PARGS, BREAK, BREAK_RETRY, CF_W, CF_WRAP,
    CI_STATE, CI_W, DONE, E_BACK, E_DUE, E_FREE, E_ON_DUTY, GF_L, G_ERROR, G_K, G_KEEPC,
    G_N, IDLE, OFF, PF_ABSENTEEISM, PF_MAX_ON_BREAK, PF_MAX_SHARE, PF_OVERRUN, PF_W,
    PI_ON_BREAK, PI_ON_DUTY, PI_PLANNED, PI_S_ABSENCE, PI_TAKEN, PI_W, PP_ABSENT, PP_PAID,
    R_ANSWERED, T_AF, T_AI, T_CF, T_CI, T_PF, T_PI, T_PK, T_PKS, T_PP, T_SB, T_SP, WRAP,
)


@subroutine(f"void({PARGS}, i8, f8)")
def schedule_next_span(I, F, DI, DF, a, now):
    """The timer of the agent's next span, days absent skipped. A span the agent worked
    into while finishing a contact is paid as scheduled (taken off the overrun)."""
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


@subroutine(f"b1({PARGS}, i8, i8, f8, f8)")
def go_away(I, F, DI, DF, a, kind, seconds, now):
    """Start a break (if the pool's cap allows; else retry later) or a shrinkage period."""
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


@subroutine(f"void({PARGS}, i8, i8, i8, f8, f8)")
def due(I, F, DI, DF, a, epoch, kind, seconds, now):
    """A break or shrinkage period is due: now if idle, else after the contact in hand
    (a timer of an earlier duty span does nothing)."""
    ab = I[T_AI] + a * AI_W
    if epoch != I[ab + AI_EPOCH]:
        return
    state = I[ab + AI_STATE]
    if state == IDLE:
        if go_away(I, F, DI, DF, a, kind, seconds, now):
            idle_out(I, a)
    elif state != OFF:
        k, cap = I[ab + AI_PEND_N], I[G_K]
        if k >= cap:
            I[G_ERROR] = 1
            return
        j = a * cap + (I[ab + AI_PEND_HEAD] + k) % cap
        I[I[T_PK] + j] = kind
        F[I[T_PKS] + j] = seconds
        I[ab + AI_PEND_N] = k + 1


@subroutine(f"void({PARGS}, i8, f8)")
def available(I, F, DI, DF, a, now):
    """The agent is free: a pending break or shrinkage period first, else work."""
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


@subroutine(f"void({PARGS}, i8, f8)")
def free(I, F, DI, DF, a, now):
    """The agent lets go of its contact; leaves if its duty is over, else is available."""
    ab = I[T_AI] + a * AI_W
    c = I[ab + AI_CONTACT]
    I[ab + AI_CONTACT] = -1
    drop(I, F, DI, DF, c)
    if I[ab + AI_LEAVING]:  # worked past the end of duty: the overrun is counted
        I[ab + AI_LEAVING] = 0
        F[I[T_PF] + I[ab + AI_POOL] * PF_W + PF_OVERRUN] += now - F[I[T_AF] + a * AF_W + AF_SPAN_END]
        set_state(I, F, DI, DF, a, OFF, now)
        schedule_next_span(I, F, DI, DF, a, now)
    else:
        available(I, F, DI, DF, a, now)


@subroutine(f"void({PARGS}, i8, f8)")
def finish(I, F, DI, DF, a, now):
    """Talk (and any consult) is over: the contact is recorded, then wrap or free."""
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
