"""Plain-text tables for the terminal: aligned columns, numbers right-aligned."""

from __future__ import annotations

from bposim import numfmt


def render(headers: list[str], rows: list[list[str]], title: str | None = None) -> str:
    """Align ``rows`` under ``headers``; the first column left, the others right."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        parts = [str(cells[0]).ljust(widths[0])]
        parts += [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out.append(line(headers))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def fmt(value: float, kind: str = "num", digits: int = 1) -> str:
    """Format a number for a table: ``pct`` as a percentage, ``int`` with separators
    (:func:`bposim.numfmt.fmt`, the report's formatter too; ``-`` when missing)."""
    return numfmt.fmt(value, kind, digits, missing="-")


def with_ci(mean: float, low: float, high: float, kind: str = "num", digits: int = 1) -> str:
    """``mean ± half-width``, or ``mean +a/-b`` where the interval is not centred on the
    mean (:func:`bposim.numfmt.with_ci`; in the same units as the mean)."""
    return numfmt.with_ci(mean, low, high, kind, digits, missing="-")


def summary_row(summary, metric: str, scope: str) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of one run-level figure; NaNs when the summary lacks it
    (e.g. a figure that does not apply to the queue's channel)."""
    s = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
    if s.empty:
        return float("nan"), float("nan"), float("nan")
    r = s.iloc[0]
    return r["mean"], r["ci_low"], r["ci_high"]


def cell(summary, metric: str, scope: str, ci: bool = True) -> str:
    """One figure of the summary as a table cell, in the format the metric registry
    gives it (:mod:`bposim.metric_registry`): ``mean ± h``, or the mean alone."""
    from bposim import metric_registry as registry

    mean, low, high = summary_row(summary, metric, scope)
    kind, digits = registry.kind(metric, scope) or "num", registry.digits(metric, scope)
    return with_ci(mean, low, high, kind, digits) if ci else fmt(mean, kind, digits)


def heading(metric: str, scope: str, currency: str | None = None) -> str:
    """A column heading from the metric registry: ``ASA (s)``, ``cost (EUR)``."""
    from bposim import metric_registry as registry

    return registry.heading(metric, scope, currency)
