"""Kernel building blocks (numba): pre-drawn streams, the event heap, agent time,
idle lists, waiting lines, contacts, answering and the choice of next work.

Every function mirrors a step of the SimPy engine (``bposim.engine.core`` and
``duty``) with the same float operations in the same order; docstrings say which.
Arguments ``I, F, DI, DF`` are the four arrays of :mod:`bposim.engine.fast.layout`;
``ab``/``cb``-style locals are where a row of a table starts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bposim.engine.fast.layout import (
    ABANDONED, AF_SINCE, AF_W, AI_CONTACT, AI_IN_IDLE, AI_NEXT, AI_POOL, AI_PREV, AI_STATE,
    AI_W, ANSI_W, ARGS, CF_ANSWER, CF_ARRIVAL, CF_HANDLE, CF_PATIENCE, CF_REPEAT_AFTER,
    CF_UESC, CF_URES, CF_W, CF_WRAP, CI_AGENT, CI_HAS_ESC, CI_HAS_RES, CI_HOLDER, CI_ID,
    CI_INTERVAL, CI_NEXT, CI_ORIGIN, CI_PARENT, CI_QUEUE, CI_REF, CI_STATE, CI_W, CONSULT,
    DONE, E_END_TALK, EF_F, EF_TIME, EF_W, EI_A, EI_B, EI_C, EI_KIND, EI_SEQ, EI_W, G_CFREE,
    G_CTOP, G_EFREE, G_ETOP, G_HEAPN, G_KEEPS, G_N, G_NANS, G_NEXTID, G_NREC, G_NST, G_SEQ,
    G_STATUS, G_LOW, G_LOWMARK, GF_L, IDLE, G_NSTATES, OFF, PC_ESC_TAKEN, PC_HANDLED, PF_HANDLE_FACTOR, PF_W,
    PI_IDLE_HEAD, PI_IDLE_TAIL, PI_LEV_HI, PI_LEV_LO, PI_W, QC_ANSWERED, QC_WITHIN, QF_AREA,
    QF_LAST, QF_W, QF_WITHIN, QI_HEAD, QI_HSCALE, QI_NWAIT, QI_PSCALE, QI_SMP, QI_TAIL,
    QI_W, QW_ALL, QW_ANSWERED, RF_ANSWER, RF_ARRIVAL, RF_END, RF_HANDLE, RF_W, RF_WRAP,
    RI_AGENT, RI_ID, RI_ORIGIN, RI_OUTCOME, RI_PARENT, RI_QUEUE, RI_W, SD_LEN, SD_OFF,
    SD_OPEN, SD_POS, SD_W, SERVING, SM_ESC, SM_HANDLE, SM_PATIENCE, SM_REPEAT, SM_RES, SM_WRAP,
    STF_W, STI_W, T_AF, T_AI, T_ANSF, T_ANSI, T_CF, T_CFREE, T_CI, T_DR, T_EF, T_EFREE,
    T_EI, T_HEAP, T_HS, T_LENTA, T_LENTQ, T_LEV, T_PC, T_PF, T_PI, T_PS, T_PT, T_QC, T_QF,
    T_QI, T_QW, T_RECF, T_RECI, T_RT, T_SD, T_STF, T_STI, TALK, TRANSFER, WAITING,
)

INF = np.inf


@njit("f8(i8[::1], f8[::1], i8)", cache=True)
def draw(I, F, k):
    """The next value of pre-drawn stream ``k`` (a BufferedSampler call). A stream
    running low is flagged (Python draws more between events); one used up inside an
    event is flagged too (Python draws more and starts again) and gives 0."""
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


# -- the event heap: slots ordered by (time, insertion sequence), as SimPy's heap --
@njit(f"void({ARGS}, f8, i8, i8, i8, i8, f8)", cache=True)
def push(I, F, DI, DF, t, kind, a, b, c, f):
    """Schedule an event at ``t`` (the caller computes ``now + delay`` as SimPy does)."""
    n = I[G_EFREE]
    if n > 0:
        slot = DI[I[T_EFREE] + n - 1]
        I[G_EFREE] = n - 1
    else:
        slot = I[G_ETOP]
        I[G_ETOP] = slot + 1
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


@njit(f"i8({ARGS})", cache=True)
def pop(I, F, DI, DF):
    """Take the earliest event off the heap; its slot is freed (read it before the
    next push)."""
    h, ei, ef = I[T_HEAP], I[T_EI], I[T_EF]
    top = DI[h]
    n = I[G_HEAPN] - 1
    I[G_HEAPN] = n
    if n > 0:
        last = DI[h + n]
        tl = DF[ef + last * EF_W]
        sl = DI[ei + last * EI_W]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n:
                a, b = DI[h + child], DI[h + child + 1]
                ta, tb = DF[ef + a * EF_W], DF[ef + b * EF_W]
                if tb < ta or (tb == ta and DI[ei + b * EI_W] < DI[ei + a * EI_W]):
                    child += 1
            s = DI[h + child]
            ts = DF[ef + s * EF_W]
            if tl < ts or (tl == ts and sl < DI[ei + s * EI_W]):
                break
            DI[h + i] = s
            i = child
        DI[h + i] = last
    DI[I[T_EFREE] + I[G_EFREE]] = top
    I[G_EFREE] += 1
    return top


# -- agent time -------------------------------------------------------------------
@njit("void(f8[::1], i8, f8, f8, f8, i8)", cache=True)
def add_time(acc, base, start, end, length, n):
    """roster.add_time on ``acc[base:base + n]``: add [start, end), split at boundaries."""
    i = int(start // length)
    while start < end and i < n:
        boundary = (i + 1) * length
        stop = end if end < boundary else boundary
        acc[base + i] += stop - start
        start = stop
        i += 1


@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
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


# -- idle agents of a pool, in idle-since order (the SimPy engine's dict) --------------
@njit("void(i8[::1], i8)", cache=True)
def idle_add(I, a):
    ab = I[T_AI] + a * AI_W
    if I[ab + AI_IN_IDLE]:
        return  # a dict keeps a key's first place
    pb = I[T_PI] + I[ab + AI_POOL] * PI_W
    tail = I[pb + PI_IDLE_TAIL]
    I[ab + AI_PREV] = tail
    I[ab + AI_NEXT] = -1
    if tail >= 0:
        I[I[T_AI] + tail * AI_W + AI_NEXT] = a
    else:
        I[pb + PI_IDLE_HEAD] = a
    I[pb + PI_IDLE_TAIL] = a
    I[ab + AI_IN_IDLE] = 1


@njit("void(i8[::1], i8)", cache=True)
def idle_remove(I, a):
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


@njit("i8(i8[::1], f8[::1], i8, i8)", cache=True)
def longest_idle(I, F, lo, hi):
    """Engine._longest_idle over the pools RT[lo:hi]: -1 if none is idle."""
    best = -1
    for k in range(lo, hi):
        a = I[I[T_PI] + I[I[T_RT] + k] * PI_W + PI_IDLE_HEAD]
        if a >= 0 and (best < 0 or F[I[T_AF] + a * AF_W + AF_SINCE]
                       < F[I[T_AF] + best * AF_W + AF_SINCE]):
            best = a
    return best


# -- contacts -----------------------------------------------------------------------
@njit(f"void({ARGS}, i8)", cache=True)
def release(I, F, DI, DF, c):
    """Drop one reference to contact slot ``c``; a finished one nobody refers to is freed."""
    cb = I[T_CI] + c * CI_W
    r = DI[cb + CI_REF] - 1
    DI[cb + CI_REF] = r
    if r == 0 and (DI[cb + CI_STATE] == DONE or DI[cb + CI_STATE] == ABANDONED):
        DI[I[T_CFREE] + I[G_CFREE]] = c
        I[G_CFREE] += 1


@njit(f"i8({ARGS}, i8, i8, i8, f8, i8)", cache=True)
def new_contact(I, F, DI, DF, q, origin, parent, now, interval):
    """Engine._new_contact: the contact's draws from its queue's streams for ``origin``."""
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
    k = I[G_CFREE]
    if k > 0:
        c = DI[I[T_CFREE] + k - 1]
        I[G_CFREE] = k - 1
    else:
        c = I[G_CTOP]
        I[G_CTOP] = c + 1
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


@njit(f"void({ARGS}, i8, f8, i8)", cache=True)
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


# -- waiting lines (a FIFO per queue, stale entries dropped lazily at the head) --------
@njit("void(i8[::1], f8[::1], i8, i8, f8)", cache=True)
def queue_len(I, F, q, delta, now):
    """Engine._queue_len: the area under the number waiting, then the change."""
    qb, fb = I[T_QI] + q * QI_W, I[T_QF] + q * QF_W
    F[fb + QF_AREA] += I[qb + QI_NWAIT] * (now - F[fb + QF_LAST])
    F[fb + QF_LAST] = now
    I[qb + QI_NWAIT] += delta


@njit(f"void({ARGS}, i8, i8)", cache=True)
def line_append(I, F, DI, DF, q, c):
    qb = I[T_QI] + q * QI_W
    tail = I[qb + QI_TAIL]
    if tail >= 0:
        DI[I[T_CI] + tail * CI_W + CI_NEXT] = c
    else:
        I[qb + QI_HEAD] = c
    I[qb + QI_TAIL] = c
    DI[I[T_CI] + c * CI_W + CI_REF] += 1


@njit(f"void({ARGS}, i8)", cache=True)
def line_popleft(I, F, DI, DF, q):
    qb = I[T_QI] + q * QI_W
    c = I[qb + QI_HEAD]
    nxt = DI[I[T_CI] + c * CI_W + CI_NEXT]
    I[qb + QI_HEAD] = nxt
    if nxt < 0:
        I[qb + QI_TAIL] = -1
    release(I, F, DI, DF, c)


# -- answering and choosing work ---------------------------------------------------
@njit(f"void({ARGS}, i8, i8, f8)", cache=True)
def answer(I, F, DI, DF, c, a, now):
    """Engine._answer: agent ``a`` takes contact ``c``."""
    cb, fb = I[T_CI] + c * CI_W, I[T_CF] + c * CF_W
    DI[cb + CI_STATE] = SERVING
    DF[fb + CF_ANSWER] = now
    DI[cb + CI_AGENT] = a
    wait = now - DF[fb + CF_ARRIVAL]
    q, i, n = DI[cb + CI_QUEUE], DI[cb + CI_INTERVAL], I[G_N]
    I[I[T_QC] + (q * 9 + QC_ANSWERED) * n + i] += 1
    F[I[T_QW] + (q * 2 + QW_ANSWERED) * n + i] += wait
    F[I[T_QW] + (q * 2 + QW_ALL) * n + i] += wait
    k = I[G_NANS]
    DI[I[T_ANSI] + k * ANSI_W] = q
    DI[I[T_ANSI] + k * ANSI_W + 1] = i
    DF[I[T_ANSF] + k] = wait
    I[G_NANS] = k + 1
    if wait <= F[I[T_QF] + q * QF_W + QF_WITHIN]:
        I[I[T_QC] + (q * 9 + QC_WITHIN) * n + i] += 1
    p = I[I[T_AI] + a * AI_W + AI_POOL]
    idle_remove(I, a)
    j = int(now // F[GF_L])
    if j < n:
        I[I[T_PC] + (p * 2 + PC_HANDLED) * n + j] += 1
        o = DI[cb + CI_ORIGIN]
        if o == TRANSFER or o == CONSULT:
            I[I[T_PC] + (p * 2 + PC_ESC_TAKEN) * n + j] += 1
    factor = F[I[T_PF] + p * PF_W + PF_HANDLE_FACTOR]
    if factor != 1.0:
        DF[fb + CF_HANDLE] *= factor
        DF[fb + CF_WRAP] *= factor
    set_state(I, F, DI, DF, a, TALK, now)
    I[I[T_AI] + a * AI_W + AI_CONTACT] = c
    DI[cb + CI_REF] += 1
    push(I, F, DI, DF, now + DF[fb + CF_HANDLE], E_END_TALK, a, 0, 0, 0.0)


@njit(f"void({ARGS}, i8, f8)", cache=True)
def next_work(I, F, DI, DF, a, now):
    """Engine._next_work: the highest-priority skill level with contacts waiting, in it
    the longest-waiting contact; otherwise the agent becomes idle."""
    pb = I[T_PI] + I[I[T_AI] + a * AI_W + AI_POOL] * PI_W
    ci, cf = I[T_CI], I[T_CF]
    for lv in range(I[pb + PI_LEV_LO], I[pb + PI_LEV_HI]):
        best = -1
        best_q = -1
        best_arrival = 0.0
        for e in range(I[I[T_LEV] + 2 * lv], I[I[T_LEV] + 2 * lv + 1]):
            q = I[I[T_LENTQ] + e]
            after = F[I[T_LENTA] + e]
            qb = I[T_QI] + q * QI_W
            h = I[qb + QI_HEAD]
            while h >= 0 and DI[ci + h * CI_W + CI_STATE] != WAITING:
                line_popleft(I, F, DI, DF, q)
                h = I[qb + QI_HEAD]
            if h >= 0:
                arrival = DF[cf + h * CF_W + CF_ARRIVAL]
                if after > 0 and now - arrival < after - 1e-9:
                    continue
                if best < 0 or arrival < best_arrival:
                    best, best_q, best_arrival = h, q, arrival
        if best >= 0:
            DI[ci + best * CI_W + CI_REF] += 1  # held across the pop
            line_popleft(I, F, DI, DF, best_q)
            queue_len(I, F, best_q, -1, now)
            answer(I, F, DI, DF, best, a, now)
            DI[ci + best * CI_W + CI_REF] -= 1
            return
    set_state(I, F, DI, DF, a, IDLE, now)
    idle_add(I, a)
