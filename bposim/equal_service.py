"""Compare scenario variants at equal service: each staffed to the least that meets the levels.

A plain comparison runs every variant with the staffing it was given, so one sourcing
mix may look cheaper only because it answers fewer calls. Here each variant is first
staffed to the least that meets the requested service level of every named queue,
then all are compared (cost and every queue's service, with confidence intervals on
the paired differences, as :func:`bposim.experiments.compare`).

How a variant is staffed, reported per variant:

- ``plan``: the variant has a ``planning:`` section; :func:`bposim.planning.plan`
  builds its shifts, with the requested level put into the section's targets of those
  queues (the plan checks them per interval or day, as the section says: stricter than
  the run-level check below, so a plan may carry some headroom).
- ``uniform scale``: otherwise every pool's headcount (agents, each interval's count,
  each shift's agents) is multiplied by one factor s and rounded up, and the least s
  that meets the levels is found by bisection. Every trial runs with the same seed
  (common random numbers), so service rises with s with little noise between trials.

A level is **met** when the mean over replications of the queue's run-level service
level (its own definition and threshold) is at least the level. The mean, not the CI's
lower bound: the lower bound falls as replications grow, so the staffing found, and
the cost compared, would depend on the number of replications; the mean does not. The
table shows each variant's service level with its CI so the margin can be judged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from bposim.errors import InputError
from bposim.experiments import Comparison, _named, comparison_table
from bposim.metric_registry import in_scope, scope_key
from bposim.montecarlo import Results, run
from bposim.outputs import atomic_write_text
from bposim.scenario.schema import Scenario, ServiceLevelTarget, Staffing
from bposim.workload import check_workload

__all__ = ["EqualService", "compare_at_service", "scale_staffing", "parse_levels"]

MAX_SCALE = 16.0  # the search gives up beyond 16 × the variant's staffing
TOLERANCE = 1e-3  # bisection stops when the factor is known to this width
MAX_TRIALS = 40  # simulations per variant at most
PLAN, SCALE = "plan", "uniform scale"
Say = Callable[[str], None]


@dataclass
class EqualService:
    """Variants compared at the least staffing meeting ``levels`` (queue → level).

    ``comparison``: the results and tidy table (as :func:`bposim.experiments.compare`);
    ``methods``: ``plan`` or ``uniform scale`` per variant; ``scales``: the staffing
    found as a multiple of the variant's own (agent-hours on the roster, after rounding
    up; ``None`` for a plan); ``scenarios``: the staffed scenarios; ``trials``:
    simulations run in the search (``None`` for a plan: the planner runs its own).
    """

    comparison: Comparison
    levels: dict[str, float]
    methods: dict[str, str]
    scales: dict[str, float | None]
    scenarios: dict[str, Scenario]
    trials: dict[str, int | None]

    @property
    def table(self) -> pd.DataFrame:
        return self.comparison.table

    def summary(self) -> pd.DataFrame:
        """One row per variant: method, factor, cost and each level's queue service (± CI)."""
        rows = []
        for name, res in self.comparison.results.items():
            s = res.summary.set_index(["metric", "scope"])
            row = {"variant": name, "method": self.methods[name], "scale": self.scales[name],
                   "trials": self.trials[name]}
            if ("cost", "all") in s.index:
                r = s.loc[("cost", "all")]
                row |= {"cost": r["mean"], "cost_ci_low": r["ci_low"], "cost_ci_high": r["ci_high"]}
            paid = res.summary[(res.summary["metric"] == "paid_hours")
                               & in_scope(res.summary["scope"], "pool")]
            row["paid_hours"] = float(paid["mean"].sum())
            for queue, level in self.levels.items():
                r = s.loc[("service_level", scope_key("queue", queue))]
                row |= {f"{queue}_service_level": r["mean"], f"{queue}_ci_low": r["ci_low"],
                        f"{queue}_ci_high": r["ci_high"], f"{queue}_met": bool(r["mean"] >= level)}
            rows.append(row)
        return pd.DataFrame(rows)


