"""Reports of a results directory: figures (matplotlib) and one self-contained HTML page.

    path = bposim.report.write_report("results/support")   # results/support/report.html

The figure functions take result frames and return a :class:`matplotlib.figure.Figure`
so that notebooks and other commands (``compare``) can use them directly.
"""

from __future__ import annotations

import io
from pathlib import Path

from bposim.outputs import atomic_write_bytes, atomic_write_text
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
    """(slug, title, caption, Figure) for each figure the results support."""
    colours = palette([q.id for q in d.queues] + [p.id for p in d.pools])
    out = [
        ("service_level", "Service level by interval",
         "Mean service level per interval and queue, with the 95 % confidence band over "
         "replications and the queue's target (dashed).",
         service_level_figure(d.interval_summary, d.targets(), colours)),
        ("answer_times", "Answer-time distribution",
         "How long answered contacts waited, per queue; dotted lines mark each queue's "
         "answer-within threshold." + ("" if d.contacts is not None else
                                       " Percentiles only: run with --keep-contacts for the full curve."),
         wait_distribution_figure(d.contacts, d.summary, d.answer_within(), colours,
                                  warmup_seconds=60 * d.warmup_minutes)),
        ("volumes", "Offered, answered and abandoned",
         "Contacts per interval (mean over replications), counted in the interval they arrived.",
         volume_figure(d.interval_summary, colours)),
        ("staffing", "Agents vs the Erlang requirement",
         "Top: agents per pool, on duty and available (on duty less shrinkage). Bottom: agents "
         "Erlang says each queue would need on its own; the two are not summed because pools and "
         "queues do not map one to one.",
         staffing_figure(d.pool_summary, d.interval_baseline, colours)),
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


def write_report(results_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (default: inside ``results_dir``) and ``figures/*.png`` beside it.

    Raises :class:`bposim.InputError` when ``results_dir`` is not a results directory or
    was written by a newer bposim. An interrupted run gives a report of the finished
    replications, marked PARTIAL at the top.
    """
    return report_results(load_results(results_dir), out)


def report_results(d: ResultsData, out: str | Path | None = None) -> Path:
    """Write the report of already loaded results (see :func:`write_report`)."""
    out = Path(out) if out is not None else d.path / "report.html"
    pngs = [FigurePng(slug, title, caption, figure_png(fig))
            for slug, title, caption, fig in report_figures(d)]
    for f in pngs:
        atomic_write_bytes(out.parent / "figures" / f"{f.slug}.png", f.png)
    atomic_write_text(out, render_html(d, pngs))
    return out
