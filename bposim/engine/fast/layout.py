"""The fast engine's memory layout (plain Python, no numba).

The kernel works on four flat arrays, so that its steps (subroutines of one compiled
function, see ``k_compile``) take few arguments and one table can grow without
touching the others; inside the kernel they are raw pointers to the arrays' data:

- ``I`` (int64) and ``F`` (float64): what is sized before the run: globals, queues,
  pools, agents, their spans, routing tables, per-interval counters, pre-drawn
  random numbers;
- ``DI`` (int64) and ``DF`` (float64): what grows as the run needs: contacts in the
  system, pending events, the event heap, answered waits and records. Contacts and
  events live in slots recycled through free lists, so memory follows what is in
  flight, not the length of the run.

Each is a set of row-major tables; ``I[T_x]`` holds where table ``x`` starts in its
array (tables of ``DI``/``DF`` move when they grow). Columns are the constants below.
"""

from __future__ import annotations

from bposim.engine import duty as _duty
from bposim.engine import recorder as _rec
from bposim.engine import workforce as _wf

# Agent states and contact origins: the SimPy engine's own numbers (recorder.py).
OFF, IDLE, TALK, WRAP, HOLD, AWAY, BREAK = (
    _rec.OFF, _rec.IDLE, _rec.TALK, _rec.WRAP, _rec.HOLD, _rec.AWAY, _rec.BREAK)
PREVIEW, DIALING, OUT_TALK, OUT_WRAP = _rec.PREVIEW, _rec.DIALING, _rec.OUT_TALK, _rec.OUT_WRAP
EXTERNAL, TRANSFER, CONSULT, REPEAT, RETRIAL = (
    _rec.EXTERNAL, _rec.TRANSFER, _rec.CONSULT, _rec.REPEAT, _rec.RETRIAL)
N_ORIGINS = len(_rec.ORIGIN_NAMES)

ARGS = "i8[::1], f8[::1], i8[::1], f8[::1]"  # numba signature of (I, F, DI, DF): kernel.run
PARGS = "CPointer(int64), CPointer(float64), CPointer(int64), CPointer(float64)"  # inside

WAITING, SERVING, DONE, ABANDONED = range(4)  # contact states (as bposim.engine.core)

# Event kinds.
(E_ARRIVE, E_ABANDON, E_OVERFLOW, E_END_TALK, E_FREE, E_REPEAT,
 E_ON_DUTY, E_OFF_DUTY, E_DUE, E_SHRINK_DUE, E_BACK, E_RETRY) = range(12)

R_ANSWERED, R_ABANDONED, R_UNANSWERED = range(3)  # contact record outcomes
OUTCOMES = ("answered", "abandoned", "unanswered_at_end")

BREAK_RETRY = _duty.BREAK_RETRY  # seconds before a break held back by the cap is retried
WEEK = _wf.WEEK  # seconds in a week (learning curves)

# I[0:32]: global integers.
(G_N, G_NQ, G_NP, G_NA, G_HEAPN, G_SEQ, G_NEXTID, G_CTOP, G_CFREE, G_ETOP, G_EFREE, G_NANS,
 G_NREC, G_NST, G_STATUS, G_KEEPC, G_KEEPS, G_MARGIN, G_ERROR, G_K, G_CCAP,
 G_ECAP, G_ACAP, G_RCAP, G_SCAP, G_LOW, G_LOWMARK, G_PHASE, G_NEED, G_NSTATES) = range(30)
# What run() returns: finished; needs room in DI/DF (I[G_NEED] more rows of each
# growing table); a stream is low (I[G_LOW]: draw more, then call again); a stream ran
# out inside an event (I[G_STATUS]: draw more and start again); a broken invariant.
DONE_, ROOM, LOW, OUT, BROKEN = range(5)
PHASE_START, PHASE_LOOP, PHASE_DONE = range(3)  # I[G_PHASE]: where run() resumes
# I[32:80]: where each table starts (tables in I, F, DI or DF as named).
(T_QI, T_QC, T_RT, T_OVR, T_LEV, T_LENTQ, T_ESC, T_PI, T_PC, T_AI, T_PK, T_SB, T_SD,  # in I
 T_QF, T_QW, T_HS, T_PS, T_OV, T_LENTA, T_ESCP, T_PF, T_PT, T_PP, T_AF, T_PKS,  # in F
 T_SP, T_BK, T_DR,
 T_CI, T_CFREE, T_EI, T_EFREE, T_HEAP, T_ANSI, T_RECI, T_STI,  # in DI
 T_CF, T_EF, T_ANSF, T_RECF, T_STF) = range(32, 73)  # in DF
HEADER = 80
# F[0:8]: global floats.
GF_L, GF_END = range(2)
F_HEADER = 8

# Queue rows (I: QI_W columns, the last 6 per origin the stream of each draw; F: QF_W).
# QI_RETRY and QI_RETRY_DELAY: the streams deciding whether and when an abandoned
# customer calls again (-1: the queue has no retrials).
(QI_NWAIT, QI_HEAD, QI_TAIL, QI_ARR_POS, QI_ARR_HI, QI_IMM_LO, QI_IMM_HI, QI_OV_LO,
 QI_OV_HI, QI_ESC_LO, QI_ESC_HI, QI_HSCALE, QI_PSCALE, QI_ARR_STREAM, QI_RETRY,
 QI_RETRY_DELAY, QI_SMP) = range(17)
