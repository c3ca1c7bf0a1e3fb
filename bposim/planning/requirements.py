"""Stage 1: agents needed on duty per interval and planned pool.

Starts from Erlang A (Erlang C for a queue without patience) per queue, on the expected
inflow including escalations, shared equally among the pools that answer the queue
first, divided by (1 − shrinkage); chat with k sessions per agent counts k servers per
agent, and an email or back-office queue (a backlog with a due time, which no Erlang
formula covers) starts from its work as it arrives, in agents. Then the iterative staffing algorithm in the spirit of
Feldman, Mandelbaum, Massey & Whitt (2008): simulate the centre staffed per interval with
those numbers (no shifts yet), with the same seed in every iteration (common random
numbers); raise the pools answering a queue in each interval that misses its target with
confidence, lower them where every target they serve is clearly exceeded (never back to a
count already seen to miss), and repeat until nothing changes. Escalations, consult
holds, multi-skill sharing and work carried over between intervals are then in the
numbers, as Erlang's formulas cannot have them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from bposim import erlang
from bposim.baseline import expected_inflow
from bposim.engine.channel_model import CHAT
from bposim.engine.model import compile_scenario
from bposim.montecarlo import run
from bposim.planning.evaluate import Target, assess
from bposim.planning.templates import requirement_scenario
from bposim.scenario.planning import PlanningSpec
from bposim.scenario.schema import Scenario

SL_STEP = 0.15  # raise by one more agent per this much service level short of the target...
MAX_STEP_SHARE = 0.25  # ...but by at most a quarter of the agents there (at least one)


def raise_step(gap: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Agents to add where the service level is ``gap`` short with ``agents`` on duty:
    one, plus one per 15 points short, at most a quarter of ``agents`` (so that a few
    contacts answered late in a quiet interval do not add many agents at once)."""
    step = 1 + np.floor(np.maximum(np.nan_to_num(gap, nan=0.0), 0) / SL_STEP)
    return np.minimum(step, np.maximum(1, np.ceil(MAX_STEP_SHARE * agents)))


def home_pools(scenario: Scenario, queue: str, pools: tuple[str, ...]) -> list[int]:
    """Indices (in ``pools``) of the planned pools that answer ``queue`` without overflow delay."""
    return [pools.index(p.id) for p in scenario.pools if p.id in pools
            and any(s.queue == queue and s.overflow_after == 0 for s in p.skills)]


def _means(qm) -> tuple[np.ndarray, np.ndarray]:
    """Mean handle (+ wrap) and patience per interval of a compiled queue."""
    n = qm.volumes.size
    if hasattr(qm, "mean_handle"):
        return np.asarray(qm.mean_handle, float), np.asarray(qm.mean_patience, float)
    aht = qm.handle.expected + (qm.wrap.expected if qm.wrap else 0.0)
    pat = qm.patience.expected if qm.patience is not None else np.inf
    return np.full(n, aht), np.full(n, pat)


