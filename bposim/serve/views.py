"""What the page shows, as JSON-ready values: figures with CIs, differences, charts.

Charts are small inline SVG written here (no chart library, nothing to fetch): the
page works offline, and what it draws is plain text the tests can read.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from bposim import metric_registry as registry
from bposim.montecarlo import Results
from bposim.scenario.schema import Scenario

#: the figures the page shows per queue, per pool and for the centre; their labels and
#: units come from the metric registry
QUEUE_METRICS = ("offered", "service_level", "asa", "wait_p50", "wait_p90", "wait_p95", "abandon_rate")
POOL_METRICS = ("occupancy", "utilisation")
CENTRE_METRICS = ("sme_utilisation", "cost", "cost_per_contact")
#: the page's number formats (app.js) by registry unit; other units are plain numbers
PAGE_KINDS = {"share": "pct", "count": "int", "seconds": "sec", "currency": "money"}


def shown(names: tuple[str, ...], scope: str) -> list[tuple[str, str, str]]:
    """(metric, label, page format) of each metric of ``scope`` the page shows."""
    return [(n, registry.label(n, scope, long=True), PAGE_KINDS.get(registry.get(n, scope).unit, "num"))
            for n in names]


def _num(value) -> float | None:
    """A float for JSON (``None`` for NaN)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def figure_rows(scenario: Scenario, table: pd.DataFrame, variant: str) -> list[dict]:
    """Rows of the results table: base and variant (mean, CI) and variant − base (paired CI)."""
    t = table.set_index(["variant", "metric", "scope"])
    base = table["variant"].iloc[0]
    more = {k: tuple(registry.shown(table, k)) for k in ("queue", "pool")}  # show=True figures
    wanted = [(f"queue {q.id}", registry.scope_key("queue", q.id), shown(QUEUE_METRICS + more["queue"], "queue"))
              for q in scenario.queues]
    wanted += [(f"pool {p.id}", registry.scope_key("pool", p.id), shown(POOL_METRICS + more["pool"], "pool"))
               for p in scenario.pools]
    wanted.append(("centre", registry.scope_key("run"), shown(CENTRE_METRICS, "run")))
    rows = []
    for group, scope, metrics in wanted:
        for metric, label, kind in metrics:
            if (variant, metric, scope) not in t.index or (base, metric, scope) not in t.index:
                continue
            b, v = t.loc[(base, metric, scope)], t.loc[(variant, metric, scope)]
            if metric.startswith("cost") and not (costs(t, base, variant)):
                continue
            rows.append({
                "group": group, "label": label, "metric": metric, "scope": scope, "kind": kind,
                "better": registry.get(metric, scope).better,  # "higher", "lower" or None
                "base": [_num(b["mean"]), _num(b["ci_low"]), _num(b["ci_high"])],
                "value": [_num(v["mean"]), _num(v["ci_low"]), _num(v["ci_high"])],
                "diff": [_num(v["diff_mean"]), _num(v["diff_ci_low"]), _num(v["diff_ci_high"])],
            })
    return rows


def costs(t: pd.DataFrame, base: str, variant: str) -> bool:
    """Whether the scenario has costs (either run paid anything)."""
    return any(t.loc[(name, "cost", "all"), "mean"] > 0 for name in (base, variant)
               if (name, "cost", "all") in t.index)


def interval_starts(results: Results) -> list[str]:
    """Each interval's start as ``Mon 08:00``."""
    s = results.interval_summary
    starts = s.drop_duplicates("interval").sort_values("interval")["start"]
    return [pd.Timestamp(x).strftime("%a %H:%M") for x in starts]


def interval_sl(results: Results, queue: str) -> list[float | None]:
    """Mean service level per interval of ``queue`` (``None`` where nothing was offered)."""
    s = results.interval_summary
    s = s[(s["metric"] == "service_level") & (s["queue"] == queue)].sort_values("interval")
    return [_num(v) for v in s["mean"]]


def erlang_figures(scenario: Scenario) -> dict:
    """The Erlang baseline of ``scenario``: run-level per queue and per interval."""
    from bposim.baseline import queue_baseline, run_baseline
    from bposim.engine.model import compile_scenario

    model = compile_scenario(scenario)
    run = run_baseline(model)
    per_interval = queue_baseline(model)
    out = {}
    for q in scenario.queues:
        row = run[run["queue"] == q.id]
        r = row.iloc[0] if len(row) else {}
        g = per_interval[per_interval["queue"] == q.id].sort_values("interval")
        out[q.id] = {
            "expected_offered": _num(r.get("expected_offered")),
            "service_level": _num(r.get("erlang_service_level")),
            "asa": _num(r.get("erlang_asa")),
            "abandon_rate": _num(r.get("erlang_abandon_rate")),
            "required_agents_peak": _num(r.get("erlang_required_agents_peak")),
            "interval_sl": ([_num(v) for v in g["erlang_service_level"]]
                            if "erlang_service_level" in g else []),
        }
    return out


def sl_chart(title: str, target: float, series: dict[str, list[float | None]],
             labels: list[str] | None = None, width: int = 640, height: int = 210) -> str:
    """An inline SVG line chart of service level (0–100 %) by interval against ``target``.

    ``series`` maps a label to per-interval values; ``None`` leaves a gap. ``labels``
    name the intervals on the x axis (a few of them are shown).
    """
    left, right, top, bottom = 44, 16, 40, 24
    n = max((len(v) for v in series.values()), default=0)
    w, h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h * (1 - min(max(v, 0.0), 1.0))

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             f'<text x="{left}" y="14" class="title">{escape(title)}</text>']
    for v in (0, 0.5, 1):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" class="tick">{v:.0%}</text>')
    parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                 f'class="target"/><text x="{left + w}" y="{y(target) - 3:.1f}" class="tick">'
                 f'target {target:.0%}</text>')
    labels = labels or [f"interval {i}" for i in range(n)]
    step = max(1, -(-n // 6))
    for i in range(0, min(n, len(labels)), step):
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + h}" y2="{top + h + 4}" class="grid"/>'
                     f'<text x="{x(i):.1f}" y="{height - 6}" class="xtick">{escape(labels[i])}</text>')
    for k, (label, values) in enumerate(series.items()):
        runs, current = [], []
        for i, v in enumerate(values):
            if v is None or not np.isfinite(v):
                if current:
                    runs.append(current)
                current = []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        if current:
            runs.append(current)
        for pts in runs:
            if len(pts) == 1:
                cx, cy = pts[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" class="s{k}"/>')
            else:
                parts.append(f'<polyline points="{" ".join(pts)}" class="s{k}"/>')
        lx = left + 150 * k
        parts.append(f'<line x1="{lx}" x2="{lx + 16}" y1="26" y2="26" class="s{k}"/>'
                     f'<text x="{lx + 20}" y="30" class="legend">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts(scenario: Scenario, base: Results, variant: Results, erlang: dict) -> list[dict]:
    """One SL-by-interval chart per queue with external arrivals (and any that had contacts)."""
    out = []
    for q in scenario.queues:
        b, v = interval_sl(base, q.id), interval_sl(variant, q.id)
        if not any(x is not None for x in b + v):
            continue
        series = {"base": b, "what-if": v}
        e = erlang.get(q.id, {}).get("interval_sl") or []
        if any(x is not None for x in e):
            series["Erlang (what-if)"] = e
        out.append({"queue": q.id, "svg": sl_chart(f"Service level by interval: {q.id}",
                                                   q.service_level.target, series,
                                                   interval_starts(variant))})
    return out
