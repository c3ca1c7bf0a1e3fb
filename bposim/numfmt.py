"""One number formatter for the terminal tables, the HTML report and notebooks.

``fmt`` writes one value (``pct`` as a percentage, ``int`` with thousands separators,
otherwise fixed decimals); ``with_ci`` adds the 95 % interval in the value's own units:
``± h`` when it is centred on the mean at the precision shown, else ``+a/-b`` (how far
it reaches above and below the mean: intervals of shares near 0 or 1 and of waits are
not centred); ``metric_kind`` says how a named metric is best shown.
"""

from __future__ import annotations

import math

MISSING = "–"

# shares in [0, 1], shown as percentages
_SHARES = {"service_level", "p_wait", "abandon_rate", "escalation_rate", "occupancy",
           "utilisation", "sme_utilisation", "max_on_break_share", "list_penetration",
           "max_daily_abandon_rate", "connect_rate"}
# counts, shown without decimals
_COUNTS = {"offered", "answered", "abandoned", "short_abandoned", "unanswered_at_end", "escalated",
           "repeats", "unresolved", "answered_within", "handled", "escalations_taken", "leavers",
           "hires", "breaks_planned", "breaks_taken", "dials", "connected", "right_party",
           "paid_hours", "cost"}


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def metric_kind(metric: str) -> str:
    """``pct`` for shares (service levels, rates, occupancy), ``int`` for counts, else
    ``num``: the format of the metric registry (:mod:`bposim.metric_registry`); names it
    does not know by name."""
    from bposim.metric_registry import kind

    m = str(metric)
    known = kind(m)
    if known is not None:
        return known
    if m in _SHARES or m.startswith("sl_") or m.endswith(("_rate", "_share")):
        return "pct"
    if m in _COUNTS:
        return "int"
    return "num"


def fmt(value, kind: str = "num", digits: int = 1, missing: str = MISSING) -> str:
    """One value for a table cell: ``pct``, ``int`` or plain; ``missing`` when absent."""
    if _missing(value):
        return missing
    v = float(value)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if kind == "pct":
        return f"{100 * v:.{digits}f} %"
    if kind == "int":
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def half_width(low, high) -> float:
    """Half the width of a confidence interval (NaN when there is none)."""
    if _missing(low) or _missing(high):
        return math.nan
    return (float(high) - float(low)) / 2


#: what the interval after a figure means, for the notes under tables
CI_NOTE = ("± is the 95 % CI half-width; +a/-b where the interval is not centred on the mean "
           "(it reaches a above and b below)")


def _distance(value: float, kind: str, digits: int) -> str:
    """A distance from the mean in the mean's units (percentage points for ``pct``)."""
    if kind == "pct":
        return f"{100 * value:.{digits}f}"
    return f"{value:,.0f}" if kind == "int" else f"{value:,.{digits}f}"


def ci_text(mean, low, high, kind: str = "num", digits: int = 1) -> str:
    """The interval written after a mean: ``± h`` when both ends are as far from the mean
    at the precision shown, else ``+a/-b`` (a above, b below); "" without an interval."""
    if _missing(mean) or math.isnan(half_width(low, high)):
        return ""
    m, lo, hi = float(mean), float(low), float(high)
    up, down = _distance(max(hi - m, 0.0), kind, digits), _distance(max(m - lo, 0.0), kind, digits)
    if up == down:
        return f"± {_distance(half_width(lo, hi), kind, digits)}"
    return f"+{up}/-{down}"


def with_ci(mean, low, high, kind: str = "num", digits: int = 1, missing: str = MISSING) -> str:
    """``mean ± half-width``, or ``mean +a/-b`` where the interval is not centred on the
    mean (:func:`ci_text`), in the mean's units (percentage points for ``pct``); the mean
    alone when there is no interval (one replication)."""
    text = fmt(mean, kind, digits, missing)
    ci = ci_text(mean, low, high, kind, digits)
    return f"{text} {ci}" if ci and text != missing else text


def parse_share(text) -> float:
    """A share given as ``0.33`` or ``33%`` (``33 %`` too) → 0.33; ValueError otherwise.
    Values without ``%`` are taken as fractions, so ``33`` stays 33 (out of range later)."""
    s = str(text).strip()
    percent = s.endswith("%")
    number = float(s[:-1].strip() if percent else s)  # ValueError for anything else
    return number / 100 if percent else number
