"""Experiments: compare scenario variants with common random numbers, sweep parameters.

:func:`compare` runs every scenario with the same seed. bposim's random streams are
keyed by names, so the variants see the same customers and the difference between a
variant and the base is estimated from *paired* per-replication differences: far
narrower confidence intervals than two independent runs give. :func:`sweep` runs a
grid of path-addressed settings (:mod:`bposim.overlay`) into a resumable directory.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from bposim import __version__
from bposim.batch import run_to_directory
from bposim.engine.select import EngineChoice, choose_engine
from bposim.errors import InputError, ScenarioError
from bposim.montecarlo import Results, combine, run, t_interval
from bposim.outputs import (
    ResultsDir, atomic_write_text, has_user_files, locked, read_manifest, scenario_hash,
)
from bposim.overlay import apply_overrides, parse_values
from bposim.scenario.load import load_scenario, load_scenario_data, parse_scenario
from bposim.scenario.schema import Scenario
from bposim.scenario.variants import load_variants, null_message, variants_from_data
from bposim.workload import check_workload

__all__ = ["Comparison", "compare", "comparison_table", "load_variants", "variants_from_data",
           "sweep", "sweep_grid"]

TABLE_COLUMNS = ["variant", "metric", "scope", "mean", "ci_low", "ci_high",
                 "diff_mean", "diff_ci_low", "diff_ci_high", "n"]
Progress = Callable[[int, int], None]


# --- variants ------------------------------------------------------------------------

# load_variants and variants_from_data live in bposim.scenario.variants (no pandas needed
# to check a file); they are re-exported here.


# --- compare -------------------------------------------------------------------------


@dataclass
class Comparison:
    """Results of several scenarios run with the same seed; the first is the base.

    ``table``: tidy (variant, metric, scope, mean, ci_low, ci_high, diff_mean,
    diff_ci_low, diff_ci_high, n); the difference is variant − base, its CI the
    Student-t interval of the paired per-replication differences.
    """

    results: dict[str, Results]
    table: pd.DataFrame
    seed: int
    replications: int

    @property
    def base(self) -> str:
        return next(iter(self.results))

    def row(self, variant: str, metric: str, scope: str) -> pd.Series:
        """One row of the table, e.g. ``row("more_agents", "service_level", "queue:calls")``."""
        t = self.table
        hit = t[(t["variant"] == variant) & (t["metric"] == metric) & (t["scope"] == scope)]
        if hit.empty:
            raise KeyError(f"no row for variant {variant!r}, metric {metric!r}, scope {scope!r}")
        return hit.iloc[0]

    def _repr_html_(self) -> str:
        """A compact table for Jupyter: key metrics per variant and their differences."""
        from bposim.notebook import comparison_html

        return comparison_html(self)


def _named(scenarios) -> dict[str, Scenario]:
    if isinstance(scenarios, Mapping):
        named = {str(k): v for k, v in scenarios.items()}
    else:
        named = {}
        for sc in scenarios:
            name, k = sc.name, 2
            while name in named:
                name, k = f"{sc.name} ({k})", k + 1
            named[name] = sc
    if len(named) < 1:
        raise InputError("compare needs at least one scenario")
    return named


def safe_name(name: str) -> str:
    """``name`` made safe as a folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def compare(scenarios: Mapping[str, Scenario] | Sequence[Scenario], replications: int | None = None,
            seed: int | None = None, *, workers: int | None = None, executor: str = "processes",
            out_dir: str | os.PathLike | None = None, progress: Progress | None = None,
            force: bool = False, allow_large: bool = False,
            engine: str | None = None) -> Comparison:
    """Run every scenario with the same seed and replications; the first is the base.

    ``replications`` and ``seed`` default to the base scenario's. With ``out_dir``,
    each scenario's results go to ``out_dir/<name>/`` (resumable, as ``bposim run``)
    and the table to ``out_dir/comparison.csv``. ``out_dir`` must be new, empty or a
    comparison bposim wrote (``force``: write into it anyway); it is locked meanwhile.
    Work beyond :data:`bposim.workload.LIMITS` is refused before any variant runs unless
    ``allow_large``; so is ``engine="fast"`` (or a variant's ``engine: fast``) on a
    variant the fast engine does not cover. ``engine``: auto, simpy or fast for every
    variant (default: each variant's ``simulation.engine``).
    """
    _check_work(scenarios, replications, allow_large)
    engines = [choose_engine(sc, engine) for sc in _named(scenarios).values()]
    if out_dir is None:
        return _compare(scenarios, replications, seed, workers, executor, None, progress, force,
                        engines)
    _check_comparison_dir(Path(out_dir), force)
    with locked(out_dir):
        _check_comparison_dir(Path(out_dir), force)
        atomic_write_text(Path(out_dir) / COMPARISON_MARKER, json.dumps(
            {"kind": "comparison", "bposim_version": __version__}) + "\n")
        return _compare(scenarios, replications, seed, workers, executor, out_dir, progress, force,
                        engines)


COMPARISON_MARKER = "comparison.json"


