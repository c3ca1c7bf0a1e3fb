"""Shared helpers of the experiment scripts: command line, scenario builders, batch
runs in one process pool, confidence intervals and the figure style.

Every script in this folder is ``NN_name.py`` with ``main(argv=None)``; scripts import
this module by putting their own folder on ``sys.path`` (the file names start with a
digit, so they are loaded by path: see :func:`load_experiment`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import math
import os
import sys
import time
from collections.abc import Hashable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bposim.distributions import DistributionSpec, exponential  # noqa: E402
import bposim  # noqa: E402
from bposim import Results  # noqa: E402
from bposim.montecarlo import t_interval  # noqa: E402
from bposim.report.figures import palette  # noqa: E402
from bposim.scenario.schema import (  # noqa: E402
    Arrivals, Horizon, Pool, Queue, Scenario, ServiceLevelTarget, SimulationSettings, Skill,
    Staffing,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
SCENARIOS = REPO / "scenarios"
MONDAY = dt.date(2026, 1, 5)
DPI = 110


# --- command line ----------------------------------------------------------------------


def parser(description: str, seed: int) -> argparse.ArgumentParser:
    """The flags every experiment takes: --quick, --out, --workers, --seed."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="reduced size for CI (a few seconds); the README's numbers are full runs")
    p.add_argument("--out", type=Path, default=RESULTS,
                   help=f"output directory for the CSV table(s) and PNG figure(s) (default {RESULTS})")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    return p


def load_experiment(name: str):
    """Import ``experiments/<name>.py`` (e.g. ``01_erlang_validation``) as a module."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module_name = "bposim_experiment_" + name
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


# --- scenarios -------------------------------------------------------------------------


def single_queue(load: float, aht: float, agents: int, *, patience: float | None = None,
                 hours: float = 8.0, warmup_minutes: float = 60.0, answer_within: float = 20.0,
                 target: float = 0.8, handle_time: DistributionSpec | None = None,
                 interval_minutes: int = 30, days: int | None = None) -> Scenario:
    """An M/M/n (M/M/n+M with ``patience``) queue of ``load`` Erlangs.

    Arrivals run at a constant rate from 0:00 for ``hours`` (including the warm-up),
    then stop; the horizon (``days`` whole days; by default enough for at least one
    more hour) runs on so that every contact is answered or abandons, and no
    end-of-horizon censoring touches the metrics.
    """
    if days is None:
        days = math.ceil((hours + 1.0) / 24.0)
    per_day = 24 * 60 // interval_minutes
    total = days * per_day
    busy = int(round(hours * 60 / interval_minutes))
    if busy >= total:
        raise ValueError(f"{hours} h of arrivals leave no time to drain in {days} day(s)")
    volume = load / aht * interval_minutes * 60  # contacts per interval
    volumes = tuple([volume] * busy + [0.0] * (total - busy))
    queue = Queue(id="q", handle_time=handle_time or exponential(aht),
                  arrivals=Arrivals(volumes=volumes),
                  patience=exponential(patience) if patience and math.isfinite(patience) else None,
                  service_level=ServiceLevelTarget(answer_within=answer_within, target=target,
                                                   definition="offered"))
    return Scenario(
        name=f"M/M/{agents}{'+M' if queue.patience else ''} load {load:g}",
        horizon=Horizon(start=MONDAY, days=days, interval_minutes=interval_minutes),
        queues=(queue,),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=int(agents))),),
        simulation=SimulationSettings(warmup_minutes=warmup_minutes),
    )


def arrival_hours(load: float, aht: float, contacts: float, warmup_minutes: float,
                  least: float = 1.0) -> float:
    """Hours of arrivals (warm-up included, in whole half-hours) that give about
    ``contacts`` measured contacts at ``load`` Erlangs, and at least ``least`` hours
    after the warm-up."""
    per_hour = load / aht * 3600
    measure = max(contacts / per_hour, least)
    return math.ceil(2 * (measure + warmup_minutes / 60)) / 2


# --- running ---------------------------------------------------------------------------


def run_many(scenarios: Mapping[Hashable, Scenario], replications: int, seed: int,
             workers: int = 2) -> dict[Hashable, Results]:
    """``bposim.run`` of every scenario with the same ``seed`` and ``replications``
    (common random numbers: replication r of each sees the same customers wherever the
    scenarios agree). ``workers`` <= 1 runs in this process."""
    out = {}
    for key, scenario in scenarios.items():
        executor = "serial" if workers <= 1 else "processes"
        out[key] = bposim.run(scenario, replications, seed, workers=max(workers, 1),
                              executor=executor)
    return out


def per_replication(results: Results, metric: str, scope: str) -> np.ndarray:
    """The run-level value of ``metric`` for ``scope`` in each replication, in order."""
    t = results.totals
    rows = t[(t["metric"] == metric) & (t["scope"] == scope)].sort_values("replication")
    return rows["value"].to_numpy(dtype=float)


# Mean and Student-t limits of replication values: the same interval bposim reports.
interval = t_interval


# --- output ----------------------------------------------------------------------------


def out_dir(path: os.PathLike | str | None) -> Path:
    folder = Path(path) if path is not None else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_csv(frame: pd.DataFrame, path: Path, digits: int = 6) -> Path:
    """Write ``frame`` rounded to ``digits`` significant decimals (small, diff-friendly)."""
    frame.round(digits).to_csv(path, index=False)
    return path


def figure(rows: int = 1, cols: int = 1, *, title: str, size: tuple[float, float] = (10.0, 5.0),
           sharex: bool = False):
    """A constrained-layout Figure (no pyplot state) with ``rows`` × ``cols`` axes."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=sharex)
    fig.suptitle(title)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    return fig, axes


