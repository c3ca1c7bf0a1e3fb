"""Read the kernel's arrays back into the SimPy engine's :class:`Recording` (the same
Python types: lists of ints and floats, ``array('d')`` of waits, record tuples)."""

from __future__ import annotations

import gc
from array import array
from contextlib import contextmanager

import numpy as np

from bposim.engine.fast.layout import (
    G_NANS, G_NREC, G_NST, OUTCOMES, PC_ESC_TAKEN, PC_HANDLED, PF_MAX_SHARE, PF_OVERRUN,
    PF_W, PI_PLANNED, PI_TAKEN, PI_W, PP_ABSENT, PP_PAID, QC_N, QC_NAMES, QF_AREA, QF_W,
    QW_ALL, QW_ANSWERED, RF_ANSWER, RF_ARRIVAL, RF_END, RF_HANDLE, RF_W, RF_WRAP,
    RI_AGENT, RI_ID, RI_ORIGIN, RI_OUTCOME, RI_PARENT, RI_QUEUE, RI_W, STF_W, STI_W,
    T_ANSF, T_ANSI, T_PC, T_PF, T_PI, T_PP, T_PT, T_QC, T_QF, T_QW, T_RECF, T_RECI,
    T_STF, T_STI,
)
from bposim.engine.recorder import ORIGIN_NAMES, STATE_NAMES, PoolStats, QueueStats, Recording


def _table(arr, start, rows, width):
    return arr[start:start + rows * width].reshape(rows, width)


def to_recording(prep, arrays: list) -> Recording:
    """The Recording of a finished kernel run of ``prep`` (a :class:`Prepared`).

    ``arrays`` is the list ``[I, F, DI, DF]``; it is emptied, and the large arrays are
    let go as soon as they have been read, to keep the peak memory of a long run low."""
    I, F, DI, DF = arrays
    arrays.clear()
    n, nq, npl, ns = prep.n, len(prep.queue_ids), len(prep.pool_ids), len(STATE_NAMES)
    model = prep.model
    with _no_gc():  # (hundreds of thousands of new tuples, none of them in a cycle)
        contacts = _contacts(prep, I, DI, DF) if model.keep_contacts else None
        states = _states(prep, I, DI, DF) if model.keep_agent_states else None
    qc = _table(I, I[T_QC], nq * QC_N, n).copy()
    pc = _table(I, I[T_PC], npl * 2, n).copy()
    pi = _table(I, I[T_PI], npl, PI_W).copy()
    qw = _table(F, I[T_QW], nq * 2, n).copy()
    qf = _table(F, I[T_QF], nq, QF_W).copy()
    pt = _table(F, I[T_PT], npl * ns, n).copy()
    pp = _table(F, I[T_PP], npl * 2, n).copy()
    pf = _table(F, I[T_PF], npl, PF_W).copy()
    k = int(I[G_NANS])
    keys = DI[I[T_ANSI]:I[T_ANSI] + k]  # queue * n + interval of each wait, as answered
    starts = np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=nq * n))))
    bounds = starts.tolist()
    ordered = np.empty(k)
    from bposim.engine.fast.kernel import sort_waits  # (loaded by then: see run._kernel)
    sort_waits(keys, DF[I[T_ANSF]:I[T_ANSF] + k], starts, ordered)
    del keys, DI, DF, F
    waits = [[_array(ordered[bounds[q * n + i]:bounds[q * n + i + 1]]) for i in range(n)]
             for q in range(nq)]
    del ordered
    queues = []
    for q in range(nq):
        st = QueueStats(n)
        for k, name in enumerate(QC_NAMES):
            setattr(st, name, qc[q * QC_N + k].tolist())
        st.wait_answered = qw[q * 2 + QW_ANSWERED].tolist()
        st.wait_all = qw[q * 2 + QW_ALL].tolist()
        st.waits = waits[q]
        st.queue_area = float(qf[q, QF_AREA])
        queues.append(st)
    pools = []
    for p in range(npl):
        st = PoolStats(n)
        st.time = pt[p * ns:(p + 1) * ns].tolist()
        st.paid = pp[p * 2 + PP_PAID].tolist()
        st.absent = pp[p * 2 + PP_ABSENT].tolist()
        st.handled = pc[p * 2 + PC_HANDLED].tolist()
        st.escalations_taken = pc[p * 2 + PC_ESC_TAKEN].tolist()
        st.overrun = float(pf[p, PF_OVERRUN])
        st.breaks_planned = int(pi[p, PI_PLANNED])
        st.breaks_taken = int(pi[p, PI_TAKEN])
        st.max_on_break_share = float(pf[p, PF_MAX_SHARE])
        st.leavers = prep.leavers[p]
        st.hires = prep.hires[p]
        pools.append(st)
    return Recording(queues=queues, pools=pools, contacts=contacts, agent_states=states,
                     busyness=prep.busyness, campaigns=[])


