"""Kernel: the event loop and the end of the run (numba).

``run(I, F, DI, DF)`` plays one replication and can be called again where it
stopped: first arrivals and agents' first spans are scheduled in the SimPy engine's
order, then events are taken in (time, insertion) order until the horizon ends (an
event at exactly the end is not run, as ``env.run(until=end)``), then the run is
closed as ``Engine._close`` does. Between two events it returns to Python when a
growing table is nearly full (``ROOM``) or a pre-drawn stream runs low (``LOW``):
Python enlarges the arrays and calls it again, so nothing is drawn twice.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bposim.engine.fast.k_base import pop, push, queue_len, record, release, set_state
from bposim.engine.fast.k_duty import back, due, off_duty, on_duty, schedule_next_span, shrink_due
from bposim.engine.fast.k_flow import abandon, arrive, end_talk, free, overflow, repeat
from bposim.engine.fast.layout import (
    AF_SPAN_END, AF_W, AI_CONTACT, AI_LEAVING, AI_POOL, AI_W, ARGS, BROKEN, CF_ARRIVAL, CF_W,
    CI_INTERVAL, CI_NEXT, CI_STATE, CI_W, DONE_, E_ABANDON, E_ARRIVE, E_BACK, E_DUE,
    E_END_TALK, E_FREE, E_OFF_DUTY, E_ON_DUTY, E_OVERFLOW, E_REPEAT, E_SHRINK_DUE, EF_F,
    EF_TIME, EF_W, EI_A, EI_B, EI_C, EI_KIND, EI_W, G_ACAP, G_CCAP, G_CTOP, G_ECAP, G_ERROR,
    G_ETOP, G_EVENTS, G_HEAPN, G_KEEPC, G_LOW, G_MARGIN, G_N, G_NA, G_NANS, G_NEED, G_NQ,
    G_NREC, G_NST, G_PHASE, G_RCAP, G_SCAP, G_STATUS, GF_END, LOW, OFF, OUT, PF_OVERRUN,
    PF_W, PHASE_DONE, PHASE_LOOP, PHASE_START, QC_UNANSWERED, QI_ARR_HI, QI_ARR_POS,
    QI_HEAD, QI_W, QW_ALL, R_ANSWERED, R_UNANSWERED, ROOM, SERVING, T_AF, T_AI, T_ARR,
    T_CF, T_CI, T_EF, T_EI, T_HEAP, T_PF, T_QC, T_QI, T_QW, WAITING,
)


@njit("b1(i8[::1], i8)", cache=True)
def _short(I, extra):
    """True if a growing table lacks room for ``extra`` more rows (noted in G_NEED)."""
    if (I[G_CTOP] + extra > I[G_CCAP] or I[G_ETOP] + extra > I[G_ECAP]
            or I[G_NANS] + extra > I[G_ACAP] or I[G_NREC] + extra > I[G_RCAP]
            or I[G_NST] + extra > I[G_SCAP]):
        I[G_NEED] = extra
        return True
    return False


@njit(f"void({ARGS}, f8)", cache=True)
def _close(I, F, DI, DF, end):
    """Engine._close: agents' time flushed (overruns, spans worked through), contacts
    in service or still waiting recorded and counted."""
    for a in range(I[G_NA]):
        ab = I[T_AI] + a * AI_W
        if I[ab + AI_LEAVING]:
            F[I[T_PF] + I[ab + AI_POOL] * PF_W + PF_OVERRUN] += end - F[I[T_AF] + a * AF_W + AF_SPAN_END]
            I[ab + AI_LEAVING] = 0
            schedule_next_span(I, F, DI, DF, a, end)
        c = I[ab + AI_CONTACT]
        if I[G_KEEPC] and c >= 0 and DI[I[T_CI] + c * CI_W + CI_STATE] == SERVING:
            record(I, F, DI, DF, c, np.nan, R_ANSWERED)
        set_state(I, F, DI, DF, a, OFF, end)
    n = I[G_N]
    for q in range(I[G_NQ]):
        queue_len(I, F, q, 0, end)
        c = I[I[T_QI] + q * QI_W + QI_HEAD]
        while c >= 0:
            cb = I[T_CI] + c * CI_W
            if DI[cb + CI_STATE] == WAITING:
                i = DI[cb + CI_INTERVAL]
                I[I[T_QC] + (q * 9 + QC_UNANSWERED) * n + i] += 1
                F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += end - DF[I[T_CF] + c * CF_W + CF_ARRIVAL]
                if I[G_KEEPC]:
                    record(I, F, DI, DF, c, end, R_UNANSWERED)
            c = DI[cb + CI_NEXT]


@njit(f"i8({ARGS})", cache=True)
def run(I, F, DI, DF):
    """Play the replication from where it stopped; returns DONE_, ROOM, LOW, OUT or BROKEN."""
    end = F[GF_END]
    margin = I[G_MARGIN]
    if I[G_PHASE] == PHASE_START:
        if _short(I, margin + I[G_NQ] + I[G_NA]):
            return ROOM
        for q in range(I[G_NQ]):
            qb = I[T_QI] + q * QI_W
            pos = I[qb + QI_ARR_POS]
            if pos < I[qb + QI_ARR_HI]:
                I[qb + QI_ARR_POS] = pos + 1
                push(I, F, DI, DF, 0.0 + F[I[T_ARR] + pos], E_ARRIVE, q, 0, 0, 0.0)
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
        top = DI[I[T_HEAP]]
        eb, fb = I[T_EI] + top * EI_W, I[T_EF] + top * EF_W
        now = DF[fb + EF_TIME]
        if now >= end:
            break
        pop(I, F, DI, DF)
        kind, x, y, z = DI[eb + EI_KIND], DI[eb + EI_A], DI[eb + EI_B], DI[eb + EI_C]
        f = DF[fb + EF_F]
        I[G_EVENTS] += 1
        if kind == E_ARRIVE:
            arrive(I, F, DI, DF, x, now)
        elif kind == E_ABANDON:
            abandon(I, F, DI, DF, x, now)
            release(I, F, DI, DF, x)
        elif kind == E_OVERFLOW:
            overflow(I, F, DI, DF, x, y, now)
            release(I, F, DI, DF, x)
        elif kind == E_END_TALK:
            end_talk(I, F, DI, DF, x, now)
        elif kind == E_FREE:
            free(I, F, DI, DF, x, now)
        elif kind == E_REPEAT:
            repeat(I, F, DI, DF, x, y, now)
        elif kind == E_ON_DUTY:
            on_duty(I, F, DI, DF, x, y, now)
        elif kind == E_OFF_DUTY:
            off_duty(I, F, DI, DF, x, y, now)
        elif kind == E_DUE:
            due(I, F, DI, DF, x, y, z, f, now)
        elif kind == E_SHRINK_DUE:
            shrink_due(I, F, DI, DF, x, y, now)
        elif kind == E_BACK:
            back(I, F, DI, DF, x, y, z, now)
        if I[G_STATUS] >= 0:
            return OUT
        if I[G_ERROR]:
            return BROKEN
    if _short(I, margin + I[G_NA] + I[G_CTOP]):
        return ROOM
    _close(I, F, DI, DF, end)
    I[G_PHASE] = PHASE_DONE
    if I[G_STATUS] >= 0:
        return OUT
    return DONE_
