"""Plain-text tables for the terminal: aligned columns, numbers right-aligned."""

from __future__ import annotations

import math


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
    """Format a number for a table: ``pct`` as a percentage, ``int`` with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if kind == "pct":
        return f"{100 * value:.{digits}f} %"
    if kind == "int":
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def with_ci(mean: float, low: float, high: float, kind: str = "num", digits: int = 1) -> str:
    """``mean ± half-width`` (the half-width in the same units as the mean)."""
    text = fmt(mean, kind, digits)
    if text == "-" or low is None or (isinstance(low, float) and math.isnan(low)):
        return text
    half = (high - low) / 2
    if kind == "pct":
        return f"{text} ± {100 * half:.{digits}f}"
    if kind == "int":
        return f"{text} ± {half:,.0f}"
    return f"{text} ± {half:,.{digits}f}"