SM_HANDLE, SM_WRAP, SM_PATIENCE, SM_ESC, SM_RES, SM_REPEAT = range(6)  # QI_SMP + 6*origin + k
QI_W = QI_SMP + 6 * N_ORIGINS
# QF_HEAD_START: seconds credited to the wait (delay-based priority); QF_RETRY_P:
# probability that an abandoned customer calls again.
QF_LAST, QF_AREA, QF_WITHIN, QF_SHORT, QF_HEAD_START, QF_RETRY_P = range(6)
QF_W = 6
# Per-interval counters: QC[(queue * QC_N + k) * n + interval] (QueueStats field names).
QC_NAMES = ("offered", "answered", "abandoned", "short_abandoned", "answered_within",
            "unanswered_at_end", "escalated", "repeats", "unresolved", "retrials")
(QC_OFFERED, QC_ANSWERED, QC_ABANDONED, QC_SHORT, QC_WITHIN, QC_UNANSWERED, QC_ESCALATED,
 QC_REPEATS, QC_UNRESOLVED, QC_RETRIALS) = range(10)
QC_N = len(QC_NAMES)
QW_ANSWERED, QW_ALL = range(2)  # QW[(queue * 2 + k) * n + interval]: wait sums

# Pool rows.
(PI_ON_DUTY, PI_ON_BREAK, PI_IDLE_HEAD, PI_IDLE_TAIL, PI_PLANNED, PI_TAKEN, PI_LEV_LO,
 PI_LEV_HI, PI_S_START, PI_S_AWAY, PI_S_AVAIL, PI_S_ABSENCE) = range(12)
PI_W = 12
(PF_OVERRUN, PF_MAX_SHARE, PF_SHRINKAGE, PF_AWAY_MEAN, PF_AVAIL_MEAN, PF_MAX_ON_BREAK,
 PF_ABSENTEEISM, PF_FCR, PF_ESC_FACTOR, PF_HANDLE_FACTOR,
 PF_LINEAR, PF_GAP, PF_WEEKS) = range(13)  # learning curve: 1.0 if linear, initial - 1, weeks
PF_W = 13
PP_PAID, PP_ABSENT = range(2)  # PP[(pool * 2 + k) * n + i]: seconds
PC_HANDLED, PC_ESC_TAKEN = range(2)  # PC[(pool * 2 + k) * n + i]: counts
# PT[(pool * I[G_NSTATES] + state) * n + i]: seconds per agent state (as many as the
# SimPy engine's STATE_NAMES: read at run time, so a new state needs no recompile)

# Agent rows (pending breaks/shrinkage: PK kinds and PKS seconds, G_K per agent).
(AI_POOL, AI_STATE, AI_SPAN_I, AI_SPAN_HI, AI_LEAVING, AI_EPOCH, AI_CONTACT, AI_PREV,
 AI_NEXT, AI_IN_IDLE, AI_PEND_HEAD, AI_PEND_N) = range(12)
AI_W = 12
AF_SINCE, AF_SPAN_END, AF_HIRED = range(3)  # AF_HIRED: hire time of a learning agent, else -1
AF_W = 3

# Contact slots.
(CI_ID, CI_PARENT, CI_QUEUE, CI_ORIGIN, CI_INTERVAL, CI_STATE, CI_AGENT, CI_HOLDER,
 CI_NEXT, CI_REF, CI_HAS_ESC, CI_HAS_RES) = range(12)
CI_W = 12
(CF_ARRIVAL, CF_HANDLE, CF_WRAP, CF_PATIENCE, CF_UESC, CF_URES, CF_REPEAT_AFTER,
 CF_ANSWER) = range(8)
CF_W = 8

# Event slots.
EI_SEQ, EI_KIND, EI_A, EI_B, EI_C = range(5)
EI_W = 5
EF_TIME, EF_F = range(2)
EF_W = 2

SD_OFF, SD_LEN, SD_POS, SD_OPEN = range(4)  # SD rows: a stream's window in DR (offset, size,
SD_W = 4  # next, and 1 while more values can come: flag it when it runs low)

# Outputs: answered waits (queue, interval | wait), contact records, agent states.
ANSI_W, ANSF_W = 1, 1  # answered: queue * n + interval | wait
RI_ID, RI_PARENT, RI_QUEUE, RI_ORIGIN, RI_OUTCOME, RI_AGENT = range(6)
RI_W = 6
RF_ARRIVAL, RF_ANSWER, RF_END, RF_HANDLE, RF_WRAP = range(5)
RF_W = 5
STI_W, STF_W = 2, 2  # (agent, old state | since, now)

# The growing tables: (offset slot, capacity slot, width, in DI (True) or DF).
DYN_TABLES = (
    (T_CI, G_CCAP, CI_W, True), (T_CFREE, G_CCAP, 1, True), (T_CF, G_CCAP, CF_W, False),
    (T_EI, G_ECAP, EI_W, True), (T_EFREE, G_ECAP, 1, True), (T_HEAP, G_ECAP, 1, True),
    (T_EF, G_ECAP, EF_W, False),
    (T_ANSI, G_ACAP, ANSI_W, True), (T_ANSF, G_ACAP, ANSF_W, False),
    (T_RECI, G_RCAP, RI_W, True), (T_RECF, G_RCAP, RF_W, False),
    (T_STI, G_SCAP, STI_W, True), (T_STF, G_SCAP, STF_W, False),
)
