"""``bposim compare`` and ``bposim sweep``: experiments over scenario variants."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bposim.cli.common import ProgressBar, engine_notes, engine_option, fail, user_errors
from bposim.cli.tables import with_ci
from bposim.numfmt import CI_NOTE

if TYPE_CHECKING:  # pandas and bposim.outputs load only when a command runs (fast --help)
    import pandas as pd

_EXECUTORS = click.Choice(["processes", "serial", "dask"])


def _present(summary: pd.DataFrame, metric: str, scope: str) -> bool:
    return bool(((summary["metric"] == metric) & (summary["scope"] == scope)).any())


def _has_cost(summaries) -> bool:
    """Cost metrics exist and some variant has a cost (0 everywhere: no rates given)."""
    for s in summaries:
        row = s[(s["metric"] == "cost") & (s["scope"] == "all")]
        if not row.empty and row["mean"].abs().max() > 0:
            return True
    return False


def _signed(mean: float, low: float, high: float, kind: str) -> str:
    """A difference: ``+2.3 pp ± 0.8`` (percentage points) or ``-4.1 ± 1.2``."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    scale, unit = (100.0, " pp") if kind == "pct" else (1.0, "")
    digits = 2 if kind == "cost" else 0 if kind == "int" else 1
    text = f"{scale * mean:+,.{digits}f}{unit}"
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return text
    return f"{text} ± {scale * (high - low) / 2:,.{digits}f}"


def _compare_rows(comparison) -> list[tuple[str, str, str, str]]:
    """(label, metric, scope, kind) of the rows the compare table shows; labels and
    formats from the metric registry (kind ``cost``: money with cents)."""
    from bposim.metric_registry import digits, find, heading, kind, scope_key

    def row(prefix: str, metric: str, scope: str, currency: str | None = None):
        fmt = "cost" if digits(metric, scope) == 2 else kind(metric, scope)
        return (f"{prefix}{heading(metric, scope, currency)}", metric, scope, fmt)

    first = [r.scenario for r in comparison.results.values()]
    summaries = [r.summary for r in comparison.results.values()]
    rows, seen = [], set()
    for sc in first:
        for q in sc.queues:
            if q.id in seen:
                continue
            seen.add(q.id)
            scope = scope_key("queue", q.id)
            # only the figures of the queue's channel: an email queue has no ASA or abandonment
            rows += [row(f"{q.id}: ", m, scope) for m in ("service_level", "asa", "abandon_rate")
                     if find(m, "queue").applies_to(q)]
    pools = {p.id: p.tier for sc in first for p in sc.pools}
    for pool, tier in pools.items():
        rows.append(row(f"{pool}{' (SME)' if tier == 'sme' else ''}: ", "utilisation", scope_key("pool", pool)))
    run = scope_key("run")
    if any(_present(s, "sme_utilisation", run) for s in summaries):
        rows.append(row("", "sme_utilisation", run))
    campaigns = {c.id for sc in first for c in getattr(sc, "campaigns", ())}
    for cid in sorted(campaigns):
        scope = scope_key("campaign", cid)
        rows += [row(f"{cid}: ", m, scope) for m in ("connected", "right_party", "abandon_rate")]
    if _has_cost(summaries):
        currency = getattr(first[0], "currency", "") or None
        rows += [row("", "cost", run, currency), row("", "cost_per_contact", run, currency)]
    return rows


def comparison_text(comparison, pairs: list[tuple[str, str]] | None = None, width: int | None = None) -> str:
    """The side-by-side table: base ± CI, then each variant ± CI and its difference;
    ``pairs`` (metric, scope) choose the rows (``--metric``). Wrapped to ``width``."""
    from bposim.cli.columns import check_metrics, fit
    from bposim.numfmt import metric_kind

    names = list(comparison.results)
    if pairs:
        check_metrics(pairs, comparison.table[comparison.table["variant"] == names[0]])
    t = comparison.table.set_index(["variant", "metric", "scope"])
    headers = ["", f"{names[0]} (base)"]
    for name in names[1:]:
        headers += [name, f"Δ {name}"]
    body = []
    chosen = ([(f"{m}@{s}", m, s, metric_kind(m)) for m, s in pairs] if pairs
              else _compare_rows(comparison))
    for label, metric, scope, kind in chosen:
        cell_kind, digits = ("num", 2) if kind == "cost" else (kind, 1)
        row = [label]
        for i, name in enumerate(names):
            if (name, metric, scope) not in t.index:
                row += ["-"] if i == 0 else ["-", "-"]
                continue
            r = t.loc[(name, metric, scope)]
            row.append(with_ci(r["mean"], r["ci_low"], r["ci_high"], kind=cell_kind, digits=digits))
            if i > 0:
                row.append(_signed(r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], kind))
        body.append(row)
    return fit(headers, body, width)


