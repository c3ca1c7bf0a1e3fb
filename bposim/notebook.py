"""Compact HTML tables for Jupyter: what ``Results`` and ``Comparison`` show as
``_repr_html_``. The full frames stay one attribute away (``summary``, ``table``).

``key_metrics`` is the default choice of columns: each queue's service level and
each pool's utilisation (SME pools included), then the run's overall service level
and cost where the scenario has one.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from bposim.numfmt import fmt, metric_kind, with_ci

_SCOPE_METRICS = {"queue": ("service_level",), "pool": ("utilisation",)}
_OVERALL = (("sl_offered", "all"), ("cost", "all"))


def key_metrics(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric, scope) pairs a planner looks at first, in the summary's scope order."""
    present = set(zip(summary["metric"].astype(str), summary["scope"].astype(str)))
    out = []
    for scope in dict.fromkeys(summary["scope"].astype(str)):
        kind = scope.split(":", 1)[0]
        out += [(m, scope) for m in _SCOPE_METRICS.get(kind, ()) if (m, scope) in present]
    for metric, scope in _OVERALL:
        if (metric, scope) in present:
            rows = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
            if metric != "cost" or (rows["mean"].fillna(0) != 0).any():
                out.append((metric, scope))
    return out


def label(metric: str, scope: str) -> str:
    """``service_level@queue:calls`` as a column heading."""
    return f"{metric}@{scope}"


def _html_table(headers: list[str], rows: list[list[str]], caption: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<table><caption style=\"text-align:left\">{escape(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def results_html(results) -> str:
    """One row per key metric (see :func:`key_metrics`): mean, 95 % CI and n."""
    s = results.summary
    index = s.set_index(["metric", "scope"])
    rows = []
    for m, scope in key_metrics(s):
        r = index.loc[(m, scope)]
        kind = metric_kind(m)
        ci = (f"[{fmt(r['ci_low'], kind)}, {fmt(r['ci_high'], kind)}]"
              if fmt(r["ci_low"]) != fmt(None) else fmt(None))
        rows.append([label(m, scope), fmt(r["mean"], kind), ci, str(int(r["n"]))])
    caption = (f"{results.scenario.name}: {len(results.replications)} replication(s), "
               f"seed {results.seed} (every metric: .summary)")
    return _html_table(["metric@scope", "mean", "95 % CI", "n"], rows, caption)


def signed(mean, low, high, kind: str) -> str:
    """A difference as ``+1.2 ± 0.4`` (percentage points for shares)."""
    text = with_ci(mean, low, high, "num" if kind == "pct" else kind)
    if kind == "pct" and text != fmt(None):
        text = with_ci(100 * mean, 100 * low, 100 * high, "num") + " pp"
    return text if text.startswith(("-", fmt(None))) else "+" + text


def comparison_html(comparison) -> str:
    """One row per variant: key metrics as ``mean ± CI`` and the paired difference from the base."""
    t = comparison.table
    base = t[t["variant"] == comparison.base]
    pairs = key_metrics(base)
    index = t.set_index(["variant", "metric", "scope"])
    rows = []
    for variant in comparison.results:
        row = [str(variant)]
        for m, scope in pairs:
            if (variant, m, scope) not in index.index:
                row.append("")
                continue
            r = index.loc[(variant, m, scope)]
            kind = metric_kind(m)
            cell = with_ci(r["mean"], r["ci_low"], r["ci_high"], kind)
            if variant != comparison.base:
                cell += f" (Δ {signed(r['diff_mean'], r['diff_ci_low'], r['diff_ci_high'], kind)})"
            row.append(cell)
        rows.append(row)
    caption = (f"{len(comparison.results)} variant(s), {comparison.replications} replication(s), "
               f"seed {comparison.seed}; mean ± 95 % CI, Δ = paired difference from "
               f"{comparison.base} (full table: .table)")
    return _html_table(["variant", *(label(m, s) for m, s in pairs)], rows, caption)
