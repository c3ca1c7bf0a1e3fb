"""The analytic (Erlang) baseline shown beside every simulated result.

Per queue and interval: the offered load (expected volume, escalation inflow included,
× mean handle + wrap: the forecast's ``aht`` for that interval when it gives one), the
agents Erlang C (or Erlang A, when the queue has a patience distribution, taken as
exponential with that interval's mean) says the target needs, and, where
the queue has dedicated pools (every pool serving it serves that queue alone and does
no QA reviews, coaching or dialling), the
service level, ASA and abandonment Erlang predicts for the agents those pools have
available (headcount less planned breaks, × (1 − shrinkage)). Everything here is an
approximation of a stationary single-skill queue; differences from the simulation are
the point of simulating.

Chat served by pools whose agents hold k sessions at once is taken as Erlang with k
servers per agent (exact when the handle-time stretch is 1); with a stretch s > 1 each
session is taken to last its handle time × s^(k−1), as when every agent holds k sessions
(pessimistic at light load). Email and back-office queues (deferrable: a backlog with a
due time) have no Erlang baseline: their expected volume and load are given, the
Erlang columns are NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim import erlang
from bposim.engine.channel_model import CHAT
from bposim.engine.model import Model, QueueModel


#: how the Erlang figures of a chat queue are computed (the run summary and the report say it)
CHAT_ERLANG_NOTE = (
    "Chat: Erlang counts an agent holding k chat sessions at once as k servers, each session "
    "lasting its handle time × stretch^(k−1) (as when all k are open), so beside the "
    "simulation it is pessimistic at light load, when agents hold fewer sessions and each "
    "goes faster.")


def expected_inflow(model: Model) -> list[np.ndarray]:
    """Expected contacts per interval per queue: external plus escalated in (ignoring
    abandonment upstream), following chains in as many passes as there are queues."""
    inflow = [q.volumes.astype(float).copy() for q in model.queues]
    for _ in range(len(model.queues)):
        new = [q.volumes.astype(float).copy() for q in model.queues]
        for q in model.queues:
            for r in q.escalations:
                new[r.target] += inflow[q.index] * r.probability
        inflow = new
    return inflow


def _dedicated_agents(model: Model, q: QueueModel) -> np.ndarray | None:
    """Agents available to ``q`` per interval when every pool serving it serves nothing
    else: scheduled headcount less planned breaks, times (1 − shrinkage), summed over
    those pools and rounded down; ``None`` when a pool shares its agents with other work
    (another queue, an outbound campaign, QA reviews or coaching)."""
    if not q.servers:
        return None
    total = np.zeros(model.n_intervals)
    for p, _after in q.servers:
        pool = model.pools[p]
        if (sum(len(level) for level in pool.levels) != 1 or pool.qa is not None or pool.coaching is not None
                or any(pool.index in c.pools for c in model.campaigns)):
            return None  # other queues, QA reviews, coaching or dialling share its time
        total += (pool.headcount - pool.on_break) * (1.0 - pool.shrinkage)
    return np.floor(total + 1e-9)


def chat_sessions(model: Model, q: QueueModel) -> tuple[int, float]:
    """(sessions per agent k, handle-time factor) for ``q``: (1, 1.0) unless it is a chat
    queue whose serving pools all hold the same k > 1 sessions; the factor is the largest
    of their stretches to the power k − 1."""
    if q.channel_code != CHAT or not q.servers:
        return 1, 1.0
    ks = {model.pools[p].concurrency for p, _after in q.servers}
    if len(ks) != 1 or min(ks) <= 1:
        return 1, 1.0
    k = ks.pop()
    stretch = max(model.pools[p].stretch for p, _after in q.servers)
    return k, stretch ** (k - 1)


def queue_baseline(model: Model) -> pd.DataFrame:
    """Erlang baseline per interval and queue (see the module docstring)."""
    frames = []
    volumes = expected_inflow(model)
    for q, vol in zip(model.queues, volumes):
        sessions, stretch = chat_sessions(model, q)
        # per interval: the forecast's aht column, else the queue's mean (× chat stretch)
        aht = q.mean_handle * stretch
        load = vol / model.interval * aht
        patience = q.mean_patience
        erlang_c = q.patience is None
        active = (load > 0) & (not q.deferrable)  # no Erlang formula for a due-time target
        required = np.full(load.size, np.nan) if q.deferrable else np.zeros(load.size)
        if active.any():
            if erlang_c:
                required[active] = erlang.required_agents(load[active], aht[active], q.answer_within,
                                                          q.sl_target)
            else:
                required[active] = erlang.required_agents_erlang_a(
                    load[active], aht[active], patience[active], q.answer_within, q.sl_target)
            required = np.ceil(required / sessions - 1e-9)  # servers are sessions: k per agent
        frame = pd.DataFrame({
            "interval": np.arange(model.n_intervals), "queue": q.id, "expected_offered": vol,
            "load_erlangs": load, "erlang_required_agents": required,
        })
        agents = _dedicated_agents(model, q)
        if agents is not None:
            servers = agents * sessions  # Erlang's servers are chat sessions: k per agent
            sl = np.full(load.size, np.nan)
            asa = np.full(load.size, np.nan)
            abandon = np.full(load.size, np.nan)
            ok = active & (agents > 0)
            if ok.any():
                if erlang_c:
                    sl[ok] = erlang.service_level(load[ok], servers[ok], aht[ok], q.answer_within)
                    asa[ok] = erlang.asa(load[ok], servers[ok], aht[ok])
                    abandon[ok] = 0.0
                else:
                    res = erlang.erlang_a(load[ok], servers[ok], aht[ok], patience[ok], q.answer_within)
                    sl[ok], asa[ok], abandon[ok] = res.service_level, res.asa, res.p_abandon
            frame["erlang_agents"] = agents
            frame["erlang_service_level"] = sl
            frame["erlang_asa"] = asa
            frame["erlang_abandon_rate"] = abandon
        frames.append(frame)
    if not frames:  # an outbound-only centre has no queue to compare with Erlang
        return pd.DataFrame(columns=["interval", "queue", "expected_offered", "load_erlangs",
                                     "erlang_required_agents"])
    return pd.concat(frames, ignore_index=True)


def run_baseline(model: Model) -> pd.DataFrame:
    """Run-level baseline per queue: volume-weighted Erlang figures over the intervals the
    simulated run-level figures cover (after the warm-up, inside ``simulation.measure``)."""
    b = queue_baseline(model)
    b = b[model.measured[b["interval"].to_numpy(dtype=int)]]
    rows = []
    if b.empty:
        return pd.DataFrame(columns=["queue", "expected_offered", "erlang_required_agents_peak"])
    for qid, g in b.groupby("queue", sort=False):
        w = g["expected_offered"].to_numpy()
        row = {"queue": qid, "expected_offered": float(w.sum()),
               "erlang_required_agents_peak": float(g["erlang_required_agents"].max())}
        for col in ("erlang_service_level", "erlang_asa", "erlang_abandon_rate"):
            if col in g and w.sum() > 0:
                v = g[col].to_numpy()
                ok = ~np.isnan(v) & (w > 0)
                row[col] = float(np.average(v[ok], weights=w[ok])) if ok.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
