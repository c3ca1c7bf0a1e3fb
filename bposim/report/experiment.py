"""Reports of compare and sweep results directories: one self-contained HTML page.

A compare directory (``bposim compare --out``) holds ``comparison.csv`` and one results
directory per variant; a sweep directory (``bposim sweep --out``) holds ``points.csv``,
``sweep.csv`` and ``point-<k>/`` per grid point. The page shows, for every variant or
point, each queue's service level and each pool's utilisation (SME pools included)
with 95 % CIs and met / missed flags, the differences from the base (the first variant
or point 0: paired over replications, common random numbers) with their CIs, and cost
against service level with CIs when the scenario has costs. Each variant's or point's
own folder is an ordinary results directory: ``bposim report`` on it gives the full
single-run report.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from bposim import metric_registry as registry
from bposim.errors import InputError
from bposim.numfmt import fmt, metric_kind, with_ci
from bposim.outputs import atomic_write_bytes, atomic_write_text, refuse_existing
from bposim.report.figures import cost_service_figure, cost_service_frame, variants_figure
from bposim.report.html import FigurePng, _figures, _table, page
from bposim.report.views import met_flag

REPORT_NAME = "report.html"
FIGURES = ("cost_service", "variants")


def experiment_kind(path: str | Path) -> str | None:
    """``"compare"`` or ``"sweep"`` for a directory those commands wrote, else None."""
    p = Path(path)
    if (p / "comparison.csv").is_file():
        return "compare"
    if (p / "sweep.csv").is_file() and (p / "points.csv").is_file():
        return "sweep"
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except Exception as exc:  # pandas raises many kinds
        raise InputError(f"{path}: unreadable table ({' '.join(str(exc).split())[:200]})") from exc


def _targets(folder: Path) -> tuple[dict[str, float], str]:
    """Each queue's service-level target and the currency, from a variant's scenario copy."""
    from bposim.report.load import _scenario_facts

    if not (folder / "scenario.yaml").is_file():
        return {}, ""
    facts = _scenario_facts(folder, folder.name, [], [])
    return {q.id: q.target for q in facts["queues"] if q.target == q.target}, facts["currency"]


def _key_pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    from bposim.notebook import key_metrics

    first = table[table["variant"] == table["variant"].iloc[0]]
    return key_metrics(first)


def _compare_table(path: Path) -> tuple[pd.DataFrame, list[Path]]:
    """comparison.csv, and the folder of each variant (in table order)."""
    from bposim.experiments import safe_name

    table = _read_csv(path / "comparison.csv")
    variants = list(dict.fromkeys(table["variant"].astype(str)))
    return table, [path / safe_name(v) for v in variants]


def _sweep_table(path: Path) -> tuple[pd.DataFrame, list[Path]]:
    """A comparison-shaped table of a sweep: one "variant" per point, labelled with its
    settings, and paired differences from point 0 computed from the points' totals."""
    from bposim.experiments import comparison_table

    points = _read_csv(path / "points.csv")
    fixed = {"point", "directory", "scenario_hash", "seed", "replications"}
    settings = [c for c in points.columns if c not in fixed]
    varying = [c for c in settings if points[c].astype(str).nunique() > 1] or settings
    results, folders = {}, []
    for row in points.itertuples(index=False):
        folder = path / str(row.directory)
        totals = folder / "totals.parquet"
        if not totals.is_file() or not (folder / "summary.csv").is_file():
            raise InputError(f"{folder}: this sweep point has not finished; run the sweep again "
                             "to complete it, then report")
        label = f"point {row.point}: " + ", ".join(
            f"{c}={points.loc[points['point'] == row.point, c].iloc[0]}" for c in varying)
        results[label] = SimpleNamespace(totals=pd.read_parquet(totals),
                                         summary=_read_csv(folder / "summary.csv"))
        folders.append(folder)
    return comparison_table(results), folders


def _facts(kind: str, path: Path, table: pd.DataFrame) -> str:
    variants = list(dict.fromkeys(table["variant"].astype(str)))
    n = int(table["n"].max()) if len(table) else 0
    what = "variants" if kind == "compare" else "grid points"
    rows = [("Results directory", str(path)), ("Kind", f"bposim {kind}"),
            (f"{what.capitalize()}", f"{len(variants)}; the base is {variants[0]}"),
            ("Replications", f"{n} per {what[:-1]}, with common random numbers")]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def _cell(r, kind: str) -> str:
    text = escape(fmt(r["mean"], kind))
    lo, hi = r["ci_low"], r["ci_high"]
    if lo == lo and hi == hi and hi > lo:
        scale, digits = (100, 1) if kind == "pct" else (1, 0 if kind == "int" else 1)
        text += f'<br><span class="ci">[{scale * lo:,.{digits}f} – {scale * hi:,.{digits}f}]</span>'
    return text