@contextmanager
def _no_gc():
    """Pause Python's cyclic garbage collector: building many tuples otherwise sets it
    off again and again, each time walking every object the process holds (with the
    records of a week of a 500-agent centre kept, it took 4/5 of the conversion). The
    pause is process-wide, for a fraction of a second; collection resumes after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _array(values: np.ndarray) -> array:
    out = array("d")
    if values.size:
        out.frombytes(values.tobytes())
    return out


def _contacts(prep, I, DI, DF) -> list[tuple]:
    """The contact log, built a column at a time (a missing parent, agent, answer, handle
    or wrap time is None, as the SimPy engine writes it)."""
    k = int(I[G_NREC])
    ri = _table(DI, I[T_RECI], k, RI_W)
    rf = _table(DF, I[T_RECF], k, RF_W)
    arrival, answer, end = rf[:, RF_ARRIVAL], rf[:, RF_ANSWER], rf[:, RF_END]
    unanswered = np.isnan(answer)
    agent = ri[:, RI_AGENT]  # -1 (none) picks the None appended to each lookup below
    agents = np.array([*prep.agent_ids, None], dtype=object)
    pools = np.array([*(prep.pool_ids[j] for j in prep.agent_pool), None], dtype=object)
    return list(zip(
        ri[:, RI_ID].tolist(),
        _or_none(ri[:, RI_PARENT], ri[:, RI_PARENT] < 0),
        np.array(prep.queue_ids, dtype=object)[ri[:, RI_QUEUE]].tolist(),
        np.array(ORIGIN_NAMES, dtype=object)[ri[:, RI_ORIGIN]].tolist(),
        arrival.tolist(),
        _or_none(answer, unanswered),
        end.tolist(),
        (np.where(unanswered, end, answer) - arrival).tolist(),
        np.array(OUTCOMES, dtype=object)[ri[:, RI_OUTCOME]].tolist(),
        agents[agent].tolist(),
        pools[agent].tolist(),
        _or_none(rf[:, RF_HANDLE], unanswered),
        _or_none(rf[:, RF_WRAP], unanswered)))


def _or_none(values: np.ndarray, missing: np.ndarray) -> list:
    """``values`` as a list of Python numbers, None where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _states(prep, I, DI, DF) -> list[tuple]:
    k = int(I[G_NST])
    si = _table(DI, I[T_STI], k, STI_W)
    sf = _table(DF, I[T_STF], k, STF_W)
    agents = si[:, 0]
    pool_of = np.asarray(prep.agent_pool, dtype=np.int64)
    return list(zip(
        np.array(prep.agent_ids, dtype=object)[agents].tolist(),
        np.array(prep.pool_ids, dtype=object)[pool_of[agents]].tolist(),
        np.array(STATE_NAMES, dtype=object)[si[:, 1]].tolist(),
        sf[:, 0].tolist(), sf[:, 1].tolist()))