def _check_comparison_dir(out: Path, force: bool) -> None:
    """Refuse a folder that holds something other than a comparison bposim wrote."""
    if force or not has_user_files(out) or _is_comparison(out):
        return
    raise InputError(f"{out} exists and is not a bposim comparison directory; choose another "
                     "--out, or use --force to write into it")


def _is_comparison(out: Path) -> bool:
    """``out`` holds bposim's marker, or (written before the marker) a comparison table."""
    try:
        marker = json.loads((out / COMPARISON_MARKER).read_text())
        return isinstance(marker, dict) and marker.get("kind") == "comparison"
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    try:
        with open(out / "comparison.csv", encoding="utf-8") as fh:
            return fh.readline().strip() == ",".join(TABLE_COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


def _compare(scenarios, replications, seed, workers, executor, out_dir, progress, force,
             engines: list[EngineChoice]) -> Comparison:
    named = _named(scenarios)
    folders = [safe_name(name) for name in named]
    if out_dir is not None and len(set(folders)) < len(folders):
        raise InputError(f"variant names {', '.join(named)} do not give distinct folder names; rename them")
    base = next(iter(named.values()))
    replications = replications or base.simulation.replications
    seed = base.simulation.seed if seed is None else seed
    total, offset, results = replications * len(named), 0, {}
    for (name, sc), engine in zip(named.items(), engines):
        tick = None if progress is None else (lambda done, _n, o=offset: progress(o + done, total))
        if out_dir is None:
            results[name] = run(sc, replications, seed, workers=workers, executor=executor,
                                progress=tick, allow_large=True, engine=engine)  # checked by compare
        else:
            results[name] = _run_into(sc, Path(out_dir) / safe_name(name), replications, seed,
                                      workers, executor, tick, force, engine)
        offset += replications
    table = comparison_table(results)
    if out_dir is not None:
        atomic_write_text(Path(out_dir) / "comparison.csv", table.to_csv(index=False))
    return Comparison(results, table, seed, replications)


def _check_work(scenarios, replications: int | None, allow_large: bool) -> None:
    """Refuse work beyond the limits before any variant runs (see :mod:`bposim.workload`)."""
    named = _named(scenarios)
    base = next(iter(named.values()))
    for sc in named.values():
        check_workload(sc, replications or base.simulation.replications, allow_large=allow_large)


def comparison_table(results: Mapping[str, Results]) -> pd.DataFrame:
    """The tidy comparison of ``results`` (the first is the base): means, CIs and paired
    differences from the base (replications matched by index)."""
    frames = list(results.items())
    base_values = _by_replication(frames[0][1])
    rows = []
    for name, res in frames:
        values = _by_replication(res)
        diffs = values.sub(base_values)  # aligned on metric, scope and replication
        paired = {key: t_interval(g.to_numpy()) for key, g in diffs.groupby(level=[0, 1], sort=False)}
        for s in res.summary.itertuples(index=False):
            d = paired.get((s.metric, s.scope), (float("nan"),) * 3)
            rows.append((name, s.metric, s.scope, s.mean, s.ci_low, s.ci_high, *d, s.n))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _by_replication(res: Results) -> pd.Series:
    return res.totals.set_index(["metric", "scope", "replication"])["value"].astype(float)


def _run_into(scenario: Scenario, directory: Path, replications: int, seed: int, workers, executor,
              progress: Progress | None, force: bool = False,
              engine: EngineChoice | None = None) -> Results:
    """Results for ``directory``: read back if already complete, else run (or resume)."""
    manifest = directory / "manifest.json"
    if manifest.is_file() and not force:
        folder = ResultsDir(directory, scenario, seed, replications)  # checks scenario and seed
        done = [r for r in folder.completed() if r < replications]
        if len(done) == replications and read_manifest(directory).get("status") == "complete":
            if progress is not None:
                progress(replications, replications)
            return combine(scenario, seed, folder.load_replications(done))
    outcome = run_to_directory(scenario, directory, replications=replications, seed=seed,
                               workers=workers, executor=executor, progress=progress, force=force,
                               allow_large=True, engine=engine)  # compare and sweep check first
    if outcome.interrupted or outcome.results is None:
        raise KeyboardInterrupt
    return outcome.results


# --- sweep ---------------------------------------------------------------------------


def _base_data(scenario) -> tuple[dict, str, Path | None]:
    if isinstance(scenario, (str, os.PathLike)):
        load_scenario(scenario)  # the base must be valid: every problem, with lines
        data, _lines = load_scenario_data(scenario)
        return data, str(scenario), Path(scenario).parent
    if isinstance(scenario, Mapping):
        return dict(scenario), "<data>", None
    raise TypeError("sweep needs a scenario file path or plain scenario data (a dict), "
                    f"not {type(scenario).__name__}")


def sweep_grid(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the settings' values (Cartesian product, first path slowest).

    A value list may be given as text: ``"10:14:2"`` or ``"a,b"`` (see :func:`parse_values`).
    """
    if not settings:
        raise InputError("nothing to sweep: give at least one setting, e.g. pools.tier1.agents=10:14:2")
    paths, lists = [], []
    for path, values in settings.items():
        values = parse_values(values) if isinstance(values, str) else list(values)
        if not values:
            raise InputError(f"no values to sweep for {path!r}")
        paths.append(path)
        lists.append(values)
    return [dict(zip(paths, combo)) for combo in itertools.product(*lists)]


def sweep(scenario: str | os.PathLike | Mapping, settings: Mapping[str, Any],
          replications: int | None = None, seed: int | None = None, *,
          out_dir: str | os.PathLike | None = None, workers: int | None = None,
          executor: str = "processes", progress: Progress | None = None,
          force: bool = False, allow_large: bool = False, engine: str | None = None) -> pd.DataFrame:
    """Run the scenario at every grid point of ``settings`` (path → list of values).

    Returns a tidy table: point, one column per swept path, metric, scope, mean, ci_low,
    ci_high, n. With ``out_dir``, point k's results go to ``out_dir/point-<k>/``, the
    index of points to ``points.csv`` and the table to ``sweep.csv``; running the same
    sweep again reruns only what is missing. Points run one after another, each with
    its replications in parallel. Every point is validated before anything runs.
    ``out_dir`` must be new, empty or this sweep's (``force``: write into it anyway,
    replacing another sweep's results); it is locked meanwhile. ``engine``: auto, simpy or
    fast (default: the scenario's ``simulation.engine``), chosen for every point first.
    """
    data, source, base_dir = _base_data(scenario)
    data = {k: v for k, v in data.items() if k != "variants"}
    grid = sweep_grid(settings)
    scenarios = []
    for k, point in enumerate(grid):
        point_data, where = apply_overrides(data, point)
        try:
            scenarios.append(parse_scenario(point_data, source, base_dir))
        except ScenarioError as exc:
            label = ", ".join(f"{p}={'null' if v is None else repr(v)}" for p, v in point.items())
            nulls = {where[path] for path, value in point.items() if value is None}
            raise ScenarioError([replace(p, path=f"sweep point {k} ({label}): {p.path}",
                                         message=null_message(p, nulls))
                                 for p in exc.problems]) from None
    first = scenarios[0]
    replications = replications or first.simulation.replications
    _check_work(scenarios, replications, allow_large)
    engines = [choose_engine(sc, engine) for sc in scenarios]
    seed = first.simulation.seed if seed is None else seed
    if out_dir is None:
        return _sweep(grid, scenarios, replications, seed, None, workers, executor, progress, force,
                      engines)
    _write_points(Path(out_dir), grid, scenarios, seed, replications, force, check_only=True)
    with locked(out_dir):
        _write_points(Path(out_dir), grid, scenarios, seed, replications, force)
        return _sweep(grid, scenarios, replications, seed, out_dir, workers, executor, progress, force,
                      engines)


def _sweep(grid, scenarios, replications, seed, out_dir, workers, executor, progress, force, engines):
    total, parts = replications * len(grid), []
    for k, (point, sc, engine) in enumerate(zip(grid, scenarios, engines)):
        tick = None if progress is None else (lambda d, _n, o=k * replications: progress(o + d, total))
        if out_dir is None:
            res = run(sc, replications, seed, workers=workers, executor=executor, progress=tick,
                      allow_large=True, engine=engine)  # checked above
        else:
            res = _run_into(sc, Path(out_dir) / f"point-{k}", replications, seed, workers, executor,
                            tick, force, engine)
        summary = res.summary
        summary.insert(0, "point", k)
        for j, (path, value) in enumerate(point.items()):
            summary.insert(1 + j, path, [value] * len(summary))
        parts.append(summary)
    table = pd.concat(parts, ignore_index=True)
    if out_dir is not None:
        atomic_write_text(Path(out_dir) / "sweep.csv", table.to_csv(index=False))
    return table


def _write_points(out: Path, grid: list[dict], scenarios: list[Scenario], seed: int,
                  replications: int, force: bool = False, check_only: bool = False) -> None:
    """Write ``points.csv``; refuse a directory holding another sweep or anything else
    (unless ``force``)."""
    index = pd.DataFrame([{"point": k, "directory": f"point-{k}", **point,
                           "scenario_hash": scenario_hash(sc), "seed": seed,
                           "replications": replications}
                          for k, (point, sc) in enumerate(zip(grid, scenarios))])
    existing = out / "points.csv"
    if force:
        pass
    elif existing.is_file():
        try:
            old = pd.read_csv(existing, dtype=str)
        except (ValueError, UnicodeDecodeError, OSError):
            old = pd.DataFrame()
        same = (len(old) == len(index) and "scenario_hash" in old and "seed" in old
                and list(old["scenario_hash"]) == list(index["scenario_hash"])
                and set(old["seed"]) == {str(seed)})
        if not same:
            raise InputError(f"{out} holds another sweep (other settings, scenario or seed) or "
                             "a points.csv of yours; choose another --out, or use --force to "
                             "replace it")
    elif has_user_files(out):
        raise InputError(f"{out} exists and is not a bposim sweep directory; choose another --out, "
                         "or use --force to write into it")
    if not check_only:
        atomic_write_text(existing, index.to_csv(index=False))