def parse_levels(items: Sequence[str]) -> dict[str, float]:
    """``["calls=0.8", "chat=80%"]`` → ``{"calls": 0.8, "chat": 0.8}`` (InputError if bad)."""
    levels: dict[str, float] = {}
    for text in items:
        queue, sep, value = text.partition("=")
        queue, value = queue.strip(), value.strip()
        if not sep or not queue or not value:
            raise InputError(f"--at-service-level {text!r}: write QUEUE=LEVEL, e.g. calls=0.80")
        try:
            level = float(value[:-1]) / 100 if value.endswith("%") else float(value)
        except ValueError:
            raise InputError(f"--at-service-level {text!r}: {value!r} is not a number") from None
        if not 0 < level < 1:
            raise InputError(f"--at-service-level {text!r}: the level must be above 0 and below 1 "
                             "(or a percentage below 100%)")
        if queue in levels:
            raise InputError(f"--at-service-level names queue {queue!r} twice")
        levels[queue] = level
    return levels


def scale_staffing(scenario: Scenario, factor: float) -> Scenario:
    """``scenario`` with every pool's headcount × ``factor``, rounded up (0 stays 0)."""
    def up(n: int) -> int:
        return int(math.ceil(n * factor - 1e-9))

    pools = []
    for pool in scenario.pools:
        st = pool.staffing
        if st.agents is not None:
            new = Staffing(agents=up(st.agents))
        elif st.per_interval is not None:
            new = Staffing(per_interval=tuple(up(n) for n in st.per_interval))
        else:
            new = Staffing(shifts=tuple(replace(s, agents=up(s.agents)) for s in st.shifts))
        pools.append(replace(pool, staffing=new))
    return replace(scenario, pools=tuple(pools))


def compare_at_service(scenarios: Mapping[str, Scenario] | Sequence[Scenario],
                       levels: Mapping[str, float], replications: int | None = None,
                       seed: int | None = None, *, workers: int | None = None,
                       executor: str = "processes", out_dir: str | Path | None = None,
                       force: bool = False, progress: Say | None = None,
                       allow_large: bool = False) -> EqualService:
    """Staff each variant to the least that meets ``levels``, then compare them.

    ``levels`` maps queue ids to service levels (e.g. ``{"calls": 0.8}``); see the
    module docstring for the two methods and what "meets" means. ``replications`` and
    ``seed`` (default: the base's) serve every trial and the final comparison. With
    ``out_dir``, ``comparison.csv`` and ``equal_service.csv`` are written there
    (existing ones only with ``force``). Raises :class:`InputError` when a queue is
    unknown or a level cannot be met within :data:`MAX_SCALE` × the staffing, and
    :class:`~bposim.workload.WorkloadError` when a variant, or a trial staffing, would
    exceed the work limits (unless ``allow_large``); variants are checked before any
    simulation.
    """
    named = _named(scenarios)
    levels = dict(levels)
    if not levels:
        raise InputError("give at least one service level, e.g. {'calls': 0.8}")
    for name, sc in named.items():
        ids = {q.id for q in sc.queues}
        for queue, level in levels.items():
            if queue not in ids:
                raise InputError(f"variant {name!r} has no queue {queue!r}; its queues are "
                                 f"{', '.join(sorted(ids)) or 'none'}")
            if not 0 < level < 1:
                raise InputError(f"service level for {queue!r} must be above 0 and below 1, got {level}")
    base = next(iter(named.values()))
    replications = replications or base.simulation.replications
    if replications < 2:
        raise InputError("an equal-service comparison needs at least 2 replications")
    seed = base.simulation.seed if seed is None else seed
    for sc in named.values():
        check_workload(sc, replications, allow_large=allow_large)
    files = []
    if out_dir is not None:
        files = [Path(out_dir) / "comparison.csv", Path(out_dir) / "equal_service.csv"]
        taken = [str(f) for f in files if f.exists()]
        if taken and not force:
            raise InputError(f"{', '.join(taken)} already exist; use --force to replace them")
    say = progress or (lambda _message: None)

    def simulate(sc: Scenario) -> Results:
        return run(sc, replications, seed, workers=workers, executor=executor,
                   allow_large=allow_large)

    results, methods, scales, staffed, trials = {}, {}, {}, {}, {}
    for name, sc in named.items():
        if getattr(sc, "planning", None) is not None:
            say(f"{name}: planning shifts for the levels")
            staffed[name] = _planned(sc, levels, replications, seed, workers)
            results[name], methods[name], scales[name], trials[name] = (
                simulate(staffed[name]), PLAN, None, None)
        else:
            scale, res, n = _least_scale(name, sc, levels, simulate, say)
            staffed[name] = scale_staffing(sc, scale)
            results[name], methods[name], trials[name] = res, SCALE, n
            scales[name] = _rostered(staffed[name]) / _rostered(sc)
        say(f"{name}: {methods[name]}" + (f" × {scales[name]:.3f}" if scales[name] else ""))
    comparison = Comparison(results, comparison_table(results), seed, replications)
    outcome = EqualService(comparison, levels, methods, scales, staffed, trials)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(files[0], comparison.table.to_csv(index=False))
        atomic_write_text(files[1], outcome.summary().to_csv(index=False))
    return outcome