def _scenarios_from_files(files: tuple[Path, ...]) -> dict:
    from bposim.experiments import load_variants

    named: dict = {}
    for path in files:
        found = load_variants(path)
        base_name = next(iter(found))
        for name, sc in found.items():
            key = name if len(files) == 1 else (path.stem if name == base_name else f"{path.stem}.{name}")
            k, unique = 2, key
            while unique in named:
                unique, k = f"{key}-{k}", k + 1
            named[unique] = sc
    if len(named) < 2:
        fail(f"{files[0]} has no variants: give a second scenario file, or add a top-level "
             "'variants:' mapping (see docs/experiments.md)")
    return named


def _cost_figure(comparison, out: Path) -> Path | None:
    """Write cost_vs_service_level.png when the variants have costs (and remove one left
    by an earlier comparison when they have none: it would describe other results)."""
    summaries = {name: r.summary for name, r in comparison.results.items()}
    path = out / "cost_vs_service_level.png"
    frame = None
    if _has_cost(summaries.values()):
        from bposim.report.figures import cost_service_frame

        frame = cost_service_frame(summaries)
    if frame is None:
        path.unlink(missing_ok=True)
        return None
    from bposim.report.figures import cost_service_figure

    currency = getattr(next(iter(comparison.results.values())).scenario, "currency", "")
    fig = cost_service_figure(frame, cost_label=f"cost ({currency})" if currency else "cost")
    from bposim.outputs import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    return path


@click.command("compare")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-n", "--replications", type=click.IntRange(min=2),
              help="Replications per variant (default: the base scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed shared by all variants (default: the base's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores).")
@click.option("--executor", type=_EXECUTORS, default="processes", show_default=True,
              help="Where replications run.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: results/compare-<base file name>).")
@click.option("--force", is_flag=True,
              help="Write into OUT even if it holds other files or results (replacing them).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--allow-large", is_flag=True,
              help="Run even when the work estimate exceeds the limits.")
@click.option("--at-service-level", "levels", multiple=True, metavar="QUEUE=LEVEL",
              help="Compare at equal service: staff each variant to the least that meets this "
                   "service level for QUEUE (e.g. calls=0.80), then compare. Repeatable.")
@click.option("--metric", "metrics", multiple=True, metavar="NAME@SCOPE",
              help="A column to show, as NAME@SCOPE (e.g. service_level@queue:sme, "
              "utilisation@pool:experts, sl_offered@all); repeatable. Default: every queue's "
              "service level and every pool's utilisation (SMEs included), overall SL and cost.")
@engine_option
@user_errors
@engine_notes
def compare_command(scenarios, replications, seed, workers, executor, out, force, quiet, allow_large,
                    levels, metrics, engine):
    """Compare scenario variants with common random numbers.

    Give two or more scenario files (the first is the base), or one file with a
    top-level 'variants:' mapping. Every variant runs with the same seed, so the
    differences from the base (Δ, with 95 % CIs of the paired differences) are far
    less noisy than separate runs. Writes comparison.csv, each variant's results and,
    when costs are known, cost_vs_service_level.png. Rerunning resumes."""
    from bposim.cli.columns import parse_metric
    from bposim.experiments import compare

    pairs = [parse_metric(m) for m in metrics]  # a malformed --metric fails before anything runs
    named = _scenarios_from_files(scenarios)
    base = next(iter(named.values()))
    reps = replications or base.simulation.replications
    if reps < 2:
        fail("confidence intervals need at least 2 replications; use -n 2 or more")
    if levels:  # equal service: see bposim.equal_service
        from bposim.cli.equal_cmds import run_equal_service
        from bposim.scenario.schema import with_settings

        from bposim.engine.select import choose_engine

        if engine:
            named = {name: with_settings(sc, engine=engine) for name, sc in named.items()}
        for sc in named.values():  # engine: fast on a variant it cannot cover fails before any runs
            choose_engine(sc)
        run_equal_service(named, levels, scenarios[0].stem, reps, seed, workers, executor, out,
                          force, quiet, allow_large)
        return
    out = out or Path("results") / f"compare-{scenarios[0].stem}"
    try:
        with ProgressBar("replications", reps * len(named), quiet) as bar:
            comparison = compare(named, reps, seed, workers=workers, executor=executor,
                                 out_dir=out, progress=bar, force=force, allow_large=allow_large,
                                 engine=engine)
    except KeyboardInterrupt:
        click.echo(f"\nInterrupted: finished replications are kept in {out}; "
                   "run the same command again to resume.", err=True)
        raise SystemExit(130) from None
    click.echo(f"\n{base.name}: {len(named)} variants, {comparison.replications} replication(s) "
               f"each, common seed {comparison.seed}.")
    click.echo(f"{CI_NOTE}; Δ is the variant minus the base, with the CI of the "
               "paired differences (pp: percentage points).\n")
    click.echo(comparison_text(comparison, pairs))
    figure = _cost_figure(comparison, out)
    click.echo(f"\nComparison written to {out / 'comparison.csv'}"
               + (f"; cost vs service level in {figure}" if figure else ""))