def _levels_table(table: pd.DataFrame, pairs, targets: dict[str, float]) -> str:
    """One row per key metric, one column per variant: mean with its CI; SL cells say
    met / missed against the queue's target."""
    idx = table.set_index(["variant", "metric", "scope"])
    variants = list(dict.fromkeys(table["variant"].astype(str)))
    rows = []
    for m, s in pairs:
        kind, ident = registry.parse_scope(s)
        target = targets.get(ident) if m == "service_level" and kind == "queue" else None
        row = [escape(f"{m}@{s}") + (f'<br><span class="ci">target {target:.0%}</span>' if target else "")]
        for v in variants:
            if (v, m, s) not in idx.index:
                row.append("–")
                continue
            r = idx.loc[(v, m, s)]
            cell = _cell(r, metric_kind(m))
            if target is not None:
                cell += f'<br><span class="ci">{escape(met_flag(r["mean"], r["ci_low"], r["ci_high"], target))}</span>'
            row.append(cell)
        rows.append(row)
    return _table(["metric@scope", *variants], rows)


def _differences_table(table: pd.DataFrame, pairs) -> str:
    """Variant − base for each key metric (rows) and variant (columns), with the CI of
    the paired differences; "CI excludes 0" marks a difference the replications resolve."""
    variants = list(dict.fromkeys(table["variant"].astype(str)))[1:]
    idx = table.set_index(["variant", "metric", "scope"])
    rows = []
    for m, s in pairs:
        kind = metric_kind(m)
        scale, unit = (100, " pp") if kind == "pct" else (1, "")
        row = [escape(f"Δ {m}@{s}")]
        for v in variants:
            if (v, m, s) not in idx.index:
                row.append("–")
                continue
            r = idx.loc[(v, m, s)]
            text = with_ci(scale * r["diff_mean"], scale * r["diff_ci_low"], scale * r["diff_ci_high"],
                           "int" if kind == "int" else "num")
            if text != fmt(None) and not text.startswith("-"):
                text = "+" + text
            lo, hi = r["diff_ci_low"], r["diff_ci_high"]
            sure = lo == lo and hi == hi and (lo > 0 or hi < 0)
            row.append(escape(text + unit) + ('<br><span class="ci">CI excludes 0</span>' if sure else ""))
        rows.append(row)
    return _table(["metric@scope", *variants], rows)


def experiment_figures(table: pd.DataFrame, pairs, currency: str = "") -> list[tuple]:
    """(slug, title, caption, Figure): key metrics per variant, and cost vs service."""
    out = [("variants", "Service level and utilisation by variant",
            "Mean over replications with 95 % CIs, one panel per metric.",
            variants_figure(table, [(m, s) for m, s in pairs if metric_kind(m) == "pct"]))]
    summaries = {v: g for v, g in table.groupby(table["variant"].astype(str), sort=False)}
    costs = cost_service_frame(summaries)
    if costs is not None:
        out.append(("cost_service", "Cost vs service level",
                    "Cost over the run against the overall service level (answered in target ÷ "
                    "offered), 95 % CIs on both axes.",
                    cost_service_figure(costs, f"cost over the run ({currency})" if currency else "cost")))
    return out


def write_experiment_report(path: str | Path, out: str | Path | None = None, *,
                            force: bool = False) -> Path:
    """Write the report of a compare or sweep directory (default ``path/report.html``,
    figures in ``figures/`` beside it). An existing file elsewhere is kept unless ``force``."""
    from bposim.report import figure_png

    path = Path(path)
    kind = experiment_kind(path)
    if kind is None:
        raise InputError(f"{path}: not a compare or sweep results directory "
                         "(no comparison.csv, or no points.csv and sweep.csv)")
    table, folders = _compare_table(path) if kind == "compare" else _sweep_table(path)
    if table.empty:
        raise InputError(f"{path}: the {kind} table is empty; nothing to report")
    targets, currency = _targets(folders[0]) if folders else ({}, "")
    pairs = _key_pairs(table)
    out = Path(out) if out is not None else path / REPORT_NAME
    ours = out == path / REPORT_NAME
    built = experiment_figures(table, pairs, currency)
    figures = out.parent / "figures"
    refuse_existing([out, *(figures / f"{slug}.png" for slug, *_ in built)], ours or force)
    pngs = [FigurePng(slug, title, caption, figure_png(fig)) for slug, title, caption, fig in built]
    for f in pngs:
        atomic_write_bytes(figures / f"{f.slug}.png", f.png)
    atomic_write_text(out, render_experiment_html(kind, path, table, pairs, targets, pngs))
    return out


def render_experiment_html(kind: str, path: Path, table: pd.DataFrame, pairs, targets,
                           figures: list[FigurePng]) -> str:
    """The whole page of a compare or sweep report."""
    title = f"{path.name}: bposim {kind} report"
    base = str(table["variant"].iloc[0])
    folder_note = ("each variant's folder" if kind == "compare" else "each point-&lt;k&gt; folder")
    return page(title, f"""<h1>{escape(path.name)}</h1>
<p class="sub">bposim {escape(kind)} report</p>
{_facts(kind, path, table)}
<h2>Service by {'variant' if kind == 'compare' else 'grid point'}</h2>
<p>Each queue's service level and each pool's utilisation (SME pools included): mean over
replications with the 95 % confidence interval beneath; SL cells say whether the queue's target
is met (<em>within CI</em>: the interval straddles the target).</p>
{_levels_table(table, pairs, targets)}
<h2>Differences from {escape(base)}</h2>
<p>Variant minus base, ± the 95 % CI half-width of the paired per-replication differences (all
variants see the same customers: common random numbers); pp = percentage points.</p>
{_differences_table(table, pairs)}
<h2>Figures</h2>
{_figures(figures)}
""", path, f"Run <code>bposim report</code> on {folder_note} for its full report.")