def erlang_requirements(scenario: Scenario, targets: list[Target], spec: PlanningSpec,
                        pools: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(Erlang C, Erlang A) agents on duty per planned pool and interval.

    Erlang C ignores abandonment (the usual planner's table); Erlang A uses each queue's
    mean patience and, when it binds, the abandonment cap. Both apply the pool's
    occupancy cap and shrinkage."""
    model = compile_scenario(scenario)
    inflow = expected_inflow(model)
    n = model.n_intervals
    c_need = np.zeros((len(pools), n))
    a_need = np.zeros((len(pools), n))
    by_pool = {p.id: p for p in scenario.pools}
    sites = {s.id: s for s in scenario.sites}
    for t in targets:
        qm = next(q for q in model.queues if q.id == t.queue)
        vol = inflow[qm.index]
        homes = home_pools(scenario, t.queue, pools)
        if not homes:
            continue
        aht, pat = _means(qm)
        for g in homes:
            pool = by_pool[pools[g]]
            plan = spec.pool_plan(pool.id)
            factor = sites[pool.site].handle_time_factor if pool.site in sites else 1.0
            # chat: k sessions per agent are Erlang's servers, each stretched as when all are open
            k = pool.chat.concurrency if qm.channel_code == CHAT else 1
            a_ht = aht * factor * pool.chat.stretch ** (k - 1)
            load = vol * a_ht / model.interval
            active = load > 0
            if not active.any():
                continue
            occ = plan.max_occupancy if plan else None
            c = np.zeros(n)
            if qm.deferrable:  # a backlog has no Erlang formula: start from its work as it
                # arrives; the simulation stage raises the pools where items miss their due time
                c[active] = load[active] / (occ or 1.0)
                a = c.copy()
            else:
                c[active] = erlang.required_agents(load[active], a_ht[active], t.answer_within,
                                                   t.service_level, max_occupancy=occ) / k
                a = c.copy()
                if np.isfinite(pat).any():
                    ab = t.max_abandon if "abandonment" in t.constraints else None
                    a[active] = erlang.required_agents_erlang_a(
                        load[active], a_ht[active], pat[active], t.answer_within, t.service_level,
                        max_abandon=ab, max_occupancy=occ) / k
            on_duty = 1.0 / (1.0 - pool.shrinkage) / len(homes)
            c_need[g] += c * on_duty
            a_need[g] += a * on_duty
    return np.ceil(c_need - 1e-9), np.ceil(a_need - 1e-9)


def interval_targets(targets: list[Target]) -> list[Target]:
    """Stage 1 staffs interval by interval: every target is checked per interval."""
    return [replace(t, per=("interval",)) for t in targets]


def adjust(scenario: Scenario, pools: tuple[str, ...], need: np.ndarray, assessment,
           targets: list[Target], seen_miss: np.ndarray | None = None, *,
           allow_lower: bool = True) -> np.ndarray:
    """The next staffing: raise the pools answering each missed interval (more where the
    miss is large), lower where all they serve clearly exceeds its targets."""
    up = np.zeros_like(need)
    served = np.zeros(need.shape, dtype=int)
    all_excess = np.ones(need.shape, dtype=bool)
    for k, t in enumerate(targets):
        homes = home_pools(scenario, t.queue, pools)
        gap = t.service_level - assessment.sl_mean[k]
        for g in homes:
            up[g] = np.maximum(up[g], np.where(assessment.miss[k], raise_step(gap, need[g]), 0))
            served[g] += 1
            all_excess[g] &= assessment.excess[k]
    for j, pid in enumerate(assessment.pools):
        if pid in pools:
            g = pools.index(pid)
            up[g] = np.maximum(up[g], assessment.occupancy_miss[j].astype(float))
    if seen_miss is not None:
        np.maximum(seen_miss, np.where(up > 0, need, -1), out=seen_miss)
    down = allow_lower & (up == 0) & (served > 0) & all_excess & (need > 0)
    if seen_miss is not None:
        down &= need - 1 > seen_miss
    return need + up - down


def simulated_requirements(scenario: Scenario, targets: list[Target], spec: PlanningSpec,
                           pools: tuple[str, ...], start: np.ndarray, *, replications: int, seed: int,
                           iterations: int, run_kw: dict, coverable: np.ndarray | None = None,
                           progress: Callable[[str], None] | None = None,
                           load: Callable[[int], tuple | None] = lambda it: None,
                           save: Callable[[int, np.ndarray, np.ndarray, dict], None] = lambda *a: None,
                           ) -> tuple[np.ndarray, list[dict]]:
    """Stage 1 by simulation from ``start``; returns the requirement and one record per
    iteration (changed intervals). Where ``coverable`` is False (no shift of the pool
    can be on duty) nothing is added: contacts arriving then wait for the next shift."""
    need = start.astype(float).copy()
    seen_miss = np.full(need.shape, -1.0)
    checks = interval_targets(targets)
    history = []
    for it in range(iterations):
        stored = load(it)  # a finished iteration kept by an earlier, interrupted run
        if stored is not None:
            new, seen_miss, record = stored
        else:
            sc = requirement_scenario(scenario, pools, need)
            res = run(sc, replications, seed, **run_kw)
            a = assess(res, checks, spec)
            new = adjust(scenario, pools, need, a, checks, seen_miss, allow_lower=it < iterations - 1)
            if coverable is not None:
                new = np.where(coverable, new, np.minimum(new, need))
            record = {"iteration": it + 1, "raised": int(np.count_nonzero(new > need)),
                      "lowered": int(np.count_nonzero(new < need)), "agent_intervals": float(need.sum())}
            save(it, new, seen_miss, record)
        changed = int(np.count_nonzero(new != need))
        history.append(record)
        if progress is not None:
            progress(f"stage 1 iteration {it + 1}: {changed} interval(s) changed")
        need = new
        if changed == 0:
            break
    return need, history
