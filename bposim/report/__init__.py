"""Reports of a results directory: figures (matplotlib) and one self-contained HTML page.

    path = bposim.report.write_report("results/support")   # results/support/report.html

The figure functions take result frames and return a :class:`matplotlib.figure.Figure`
so that notebooks and other commands (``compare``) can use them directly.
"""

from __future__ import annotations

import io
from pathlib import Path

from bposim.outputs import (
    REPORT_NAME, atomic_write_bytes, atomic_write_text, is_results_dir, locked,
    read_manifest, refuse_existing, remove_derived,
)
from bposim.report.figures import (
    COST_COLUMNS, cost_service_figure, cost_service_frame, occupancy_heatmap, palette,
    service_level_figure, staffing_figure, volume_figure, wait_distribution_figure,
)
from bposim.report.html import FigurePng, render_html
from bposim.report.load import ResultsData, load_results
from bposim.report.views import report_figures

__all__ = [
    "write_report", "report_results", "build_figures", "load_results", "ResultsData", "palette",
    "COST_COLUMNS",
    "service_level_figure", "wait_distribution_figure", "volume_figure", "staffing_figure",
    "occupancy_heatmap", "cost_service_figure", "cost_service_frame", "figure_png",
]


def figure_png(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (no software tag, so the file names no web address)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def build_figures(d: ResultsData):
    """(slug, title, caption, Figure) for each figure the results support (the queue
    figures only when there are queues)."""
    colours = palette([q.id for q in d.queues] + [p.id for p in d.pools])
    answer_times = [
        ("answer_times", "Answer-time distribution",
         "How long answered contacts waited, per queue; dotted lines mark each queue's "
         "answer-within threshold." + ("" if d.contacts is not None else
                                       " Percentiles only: run with --keep-contacts for the full curve."),
         wait_distribution_figure(d.contacts, d.summary, d.answer_within(), colours,
                                  warmup_seconds=60 * d.warmup_minutes)),
    ] if d.answer_within() else []  # only voice and chat queues have an answer time
    queue_figures = [
        ("service_level", "Service level by interval",
         "Mean service level per interval and queue, with the 95 % confidence band over "
         "replications and the queue's target (dashed).",
         service_level_figure(d.interval_summary, d.targets(), colours)),
        *answer_times,
        ("volumes", "Offered, answered and abandoned",
         "Contacts per interval (mean over replications), counted in the interval they arrived.",
         volume_figure(d.interval_summary, colours)),
    ] if d.queues else []
    out = queue_figures + [
        ("staffing", "Agents vs the Erlang requirement",
         "Top: agents per pool, on duty and available (on duty less shrinkage). Bottom: agents "
         "Erlang says each queue would need on its own; the two are not summed because pools and "
         "queues do not map one to one.",
         staffing_figure(d.pool_summary, d.interval_baseline, colours)) if d.queues else
        ("staffing", "Agents on duty",
         "Agents per pool, on duty and available (on duty less shrinkage); no queues, so no "
         "Erlang requirement.",
         staffing_figure(d.pool_summary, None, colours, with_queues=False)),
        ("occupancy", "Occupancy and utilisation heatmap",
         "Per pool and interval; SME pools are in bold and marked (SME).",
         occupancy_heatmap(d.pool_summary)),
    ]
    costs = cost_service_frame({d.name: d.summary})
    if costs is not None:
        out.append(("cost_service", "Cost vs service level",
                    "Cost against service level with 95 % confidence intervals.",
                    cost_service_figure(costs, f"cost over the run ({d.currency})")))
    return out


def write_report(results_dir: str | Path, out: str | Path | None = None, *,
                 force: bool = False) -> Path:
    """Write ``report.html`` (default: inside ``results_dir``) and ``figures/*.png`` beside it.

    Raises :class:`bposim.InputError` when ``results_dir`` is not a results directory or
    was written by a newer bposim, when a run is still writing it, or when ``out`` (or a
    figure beside it) already exists outside a results directory and ``force`` is not
    given. An interrupted run gives a report of the finished replications, marked
    PARTIAL at the top.
    """
    from bposim.report.experiment import experiment_kind, write_experiment_report

    if experiment_kind(results_dir):  # compare and sweep directories have their own page
        return write_experiment_report(results_dir, out, force=force)
    from bposim.report.plan_page import is_plan_dir, write_plan_report

    if is_plan_dir(results_dir):
        return write_plan_report(results_dir, out, force=force)
    with reading(results_dir):
        return report_results(load_results(results_dir), out, force=force)


def reading(results_dir: str | Path):
    """Lock ``results_dir`` while a report is made from it (a run in progress there
    makes this wait a few seconds, then fail with a clear message)."""
    read_manifest(results_dir)  # a clear error for a folder that is not a results directory
    return locked(results_dir, required=False)


def report_results(d: ResultsData, out: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the report of already loaded results (see :func:`write_report`).

    ``report.html`` inside a results directory is bposim's own and is replaced; any other
    existing file is left untouched unless ``force``."""
    out = Path(out) if out is not None else d.path / REPORT_NAME
    ours = out.name == REPORT_NAME and is_results_dir(out.parent)
    figures = out.parent / "figures"
    replace = ours or force
    refuse_existing([out], replace)  # before the (slow) figures
    built = report_figures(d)  # slugs are among REPORT_FIGURES (what a new run removes)
    if ours:
        remove_derived(out.parent)  # figures these results no longer give must not linger
    refuse_existing([out, *(figures / f"{slug}.png" for slug, *_ in built)], replace)
    pngs = [FigurePng(slug, title, caption, figure_png(fig)) for slug, title, caption, fig in built]
    for f in pngs:
        atomic_write_bytes(figures / f"{f.slug}.png", f.png, overwrite=replace)
    atomic_write_text(out, render_html(d, pngs), overwrite=replace)
    return out
