"""Stage 2: choose how many agents work each shift, at least cost, as an integer program.

Pure numpy/scipy (no SimPy), so it is tested on plain arrays. Each *column* ``j`` is one
shift an agent can work (a template's start time, length and day, at its pool's site);
``cover[j, t]`` is how much of interval ``t`` one agent on that shift is available
(on duty, less the expected share on a planned break, less absence), ``duty[j, t]`` how
much of it they are on duty (seats), ``cost[j]`` what the shift costs over the horizon.
The program (set covering, Dantzig 1954) is::

    minimise    sum_j cost_j x_j
    subject to  sum_{j in g} cover[j, t] x_j >= need[g, t]       every group g, interval t
                sum_{j in g} duty[j, t]  x_j <= max_on_duty[g]     seats of a pool
                sum_{j in g} duty[j, t]  x_j >= min_on_duty[g]     where need[g, t] > 0
                sum_{j in s} duty[j, t]  x_j <= site_max[s]        seats of a site
                sum_{j in g, part-time} w_j x_j <= share_g sum_{j in g} w_j x_j
                x_j >= 0 integer

solved with :func:`scipy.optimize.milp` (HiGHS branch and bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from bposim.errors import InputError

TIME_LIMIT = 120.0  # seconds HiGHS may spend; the best schedule found by then is used
MIP_GAP = 0.005  # relative optimality gap accepted


@dataclass(frozen=True)
class Problem:
    """A covering problem on arrays; ``group[j]`` / ``site[j]`` index the column's pool
    (row of ``need``) and site (``-1``: none)."""

    cover: np.ndarray  # (columns, intervals)
    duty: np.ndarray  # (columns, intervals)
    cost: np.ndarray  # (columns,)
    group: np.ndarray  # (columns,) int
    need: np.ndarray  # (groups, intervals)
    site: np.ndarray | None = None  # (columns,) int
    max_on_duty: tuple[float | None, ...] = ()  # per group
    min_on_duty: tuple[float | None, ...] = ()  # per group
    site_max: tuple[float | None, ...] = ()  # per site
    part_time: np.ndarray | None = None  # (columns,) bool
    weight: np.ndarray | None = None  # (columns,) agent-days per agent, for the part-time share
    part_time_share: tuple[float | None, ...] = ()  # per group
    group_names: tuple[str, ...] = ()
    interval_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Solution:
    counts: np.ndarray  # agents per column
    cost: float
    optimal: bool  # False: the time limit stopped HiGHS first (within its gap of optimal)
    message: str


def _name(names, k, default):
    return names[k] if k < len(names) else f"{default} {k}"


def check_feasible(p: Problem) -> None:
    """Quick checks before solving: every interval with a need can be covered, within the
    pool's seats; raise :class:`InputError` naming the interval, pool and shortfall."""
    problems = []
    for g in range(p.need.shape[0]):
        cols = np.nonzero(p.group == g)[0]
        need = p.need[g]
        gname = _name(p.group_names, g, "pool")
        for t in np.nonzero(need > 0)[0]:
            where = f"interval {_name(p.interval_names, t, 'interval')}, pool {gname}"
            covering = cols[p.cover[cols, t] > 0]
            if covering.size == 0:
                problems.append(f"{where}: needs {need[t]:g} agent(s) but no shift template "
                                "covers this interval (shortfall {0:g})".format(need[t]))
                continue
            cap = p.max_on_duty[g] if g < len(p.max_on_duty) else None
            if cap is not None:
                best = float(np.max(p.cover[covering, t] / np.maximum(p.duty[covering, t], 1e-12)))
                most = cap * best
                if most + 1e-9 < need[t]:
                    problems.append(f"{where}: needs {need[t]:g} agent(s) available but at most "
                                    f"{most:.1f} can be with max_headcount {cap:g} "
                                    f"(shortfall {need[t] - most:.1f})")
        if len(problems) >= 10:
            break
    if problems:
        more = "" if len(problems) < 10 else "\n(first 10 problems shown)"
        raise InputError("the plan is infeasible:\n" + "\n".join(problems[:10]) + more)


