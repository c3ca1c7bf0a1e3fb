"""Kernel leaves (numba): pre-drawn streams, the event heap, agent time, contact
records, and the small steps several procedures share.

Every function mirrors a step of the SimPy engine (``bposim.engine``) with the same
float operations in the same order. Arguments ``I, F, DI, DF`` are the data of the four
arrays of :mod:`bposim.engine.fast.layout`, as raw pointers (``k_compile``): no index
is ever negative (each "none" of -1 is tested before it is used) and none is checked
against the array's end (the Python side sizes the arrays; ``_short`` in ``kernel.py``
stops the run before a growing table fills). Locals such as ``ab`` (agent row) or
``cb`` (contact row) are where a row of a table starts.
"""

from __future__ import annotations

import numpy as np

from bposim.engine.fast.k_compile import subroutine

from bposim.engine.fast.layout import (
    ABANDONED, AF_SINCE, AF_W, AI_IN_IDLE, AI_NEXT, AI_POOL, AI_PREV, AI_STATE, AI_W, PARGS,
    CF_ANSWER, CF_ARRIVAL, CF_HANDLE, CF_W, CF_WRAP, CI_AGENT, CI_ID, CI_ORIGIN, CI_PARENT,
    CI_QUEUE, CI_REF, CI_STATE, CI_W, DONE, EF_F, EF_TIME, EF_W, EI_A, EI_B, EI_C, EI_KIND,
    EI_SEQ, EI_W, GF_L, G_CFREE, G_EFREE, G_ETOP, G_HEAPN, G_KEEPS, G_LOW, G_LOWMARK, G_N,
    G_NREC, G_NST, G_NSTATES, G_SEQ, G_STATUS, OFF, PI_IDLE_HEAD, PI_IDLE_TAIL, PI_W,
    RF_ANSWER, RF_ARRIVAL, RF_END, RF_HANDLE, RF_W, RF_WRAP, RI_AGENT, RI_ID, RI_ORIGIN,
    RI_OUTCOME, RI_PARENT, RI_QUEUE, RI_W, SD_LEN, SD_OFF, SD_OPEN, SD_POS, SD_W, STF_W,
    STI_W, T_AF, T_AI, T_CF, T_CFREE, T_CI, T_DR, T_EF, T_EFREE, T_EI, T_HEAP, T_PI, T_PT,
    T_RECF, T_RECI, T_SD, T_STF, T_STI,
)

INF = np.inf


@subroutine("f8(CPointer(int64), CPointer(float64), i8)")
def draw(I, F, k):
    """The next value of stream ``k`` (a BufferedSampler call, or a queue's next arrival
    time). A stream running low is flagged (Python refills its window between events);
    one used up inside an event is flagged too (the run starts again) and gives 0."""
    sb = I[T_SD] + k * SD_W
    pos = I[sb + SD_POS]
    size = I[sb + SD_LEN]
    if pos >= size:
        if I[G_STATUS] < 0:
            I[G_STATUS] = k
        return 0.0
    I[sb + SD_POS] = pos + 1
    if I[sb + SD_OPEN] and size - pos <= I[G_LOWMARK] and I[G_LOW] < 0:
        I[G_LOW] = k
    return F[I[T_DR] + I[sb + SD_OFF] + pos]


@subroutine("i8(CPointer(int64), CPointer(int64), i8, i8, i8)")
def take_slot(I, DI, g_free, t_free, g_top):
    """A slot of a recycled table (contacts or events): the last one freed (free list
    of I[g_free] slots at table I[t_free]), else a new one at the top I[g_top]."""
    n = I[g_free]
    if n > 0:
        I[g_free] = n - 1
        return DI[I[t_free] + n - 1]
    slot = I[g_top]
    I[g_top] = slot + 1
    return slot


@subroutine(f"void({PARGS}, f8, i8, i8, i8, i8, f8)")
def push(I, F, DI, DF, t, kind, a, b, c, f):
    """Schedule an event at ``t`` (the caller computes ``now + delay`` as SimPy does)."""
    slot = take_slot(I, DI, G_EFREE, T_EFREE, G_ETOP)
    seq = I[G_SEQ]
    I[G_SEQ] = seq + 1
    ei, ef = I[T_EI], I[T_EF]
    eb, fb = ei + slot * EI_W, ef + slot * EF_W
    DF[fb + EF_TIME] = t
    DF[fb + EF_F] = f
    DI[eb + EI_SEQ] = seq
    DI[eb + EI_KIND] = kind
    DI[eb + EI_A] = a
    DI[eb + EI_B] = b
    DI[eb + EI_C] = c
    h = I[T_HEAP]
    i = I[G_HEAPN]
    I[G_HEAPN] = i + 1
    while i > 0:
        up = (i - 1) >> 1
        s = DI[h + up]
        ts = DF[ef + s * EF_W]
        if ts < t or (ts == t and DI[ei + s * EI_W] < seq):
            break
        DI[h + i] = s
        i = up
    DI[h + i] = slot