@click.command("sweep")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "settings", multiple=True, required=True, metavar="PATH=VALUES",
              help="A setting to sweep: START:STOP:STEP (STOP included), a,b,c or one value. "
                   "Repeat for a grid, e.g. --set pools.tier1.agents=10:14:2.")
@click.option("-n", "--replications", type=click.IntRange(min=2),
              help="Replications per point (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for every point (default: the scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores).")
@click.option("--executor", type=_EXECUTORS, default="processes", show_default=True,
              help="Where replications run.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: results/sweep-<scenario file name>).")
@click.option("--force", is_flag=True,
              help="Write into OUT even if it holds other files or results (replacing them).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--allow-large", is_flag=True,
              help="Run even when the work estimate exceeds the limits.")
@click.option("--metric", "metrics", multiple=True, metavar="NAME@SCOPE",
              help="A column to show, as NAME@SCOPE (e.g. service_level@queue:sme, "
              "utilisation@pool:experts, sl_offered@all); repeatable. Default: every queue's "
              "service level and every pool's utilisation (SMEs included), overall SL and cost.")
@click.option("--variant", metavar="NAME",
              help="Sweep around this variant of the file (its settings, then the --set values).")
@engine_option
@user_errors
@engine_notes
def sweep_command(scenario, settings, replications, seed, workers, executor, out, force, quiet,
                  allow_large, metrics, variant, engine):
    """Run SCENARIO at every combination of the --set values.

    Paths are dotted (pools.<id>.agents, queues.<id>.handle_time.mean, queues.0.patience.mean).
    Every point uses the same seed (common random numbers). Writes each point's results
    to OUT/point-<k>/, points.csv and sweep.csv; rerunning resumes."""
    from bposim.experiments import sweep, sweep_grid
    from bposim.overlay import parse_assignment, parse_values
    from bposim.cli.columns import parse_metric, sweep_text
    from bposim.scenario.load import load_scenario
    from bposim.scenario.variants import variant_settings

    pairs = [parse_metric(m) for m in metrics]  # a malformed --metric fails before anything runs
    parsed: dict[str, list] = {}
    for text in settings:
        path, values = parse_assignment(text)
        if path in parsed:
            fail(f"--set {path} is given twice; give all its values in one --set (a,b,c)")
        parsed[path] = parse_values(values)
    if variant:  # the variant's settings as one-value settings; --set values win
        parsed = {**{p: [v] for p, v in variant_settings(scenario, variant).items()}, **parsed}
    base = load_scenario(scenario)
    out = out or Path("results") / f"sweep-{scenario.stem}"
    reps = replications or base.simulation.replications
    if reps < 2:
        fail("confidence intervals need at least 2 replications; use -n 2 or more")
    points = len(sweep_grid(parsed))
    try:
        with ProgressBar(f"{points} points", reps * points, quiet) as bar:
            table = sweep(scenario, parsed, reps, seed, out_dir=out, workers=workers,
                          executor=executor, progress=bar, force=force, allow_large=allow_large,
                          engine=engine)
    except KeyboardInterrupt:
        click.echo(f"\nInterrupted: finished replications are kept in {out}; "
                   "run the same command again to resume.", err=True)
        raise SystemExit(130) from None
    click.echo(f"\n{base.name}: {points} point(s) × {reps} replication(s), seed "
               f"{base.simulation.seed if seed is None else seed}; {CI_NOTE}.\n")
    click.echo(sweep_text(table, list(parsed), pairs))
    click.echo(f"\nSweep table written to {out / 'sweep.csv'}")
