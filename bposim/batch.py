"""A resumable batch: replications written to a results directory as they finish.

Used by ``bposim run --out``. An interrupted batch (Ctrl-C, a killed process) keeps
every replication that finished; running it again with the same scenario, seed and
directory runs only the missing ones. The same seed gives the same numbers whether a
replication ran in the first attempt or the resumed one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bposim.baseline import queue_baseline, run_baseline
from bposim.engine.model import compile_scenario
from bposim.montecarlo import Results, combine, run_replications
from bposim.outputs import ResultsDir
from bposim.scenario.schema import Scenario


@dataclass
class BatchOutcome:
    results: Results | None
    directory: Path
    resumed: int  # replications found already written
    interrupted: bool


def run_to_directory(scenario: Scenario, out: str | Path, *, replications: int | None = None,
                     seed: int | None = None, workers: int | None = None,
                     executor: str = "processes", scheduler: str | None = None,
                     progress: Callable[[int, int], None] | None = None) -> BatchOutcome:
    """Run (or resume) a batch into ``out``; on Ctrl-C keep and summarise what finished."""
    replications = replications or scenario.simulation.replications
    seed = scenario.simulation.seed if seed is None else seed
    directory = ResultsDir(out, scenario, seed, replications)
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
                         scheduler=scheduler, on_result=on_result)
    except KeyboardInterrupt:
        interrupted = True
    elapsed = time.perf_counter() - started
    done = [r for r in directory.completed() if r < replications]
    if not done:
        return BatchOutcome(None, directory.path, len(already), interrupted)
    results = combine(scenario, seed, directory.load_replications(done), {"seconds": elapsed})
    model = compile_scenario(scenario)
    timings = {"seconds_this_run": round(elapsed, 3), "replications_this_run": len(done) - len(already)}
    directory.finish(results, run_baseline(model), timings, queue_baseline(model))
    return BatchOutcome(results, directory.path, len(already), interrupted)