@subroutine("void(CPointer(float64), i8, f8, f8, f8, i8)")
def add_time(acc, base, start, end, length, n):
    """roster.add_time on ``acc[base:base + n]``: add [start, end), split at boundaries."""
    i = int(start // length)
    while start < end and i < n:
        boundary = (i + 1) * length
        stop = end if end < boundary else boundary
        acc[base + i] += stop - start
        start = stop
        i += 1


@subroutine(f"void({PARGS}, i8, i8, f8)")
def set_state(I, F, DI, DF, a, state, now):
    """DutyMixin._set_state: account the time in the old state, enter the new one."""
    ab, fb = I[T_AI] + a * AI_W, I[T_AF] + a * AF_W
    old = I[ab + AI_STATE]
    since = F[fb + AF_SINCE]
    if old != OFF and now > since:
        n = I[G_N]
        add_time(F, I[T_PT] + (I[ab + AI_POOL] * I[G_NSTATES] + old) * n, since, now, F[GF_L], n)
        if I[G_KEEPS]:
            k = I[G_NST]
            DI[I[T_STI] + k * STI_W] = a
            DI[I[T_STI] + k * STI_W + 1] = old
            DF[I[T_STF] + k * STF_W] = since
            DF[I[T_STF] + k * STF_W + 1] = now
            I[G_NST] = k + 1
    I[ab + AI_STATE] = state
    F[fb + AF_SINCE] = now


@subroutine(f"void({PARGS}, i8, f8, i8)")
def record(I, F, DI, DF, c, end, outcome):
    """Engine._record: one row of the contact log (values as they are now)."""
    k = I[G_NREC]
    I[G_NREC] = k + 1
    cb, fb = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
    rb, sb = I[T_RECI] + k * RI_W, I[T_RECF] + k * RF_W
    DI[rb + RI_ID] = DI[cb + CI_ID]
    DI[rb + RI_PARENT] = DI[cb + CI_PARENT]
    DI[rb + RI_QUEUE] = DI[cb + CI_QUEUE]
    DI[rb + RI_ORIGIN] = DI[cb + CI_ORIGIN]
    DI[rb + RI_OUTCOME] = outcome
    DI[rb + RI_AGENT] = DI[cb + CI_AGENT]
    DF[sb + RF_ARRIVAL] = DF[fb + CF_ARRIVAL]
    DF[sb + RF_ANSWER] = DF[fb + CF_ANSWER]
    DF[sb + RF_END] = end
    DF[sb + RF_HANDLE] = DF[fb + CF_HANDLE]
    DF[sb + RF_WRAP] = DF[fb + CF_WRAP]


@subroutine(f"void({PARGS}, i8)")
def drop(I, F, DI, DF, c):
    """Drop one reference to contact slot ``c``; a finished one nobody refers to is freed."""
    cb = I[T_CI] + c * CI_W
    r = DI[cb + CI_REF] - 1
    DI[cb + CI_REF] = r
    if r == 0 and (DI[cb + CI_STATE] == DONE or DI[cb + CI_STATE] == ABANDONED):
        DI[I[T_CFREE] + I[G_CFREE]] = c
        I[G_CFREE] += 1


@subroutine("void(CPointer(int64), i8)")
def idle_out(I, a):
    """Take agent ``a`` out of its pool's idle list (if there)."""
    ab = I[T_AI] + a * AI_W
    if not I[ab + AI_IN_IDLE]:
        return
    pb = I[T_PI] + I[ab + AI_POOL] * PI_W
    prev, nxt = I[ab + AI_PREV], I[ab + AI_NEXT]
    if prev >= 0:
        I[I[T_AI] + prev * AI_W + AI_NEXT] = nxt
    else:
        I[pb + PI_IDLE_HEAD] = nxt
    if nxt >= 0:
        I[I[T_AI] + nxt * AI_W + AI_PREV] = prev
    else:
        I[pb + PI_IDLE_TAIL] = prev
    I[ab + AI_IN_IDLE] = 0