def _rostered(sc: Scenario) -> float:
    """Agent-hours on the roster over the horizon (before shrinkage, breaks, absence)."""
    from bposim.engine.roster import agent_spans

    sites = {s.id: s.timezone for s in sc.sites}
    total = 0.0
    for pool in sc.pools:
        spans = agent_spans(pool.staffing, sc.horizon, sites.get(pool.site), ())
        total += sum(s[1] - s[0] for agent in spans for s in agent) / 3600.0
    return total


def _staffed(sc: Scenario) -> bool:
    """Some pool has an agent somewhere."""
    return any((p.staffing.agents or 0) > 0 or any(p.staffing.per_interval or ())
               or any(s.agents for s in p.staffing.shifts) for p in sc.pools)


def _meets(res: Results | None, levels: Mapping[str, float]) -> bool:
    if res is None:
        return False
    s = res.summary.set_index(["metric", "scope"])["mean"]
    return all(s.get(("service_level", scope_key("queue", q)), -1.0) >= level for q, level in levels.items())


def _least_scale(name: str, sc: Scenario, levels, simulate, say) -> tuple[float, Results, int]:
    """The least factor s (to :data:`TOLERANCE`) whose staffing meets ``levels``, its
    results, and the number of simulations run. Trials with the same rounded staffing
    as one already run reuse its result."""
    if not _staffed(sc):
        raise InputError(f"variant {name!r} has no agents to scale; give its pools some staffing")
    seen: dict[tuple, Results] = {}

    def trial(s: float) -> Results | None:
        scaled = scale_staffing(sc, s)
        if not _staffed(scaled):
            return None  # nobody to answer: no level is met
        key = tuple(p.staffing for p in scaled.pools)
        if key not in seen:
            if len(seen) >= MAX_TRIALS:
                raise InputError(f"variant {name!r}: no staffing found within {MAX_TRIALS} simulations")
            say(f"{name}: trying staffing × {s:.3f}")
            seen[key] = simulate(scaled)
        return seen[key]

    lo, hi = 0.0, 1.0
    best = trial(hi)
    while not _meets(best, levels):
        if hi >= MAX_SCALE:
            s = best.summary.set_index(["metric", "scope"])["mean"]
            short = ", ".join(f"{q} {s.get(('service_level', scope_key('queue', q)), float('nan')):.1%}"
                              for q in levels)
            raise InputError(f"variant {name!r} does not reach the service levels even at "
                             f"{MAX_SCALE:g} × its staffing ({short}); check its pools and skills")
        lo, hi = hi, min(2 * hi, MAX_SCALE)
        best = trial(hi)
    while hi - lo > TOLERANCE:
        mid = (lo + hi) / 2
        res = trial(mid)
        if _meets(res, levels):
            hi, best = mid, res
        else:
            lo = mid
    return hi, best, len(seen)


def _planned(sc: Scenario, levels, replications: int, seed: int, workers) -> Scenario:
    """The scenario ``bposim.planning.plan`` staffs, with ``levels`` in its targets."""
    try:
        from bposim.planning import plan
        from bposim.scenario.planning import QueueTarget
    except ImportError as exc:  # planning is an optional part of this installation
        raise InputError(f"{sc.name}: has a planning section but planning is unavailable: {exc}") \
            from None
    spec = sc.planning
    targets = {t.queue: t for t in spec.targets}
    for queue, level in levels.items():
        own = sc.queue(queue).service_level
        old = targets.get(queue) or QueueTarget(queue=queue)
        sl = old.service_level or own
        targets[queue] = replace(old, service_level=ServiceLevelTarget(
            answer_within=sl.answer_within, target=level, definition=sl.definition))
    spec = replace(spec, targets=tuple(targets.values()))
    return plan(replace(sc, planning=spec), replications=replications, seed=seed,
                workers=workers).scenario