def save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def colours(ids) -> dict:
    """The report's fixed palette (bposim.report.figures.palette) keyed by ``str(id)``."""
    return palette([str(i) for i in ids])


def show(frame: pd.DataFrame, columns: list[str] | None = None, floatfmt: str = ".4g") -> str:
    """A plain-text table for the console (no extra dependencies)."""
    f = frame if columns is None else frame[columns]
    return f.to_string(index=False, float_format=lambda x: format(x, floatfmt))


def stopwatch():
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


def start(doc: str, seed: int, argv=None):
    """Parse the standard flags; return (args, output folder, stopwatch)."""
    args = parser(doc.splitlines()[0], seed).parse_args(argv)
    return args, out_dir(args.out), stopwatch()


# --- steady-state M/M/n(+M) points and simulation-based staffing -------------------------


def relaxation_seconds(load: float, agents: int, aht: float) -> float:
    """Relaxation time of the M/M/n queue-length process, aht / (sqrt(n) - sqrt(R))^2:
    the inverse spectral gap of the birth-death chain. Near full load it is long, so
    warm-up and run length must grow with it to keep bias and noise down."""
    return aht / (math.sqrt(agents) - math.sqrt(load)) ** 2


class SteadyState:
    """Simulated steady-state points (load, patience, agents) of an M/M/n(+M) queue,
    cached; every agent count of one (load, patience) gets the same horizon and seed,
    so the points share their customers (common random numbers).

    ``cfg``: replications, contacts (measured per replication, at least), warmup_minutes,
    least_hours (measured), and for queues without abandonment relax_warmup and
    relax_measure: multiples of the relaxation time at ``slowest(load)`` agents.
    """

    def __init__(self, cfg: Mapping, seed: int, workers: int, *, aht: float,
                 answer_within: float, target: float, slowest):
        self.cfg, self.seed, self.workers = dict(cfg), seed, workers
        self.aht, self.answer_within, self.target = aht, answer_within, target
        self.slowest = slowest
        self.results: dict[tuple, Results] = {}

    def scenario(self, load: float, patience: float, agents: int) -> Scenario:
        c, aht = self.cfg, self.aht
        warmup, contacts = c["warmup_minutes"], c["contacts"]
        if math.isinf(patience):
            n = max(self.slowest(load), math.floor(load) + 1)
            tau = relaxation_seconds(load, n, aht)
            warmup = max(warmup, math.ceil(c["relax_warmup"] * tau / 1800) * 30)
            contacts = max(contacts, c["relax_measure"] * tau * load / aht)
        hours = arrival_hours(load, aht, contacts, warmup, c["least_hours"])
        return single_queue(load, aht, agents, patience=patience, hours=hours,
                            warmup_minutes=warmup, answer_within=self.answer_within,
                            target=self.target)

    def ensure(self, keys) -> None:
        todo = {k: self.scenario(*k) for k in dict.fromkeys(keys) if k not in self.results}
        if todo:
            self.results.update(run_many(todo, self.cfg["replications"], self.seed, self.workers))

    def values(self, key, metric: str) -> np.ndarray:
        return per_replication(self.results[key], metric, "queue:q")

    def requirement(self, starts: Mapping[tuple, int], metric: str = "sl_offered",
                    rounds: int = 12) -> dict[tuple, int]:
        """For each (load, patience) -> starting guess, the smallest agent count n whose
        simulated ``metric`` (mean over replications) reaches the target while n − 1's
        does not; searched outwards from the guess, all searches batched together."""
        window = {k: {n - 1, n} for k, n in starts.items()}
        found: dict[tuple, int] = {}
        for _ in range(rounds):
            self.ensure([(*k, n) for k, ns in window.items() if k not in found for n in ns])
            for k, ns in window.items():
                if k in found:
                    continue
                ok = sorted(n for n in ns if self.values((*k, n), metric).mean() >= self.target)
                if not ok:
                    window[k] = ns | {max(ns) + 1}
                elif ok[0] == min(ns) and ok[0] > 1:
                    window[k] = ns | {ok[0] - 1}
                else:
                    found[k] = ok[0]
            if len(found) == len(window):
                break
        return found