def solve(p: Problem, *, time_limit: float = TIME_LIMIT) -> Solution:
    """The least-cost integer counts per column that cover ``need`` (see the module doc)."""
    check_feasible(p)
    k, n = p.cover.shape
    if k == 0:
        return Solution(np.zeros(0, dtype=np.int64), 0.0, True, "nothing to schedule")
    rows, lows, highs = [], [], []

    def add(matrix, lo, hi):
        m = sparse.csr_matrix(matrix)
        rows.append(m)
        lows.append(np.broadcast_to(np.asarray(lo, dtype=float), (m.shape[0],)))
        highs.append(np.broadcast_to(np.asarray(hi, dtype=float), (m.shape[0],)))

    for g in range(p.need.shape[0]):
        in_g = (p.group == g).astype(float)
        t_need = np.nonzero(p.need[g] > 0)[0]
        if t_need.size:
            add((p.cover[:, t_need] * in_g[:, None]).T, p.need[g, t_need], np.inf)
        cap = p.max_on_duty[g] if g < len(p.max_on_duty) else None
        on = np.nonzero((p.duty * in_g[:, None]).sum(axis=0) > 0)[0]
        if cap is not None and on.size:
            add((p.duty[:, on] * in_g[:, None]).T, -np.inf, cap)
        low = p.min_on_duty[g] if g < len(p.min_on_duty) else None
        if low and t_need.size:
            add((p.duty[:, t_need] * in_g[:, None]).T, low, np.inf)
        share = p.part_time_share[g] if g < len(p.part_time_share) else None
        if share is not None and p.part_time is not None:
            w = p.weight if p.weight is not None else np.ones(k)
            row = in_g * w * (p.part_time.astype(float) - share)
            add(row[None, :], -np.inf, 0.0)
    if p.site is not None:
        for s, cap in enumerate(p.site_max):
            if cap is None:
                continue
            in_s = (p.site == s).astype(float)
            on = np.nonzero((p.duty * in_s[:, None]).sum(axis=0) > 0)[0]
            if on.size:
                add((p.duty[:, on] * in_s[:, None]).T, -np.inf, cap)
    constraints = [LinearConstraint(sparse.vstack(rows).tocsr(), np.concatenate(lows),
                                    np.concatenate(highs))] if rows else []
    res = milp(c=np.asarray(p.cost, dtype=float), integrality=np.ones(k), bounds=Bounds(0, np.inf),
               constraints=constraints,
               options={"time_limit": time_limit, "mip_rel_gap": MIP_GAP, "presolve": True})
    if res.x is None:
        raise InputError("the plan is infeasible:\n" + _diagnose(p, time_limit))
    counts = np.round(res.x).astype(np.int64)
    return Solution(counts, float(np.dot(p.cost, counts)), res.status == 0, str(res.message))


def covered(p: Problem, counts: np.ndarray) -> np.ndarray:
    """Agents available per group and interval with ``counts`` agents on each column."""
    out = np.zeros_like(p.need, dtype=float)
    for g in range(p.need.shape[0]):
        sel = p.group == g
        out[g] = counts[sel] @ p.cover[sel]
    return out


def _peak_on_duty(p: Problem, g: int, time_limit: float):
    """The least possible peak of agents on duty in group ``g`` that still covers its need:
    (peak, interval) from a small integer program; ``None`` when even that fails."""
    cols = np.nonzero(p.group == g)[0]
    t_need = np.nonzero(p.need[g] > 0)[0]
    on = np.nonzero(p.duty[cols].sum(axis=0) > 0)[0]
    k = cols.size
    if k == 0 or t_need.size == 0:
        return None
    # variables: x (k) and the peak z; minimise z
    cover = sparse.hstack([sparse.csr_matrix(p.cover[cols][:, t_need].T),
                           sparse.csr_matrix((t_need.size, 1))])
    duty = sparse.hstack([sparse.csr_matrix(p.duty[cols][:, on].T),
                          -sparse.csr_matrix(np.ones((on.size, 1)))])
    res = milp(c=np.r_[np.zeros(k), 1.0], integrality=np.r_[np.ones(k), 0],
               bounds=Bounds(0, np.inf),
               constraints=[LinearConstraint(cover.tocsr(), p.need[g, t_need], np.inf),
                            LinearConstraint(duty.tocsr(), -np.inf, 0.0)],
               options={"time_limit": time_limit, "mip_rel_gap": 0.0})
    if res.x is None:
        return None
    x = np.round(res.x[:k])
    per = x @ p.duty[cols]
    t = int(np.argmax(per))
    return float(per[t]), t


def _diagnose(p: Problem, time_limit: float) -> str:
    """Why no schedule exists: the pools whose seats cannot hold the agents their need
    puts on duty at once (interval, pool, shortfall), else the site limits or shares."""
    lines = []
    for g in range(p.need.shape[0]):
        cap = p.max_on_duty[g] if g < len(p.max_on_duty) else None
        if cap is None:
            continue
        found = _peak_on_duty(p, g, time_limit)
        if found is not None and found[0] > cap + 1e-9:
            peak, t = found
            lines.append(f"interval {_name(p.interval_names, t, 'interval')}, pool "
                         f"{_name(p.group_names, g, 'pool')}: the shifts that cover its need put at "
                         f"least {peak:.0f} agents on duty at once, more than max_headcount {cap:g} "
                         f"(shortfall {peak - cap:.0f}); allow more seats or other shift starts and lengths")
    if not lines:
        lines.append("every pool can be covered on its own, but not within the site headcount limits "
                     "(planning.sites) and part-time shares together; raise a site's max_headcount or "
                     "a pool's part_time_share")
    return "\n".join(lines)
