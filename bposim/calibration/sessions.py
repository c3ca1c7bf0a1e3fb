"""Staffing inferred from agent activity: who was working, when, on what.

A log records services, not log-ins. An agent's services on a day are merged into
work sessions when the gap between one's end and the next one's start is under
``gap_minutes``; the agent counts as staffed for the whole session (idle gaps
included), not before the first service or after the last. Agents are grouped into
pools by their skills: the queues making up at least ``min_share`` of their
services. Headcount per interval is the time-weighted number of agents in session,
rounded. The gap decides how much idle time counts as staffed; its effect on
agent-hours and occupancy is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim.calibration.logs import ContactLog
from bposim.errors import InputError


@dataclass
class InferredStaffing:
    """Pools (id -> skills), headcount per (pool, day) x interval, and the gap's effect."""

    pools: dict[str, tuple[str, ...]]
    agent_pool: dict[str, str]
    table: pd.DataFrame  # index (pool, day), columns interval 0..n-1, fractional agents
    sessions: pd.DataFrame  # agent, day, start, end, services, busy
    gap_minutes: float
    gap_effect: pd.DataFrame  # gap_minutes, sessions, agent_hours, occupancy

    answering: pd.DataFrame | None = None  # 1 where the pool answered a contact in the interval

    def headcount(self, pool: str, day) -> np.ndarray:
        """Whole agents per interval: rounded, and at least one where the pool answered
        a contact (someone was there, however short the session)."""
        n = np.rint(self.table.loc[(pool, day)].to_numpy()).astype(int)
        if self.answering is not None:
            n = np.maximum(n, self.answering.loc[(pool, day)].to_numpy().astype(int))
        return n


def _services(log: ContactLog) -> pd.DataFrame:
    f = log.frame[log.frame["outcome"] == "answered"]
    return pd.DataFrame({"agent": f["agent"].to_numpy(), "day": f["day"].to_numpy(),
                         "queue": f["queue"].to_numpy(), "start": f["answer"].to_numpy(),
                         "end": f["end"].to_numpy()})


def sessions(services: pd.DataFrame, gap_minutes: float) -> pd.DataFrame:
    """Merge each agent's services of a day into sessions (gap < ``gap_minutes``)."""
    s = services.sort_values(["agent", "day", "start"], kind="stable").reset_index(drop=True)
    if s.empty:
        return pd.DataFrame(columns=["agent", "day", "start", "end", "services", "busy"])
    reach = s.groupby(["agent", "day"], sort=False)["end"].cummax()
    prev = reach.groupby([s["agent"], s["day"]], sort=False).shift(1)
    new = prev.isna() | (s["start"] - prev >= gap_minutes * 60)
    sid = new.cumsum()
    g = s.assign(sid=sid, busy=s["end"] - s["start"]).groupby("sid")
    return pd.DataFrame({"agent": g["agent"].first(), "day": g["day"].first(), "start": g["start"].min(),
                         "end": g["end"].max(), "services": g.size(), "busy": g["busy"].sum()}
                        ).reset_index(drop=True)


def _coverage(sess: pd.DataFrame, interval_minutes: int) -> np.ndarray:
    """Agent-seconds in session per interval of the day (sessions past midnight clipped)."""
    width = interval_minutes * 60.0
    n = 24 * 60 // interval_minutes
    edges = np.arange(n + 1) * width
    start = sess["start"].to_numpy()[:, None]
    end = np.minimum(sess["end"].to_numpy(), 86400.0)[:, None]
    overlap = np.clip(np.minimum(end, edges[1:]) - np.maximum(start, edges[:-1]), 0, None)
    return overlap.sum(axis=0) / width


def infer_staffing(log: ContactLog, interval_minutes: int, gap_minutes: float = 15.0,
                   min_share: float = 0.10) -> InferredStaffing:
    """Pools and headcount per interval from the log's services (see the module docstring).

    Raises :class:`InputError` naming the file and line of a day that has contacts
    but no agent activity (no answered contact): its staffing cannot be inferred."""
    services = _services(log)
    active = set(services["day"])
    for day in log.days:
        if day not in active:
            raise InputError(f"{log.file}:{log.first_line(day)}: {day} has contacts but no agent "
                             "activity (no answered contact): its staffing cannot be inferred; "
                             "leave the day out (--days / --train-days)")
    share = services.groupby(["agent", "queue"]).size()
    share = share / share.groupby("agent").transform("sum")
    skills_of = {}
    for agent, g in share.groupby(level="agent"):
        g = g.droplevel("agent").sort_values(ascending=False)
        skills_of[agent] = frozenset(q for q, v in g.items() if v >= min_share) or frozenset([g.index[0]])
    # a queue no agent serves often enough: the skill group that served most of it takes it
    count = services.groupby(["agent", "queue"]).size()
    for q in sorted(set(services["queue"]) - set().union(*skills_of.values())):
        by_group = count.xs(q, level="queue").groupby(lambda a: skills_of[a]).sum()
        group = by_group.idxmax()
        skills_of = {a: (s | {q} if s == group else s) for a, s in skills_of.items()}
    agent_pool, pools = {}, {}
    for agent, skills in skills_of.items():
        pid = "agents_" + "_".join(sorted(skills))
        pools[pid] = tuple(sorted(skills))
        agent_pool[agent] = pid
    sess = sessions(services, gap_minutes)
    sess["pool"] = sess["agent"].map(agent_pool)
    rows, index = [], []
    for (pid, day), g in sess.groupby(["pool", "day"]):
        rows.append(_coverage(g, interval_minutes))
        index.append((pid, day))
    full = pd.MultiIndex.from_product([sorted(pools), log.days], names=["pool", "day"])
    table = (pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["pool", "day"]))
             .reindex(full, fill_value=0.0))
    per_day = 24 * 60 // interval_minutes
    k = np.clip((services["start"].to_numpy() // (interval_minutes * 60)).astype(int), 0, per_day - 1)
    answering = (pd.DataFrame({"pool": services["agent"].map(agent_pool).to_numpy(),
                               "day": services["day"].to_numpy(), "k": k})
                 .drop_duplicates().assign(one=1).set_index(["pool", "day", "k"])["one"]
                 .unstack("k", fill_value=0).reindex(columns=range(per_day), fill_value=0)
                 .reindex(full, fill_value=0))
    effect = []
    for g in sorted({gap_minutes / 2, gap_minutes, gap_minutes * 2}):
        s = sess if g == gap_minutes else sessions(services, g)
        hours = float((np.minimum(s["end"], 86400.0) - s["start"]).sum() / 3600)
        busy = float(s["busy"].sum() / 3600)
        effect.append(dict(gap_minutes=g, sessions=len(s), agent_hours=hours,
                           occupancy=busy / hours if hours > 0 else np.nan))
    return InferredStaffing(dict(sorted(pools.items())), agent_pool, table, sess, gap_minutes,
                            pd.DataFrame(effect), answering)
