"""``plan()``: requirements by simulation, a least-cost schedule, checked in a closed loop,
beside the Erlang C plan through the same scheduler. See docs/planning.md."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from bposim.engine.select import EngineChoice, choose_engine
from bposim.errors import InputError
from bposim.metric_registry import scope_key
from bposim.planning.evaluate import resolve_targets, with_targets
from bposim.planning.loop import Round, closed_loop, round_row
from bposim.planning.requirements import erlang_requirements, simulated_requirements
from bposim.planning.schedule import check_feasible, solve
from bposim.planning.templates import Columns, build_columns, planned_scenario, schedule_frame
from bposim.scenario.schema import Scenario


@dataclass
class Plan:
    """A staffing plan and how it does in simulation.

    ``requirements``: agents on duty per interval and pool (Erlang C, Erlang A, simulated
    by stage 1, and ``planned_for``: what the last round's schedule was solved for).
    ``schedule``: the shifts chosen (site, pool, template, start, day, breaks, count,
    paid hours, cost). ``scenario``: the runnable planned scenario. ``attainment``: per
    queue (run, day, interval as the targets ask) value, CI, target, met. ``rounds``:
    one row per closed-loop round. ``reference``: the Erlang C plan through the same
    scheduler, evaluated by the same simulation (``None`` inside a reference).
    """

    requirements: pd.DataFrame
    schedule: pd.DataFrame
    scenario: Scenario
    cost: float
    paid_hours: float
    attainment: pd.DataFrame
    rounds: pd.DataFrame
    reference: Plan | None = None
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # simulated run-level metrics
    timings: dict = field(default_factory=dict)
    label: str = "bposim plan"

    @property
    def met(self) -> bool:
        a = self.attainment
        return not bool((a["constraint"] & a["missed_with_confidence"]).any())

    def queue_attainment(self) -> pd.DataFrame:
        """Run-level rows of ``attainment`` (one per queue and metric)."""
        return self.attainment[self.attainment["scope"] == "all"].reset_index(drop=True)

    def summary_frame(self) -> pd.DataFrame:
        """Cost, paid hours and run-level attainment as one tidy table."""
        rows = [("cost", "all", self.cost, np.nan, np.nan, np.nan),
                ("paid_hours", "all", self.paid_hours, np.nan, np.nan, np.nan)]
        s = self.summary
        if len(s):
            sim = s[(s["metric"] == "cost") & (s["scope"] == "all")]
            if len(sim):
                r = sim.iloc[0]
                rows.append(("simulated_cost", "all", r["mean"], r["ci_low"], r["ci_high"], np.nan))
        for r in self.queue_attainment().itertuples(index=False):
            rows.append((r.metric, scope_key("queue", r.queue), r.value, r.ci_low, r.ci_high, r.target))
        return pd.DataFrame(rows, columns=["metric", "scope", "value", "ci_low", "ci_high", "target"])


def _run_kw(workers, scheduler) -> dict:
    return {"workers": workers, "executor": "dask" if scheduler else "processes", "scheduler": scheduler}


def _requirements_frame(scenario: Scenario, pools, c_need, a_need, sim_need, final) -> pd.DataFrame:
    h = scenario.horizon
    starts = pd.Timestamp(h.start) + pd.to_timedelta(np.arange(h.n_intervals) * h.interval_seconds, unit="s")
    frames = [pd.DataFrame({"interval": np.arange(h.n_intervals), "start": starts, "pool": p,
                            "erlang_c": c_need[g].astype(int), "erlang_a": a_need[g].astype(int),
                            "simulated": sim_need[g].astype(int), "planned_for": final[g].astype(int)})
              for g, p in enumerate(pools)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["interval", "start", "pool", "erlang_c", "erlang_a", "simulated", "planned_for"])


def _make_plan(base: Scenario, columns: Columns, spec, rounds: list[Round], requirements, label,
               timings) -> Plan:
    last = rounds[-1]
    sched = schedule_frame(columns, last.counts, spec)
    planned = planned_scenario(base, columns, last.counts, spec)
    table = pd.DataFrame([round_row(k, r, columns, spec) for k, r in enumerate(rounds)])
    return Plan(requirements=requirements, schedule=sched, scenario=planned,
                cost=float(sched["cost"].sum()), paid_hours=float(sched["paid_hours"].sum()),
                attainment=last.attainment, rounds=table, summary=last.summary, timings=timings,
                label=label)


def plan(scenario: Scenario, *, replications: int | None = None, seed: int | None = None,
         workers: int | None = None, scheduler: str | None = None, rounds: int | None = None,
         out: str | Path | None = None, progress: Callable[[str], None] | None = None,
         force: bool = False, iterations: int | None = None, allow_large: bool = False,
         engine: str | EngineChoice | None = None) -> Plan:
    """Plan the staffing of ``scenario`` from its ``planning:`` section (see docs/planning.md).

    Every simulation uses ``replications`` replications from ``seed`` (common random
    numbers: the same customers in every iteration and round), run on ``workers``
    processes or the Dask ``scheduler``. With ``out``, finished stages are kept there and
    a rerun resumes; the final files are written at the end. Raises :class:`InputError`
    before any simulation when the plan cannot be feasible, and
    :class:`~bposim.workload.WorkloadError` when all its simulations together would be far
    too large (unless ``allow_large``). ``engine``: auto, simpy or fast for every
    simulation (default: the scenario's ``simulation.engine``), chosen once, first."""
    spec = scenario.planning
    if spec is None:
        raise InputError(f"{scenario.source or scenario.name}: the scenario has no planning section; "
                         "see docs/planning.md")
    reps = replications or spec.replications or scenario.simulation.replications
    if reps < 2:
        raise InputError("planning needs at least 2 replications to judge targets with confidence")
    seed = scenario.simulation.seed if seed is None else seed
    rounds = spec.rounds if rounds is None else rounds
    iterations = spec.iterations if iterations is None else iterations
    targets = resolve_targets(scenario, spec)
    base = with_targets(scenario, targets)
    base = replace(base, simulation=replace(base.simulation, replications=reps, seed=seed))
    from bposim.workload import check_workload

    check_workload(base, reps * (iterations + rounds + 2), allow_large=allow_large)
    run_kw = {**_run_kw(workers, scheduler), "allow_large": allow_large,
              "engine": choose_engine(base, engine)}
    say = progress or (lambda _message: None)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    columns = build_columns(base, spec)
    c_need, a_need = erlang_requirements(base, targets, spec, columns.pools)
    check_feasible(columns.problem(np.maximum(c_need, a_need), spec, base.horizon))
    for need in (c_need, a_need):  # both starting points must be schedulable before any simulation
        solve(columns.problem(need, spec, base.horizon))
    timings["setup"] = time.perf_counter() - t0

    folder = None
    if out is not None:
        from bposim.planning.outputs import PlanDir

        folder = PlanDir(out, scenario, seed, reps, force=force)
        folder.start()

    t0 = time.perf_counter()
    stored = folder.load_stage1() if folder else None
    if stored is not None:
        sim_need = stored[2]
    else:
        sim_need, _history = simulated_requirements(
            base, targets, spec, columns.pools, a_need, replications=reps, seed=seed,
            iterations=iterations, run_kw=run_kw, coverable=columns.cover_any, progress=say,
            **({"load": folder.load_iteration, "save": folder.save_iteration} if folder else {}))
        if folder:
            folder.save_stage1(c_need, a_need, sim_need)
    timings["stage1_requirements"] = time.perf_counter() - t0

    def keep(label):
        if folder is None:
            return {}
        return {"load": lambda k: folder.load_round(label, k),
                "save": lambda k, r: folder.save_round(label, k, r)}

    t0 = time.perf_counter()
    main_rounds = closed_loop(base, columns, spec, targets, sim_need, rounds=rounds, replications=reps,
                              seed=seed, run_kw=run_kw, progress=say, **keep("plan"))
    timings["stage2_schedule"] = sum(r.seconds.get("solve", 0.0) for r in main_rounds)
    timings["stage3_simulate"] = max(time.perf_counter() - t0 - timings["stage2_schedule"], 0.0)
    t0 = time.perf_counter()
    ref_rounds = closed_loop(base, columns, spec, targets, c_need, rounds=0, replications=reps,
                             seed=seed, run_kw=run_kw, progress=say, **keep("reference"))
    timings["reference"] = time.perf_counter() - t0

    req = _requirements_frame(base, columns.pools, c_need, a_need, sim_need, main_rounds[-1].need)
    ref_req = _requirements_frame(base, columns.pools, c_need, a_need, sim_need, c_need)
    reference = _make_plan(base, columns, spec, ref_rounds, ref_req, "Erlang C plan", {})
    result = _make_plan(base, columns, spec, main_rounds, req, "bposim plan", timings)
    result.reference = reference
    if folder is not None:
        from bposim.planning.report import summary_text
        from bposim.planning.yamlout import planned_yaml

        texts = []
        for p, sub in ((result, ""), (reference, "reference")):
            dest = (folder.path / sub if sub else folder.path) / "planned.yaml"
            texts.append((p, sub, planned_yaml(scenario, p.scenario, columns.pools, dest)))
        for p, sub, text in texts:  # every file checked before any is written
            folder.write_plan(p, summary_text(p), text, sub)
        folder.manifest("complete", timings)
    return result
