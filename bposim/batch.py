"""A resumable batch: replications written to a results directory as they finish.

Used by ``bposim run --out``. An interrupted batch (Ctrl-C, a killed process) keeps
every replication that finished; running it again with the same scenario, seed and
directory runs only the missing ones. The same seed gives the same numbers whether a
replication ran in the first attempt or the resumed one.

The directory is locked while a batch runs (a second process waits briefly, then is
told it is in use), and a report written from earlier results is removed as soon as the
results change, so it never sits beside a summary it does not describe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bposim.baseline import queue_baseline, run_baseline
from bposim.engine.model import compile_scenario
from bposim.engine.select import EngineChoice, choose_engine
from bposim.errors import InputError
from bposim.metrics import interval_starts
from bposim.montecarlo import Results, combine, run_replications
from bposim.outputs import ResultsDir, locked, remove_derived
from bposim.scenario.schema import Scenario
from bposim.workload import check_workload
from bposim.tables_csv import with_times, write_csv_tables


@dataclass
class BatchOutcome:
    results: Results | None
    directory: Path
    resumed: int  # replications found already written
    interrupted: bool


def run_to_directory(scenario: Scenario, out: str | Path, *, replications: int | None = None,
                     seed: int | None = None, workers: int | None = None,
                     executor: str = "processes", scheduler: str | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     force: bool = False, allow_large: bool = False,
                     engine: str | EngineChoice | None = None) -> BatchOutcome:
    """Run (or resume) a batch into ``out``; on Ctrl-C keep and summarise what finished.

    ``out`` must be new, empty or a results directory of the same scenario and seed;
    ``force`` writes into any other folder (replacing earlier results held there).
    Work beyond :data:`bposim.workload.LIMITS` is refused first unless ``allow_large``.
    ``engine`` (auto, simpy, fast; default the scenario's) is chosen before anything
    runs and recorded in the manifest with the fast engine's compile time. Both engines
    give identical results, so a batch may be resumed with either."""
    replications = replications or scenario.simulation.replications
    check_workload(scenario, replications, allow_large=allow_large)
    seed = scenario.simulation.seed if seed is None else seed
    ResultsDir(out, scenario, seed, replications, force=force)  # refuse before making a lock file
    engine = choose_engine(scenario, engine)
    with locked(out):
        return _run_locked(ResultsDir(out, scenario, seed, replications, force=force), scenario,
                           replications, seed, workers, executor, scheduler, progress, engine)


def _run_locked(directory: ResultsDir, scenario, replications, seed, workers, executor, scheduler,
                progress, engine: EngineChoice) -> BatchOutcome:
    if directory.force and directory.previous is None:
        directory.clear()  # another scenario's or version's results: start afresh
    if not directory.unchanged():
        remove_derived(directory.path)
    directory.start()
    already = [r for r in directory.completed() if r < replications]
    missing = [r for r in range(replications) if r not in set(already)]
    count = [len(already)]
    if progress is not None:
        progress(count[0], replications)

    def on_result(result):
        directory.write_replication(result)
        count[0] += 1
        if progress is not None:
            progress(count[0], replications)

    started = time.perf_counter()
    interrupted = False
    try:
        run_replications(scenario, missing, seed, workers=workers, executor=executor,
                         scheduler=scheduler, on_result=on_result, engine=engine)
    except KeyboardInterrupt:
        interrupted = True
    elapsed = time.perf_counter() - started
    done = [r for r in directory.completed() if r < replications]
    if not done:
        return BatchOutcome(None, directory.path, len(already), interrupted)
    results = combine(scenario, seed, directory.load_replications(done), {"seconds": elapsed}, engine)
    model = compile_scenario(scenario)
    timings = {"seconds_this_run": round(elapsed, 3), "replications_this_run": len(done) - len(already),
               **engine.timings()}
    per_interval = with_times(queue_baseline(model), scenario, interval_starts(model))
    write_csv_tables(directory.path, results, scenario)  # spreadsheet copies, keyed by time
    directory.finish(results, run_baseline(model), timings, per_interval)
    return BatchOutcome(results, directory.path, len(already), interrupted)


@dataclass(frozen=True)
class Precision:
    """A stopping rule: run until the 95 % CI half-width of ``metric`` for ``scope`` is at
    most ``half_width`` (in the metric's own units: 0.01 is one percentage point of a
    service level)."""

    metric: str
    scope: str
    half_width: float

    @classmethod
    def parse(cls, text: str) -> "Precision":
        """``METRIC@SCOPE=HALF_WIDTH``, e.g. ``service_level@queue:support=0.01``."""
        try:
            left, value = text.rsplit("=", 1)
            metric, scope = left.split("@", 1)
            half = float(value)
        except ValueError:
            raise InputError(f"precision {text!r} must look like METRIC@SCOPE=HALF_WIDTH, "
                             "e.g. service_level@queue:support=0.01") from None
        if not metric or not scope or not half > 0:
            raise InputError(f"precision {text!r}: give a metric, a scope and a half-width > 0")
        return cls(metric.strip(), scope.strip(), half)


def run_to_precision(scenario: Scenario, out: str | Path, precision: Precision, *,
                     seed: int | None = None, batch: int = 4, min_replications: int = 4,
                     max_replications: int = 200, workers: int | None = None,
                     executor: str = "processes", scheduler: str | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     force: bool = False, allow_large: bool = False,
                     engine: str | EngineChoice | None = None) -> BatchOutcome:
    """Add replications ``batch`` at a time until ``precision`` is met (or
    ``max_replications`` is reached). The number of replications run depends only on the
    seed and the rule, never on the number of workers or the engine; an interrupted run
    resumes."""
    check_workload(scenario, max_replications, allow_large=allow_large)
    n = min(max(min_replications, batch), max_replications)
    ResultsDir(out, scenario, scenario.simulation.seed if seed is None else seed, n, force=force)
    engine = choose_engine(scenario, engine)
    with locked(out):
        return _until_precise(scenario, out, precision, n, batch, max_replications, seed=seed,
                              workers=workers, executor=executor, scheduler=scheduler,
                              progress=progress, force=force, allow_large=True,  # checked
                              engine=engine)


def _until_precise(scenario, out, precision, n, batch, max_replications, **run) -> BatchOutcome:
    while True:
        outcome = run_to_directory(scenario, out, replications=n, **run)
        run["force"] = False  # only the first round may start afresh
        if outcome.interrupted or outcome.results is None:
            return outcome
        try:
            row = outcome.results.metric(precision.metric, precision.scope)
        except KeyError:
            scopes = sorted(set(outcome.results.totals["scope"]))
            raise InputError(f"no metric {precision.metric!r} for scope {precision.scope!r}; "
                             f"scopes are: {', '.join(scopes)}") from None
        half = (row["ci_high"] - row["ci_low"]) / 2
        if half <= precision.half_width or n >= max_replications:
            return outcome
        n = min(n + batch, max_replications)
