"""Planner's views of a results set: net staffing, intervals that missed target, daily
summaries and day × time-of-day grids, and the rule that keeps long horizons readable.

Everything here is pandas over the frames of :class:`ResultsData`; the figures are
drawn by :mod:`bposim.report.figures` and the HTML by :func:`views_html`.

- *Net staffing*: per interval, the agents on duty and available (after breaks and
  shrinkage, summed over pools) against the Erlang requirement (summed over queues; an
  email or back-office queue, which has no Erlang formula, counts its load in agents);
  the difference is the surplus (+) or deficit (−). Summing is what a planner's net
  staffing line does; it is exact when each pool serves one queue, and otherwise a
  guide (skills let a pool cover several queues).
- *Missed intervals*: every interval × queue whose mean service level is below the
  queue's target, with the CI and the shortfall; "clear" when the whole CI is below.
- *Daily summary*: per day and queue, the service level (the queue's definition)
  offered and abandon rate; per day and pool, occupancy; each a mean over replications
  of the day's own ratio, with its Student-t 95 % CI.
- *Long horizons*: the interval line charts show the first :data:`LINE_CHART_DAYS`
  days only; day × time-of-day heatmaps cover the whole horizon.
"""

from __future__ import annotations

import dataclasses
from html import escape

import numpy as np
import pandas as pd

from bposim.montecarlo import summarise
from bposim.numfmt import ci_text, fmt
from bposim.report.load import ResultsData

LINE_CHART_DAYS = 3
#: figures of build_figures drawn along the interval axis (cut to LINE_CHART_DAYS days)
INTERVAL_FIGURES = ("service_level", "volumes", "staffing", "occupancy")
MAX_MISSED_ROWS = 60
_SL_PARTS = {"offered": ("answered_within", "offered"), "answered": ("answered_within", "answered")}


# --- horizon --------------------------------------------------------------------------


def horizon_days(d: ResultsData) -> int:
    """Number of calendar days the intervals cover."""
    frame = d.interval_summary if len(d.interval_summary) else d.pool_summary
    if not len(frame):
        return 0
    return int(pd.to_datetime(frame["start"]).dt.normalize().nunique())


def first_days(d: ResultsData, days: int = LINE_CHART_DAYS) -> ResultsData:
    """``d`` cut to its first ``days`` days (for the interval line charts)."""
    frame = d.interval_summary if len(d.interval_summary) else d.pool_summary
    if not len(frame):
        return d
    starts = pd.to_datetime(frame["start"])
    cut = starts.min().normalize() + pd.Timedelta(days=days)
    keep = set(frame.loc[starts < cut, "interval"])

    def clip(f):
        return None if f is None else f[f["interval"].isin(keep)] if "interval" in f else f

    return dataclasses.replace(d, interval_summary=clip(d.interval_summary),
                               pool_summary=clip(d.pool_summary),
                               interval_baseline=clip(d.interval_baseline))


# --- frames ---------------------------------------------------------------------------


def _metric(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    return summary[summary["metric"] == metric]


def net_staffing(pool_summary: pd.DataFrame, interval_baseline: pd.DataFrame | None) -> pd.DataFrame:
    """Per interval: ``on_duty``, ``available`` (summed over pools), ``required`` (Erlang,
    summed over queues; an email/back-office queue counts its load in agents, rounded up;
    NaN without a baseline) and ``net`` = available − required."""
    on = _metric(pool_summary, "scheduled_agents").groupby(["interval", "start"])["mean"].sum()
    avail = _metric(pool_summary, "agents_available").groupby(["interval", "start"])["mean"].sum()
    out = pd.DataFrame({"on_duty": on, "available": avail}).reset_index()
    if interval_baseline is not None and len(interval_baseline):
        b = interval_baseline
        # email and back office (no Erlang figure: NaN): their work as it arrives, in agents
        # (load at 100 % occupancy, rounded up), the fewest that keep up on average
        need = b["erlang_required_agents"].fillna(np.ceil(b["load_erlangs"] - 1e-9)) if "load_erlangs" in b \
            else b["erlang_required_agents"]
        req = need.groupby(b["interval"]).sum()
        out["required"] = out["interval"].map(req).astype(float)
    else:
        out["required"] = np.nan
    out["net"] = out["available"] - out["required"]
    return out.sort_values("interval", ignore_index=True)


def missed_intervals(interval_summary: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    """Interval × queue rows whose mean service level is below the queue's target,
    largest shortfall first; ``clear`` when the CI's upper end is below the target too."""
    sl = _metric(interval_summary, "service_level").copy()
    sl["target"] = sl["queue"].astype(str).map(targets).astype(float)
    miss = sl[sl["mean"] < sl["target"]].copy()
    miss["shortfall"] = miss["target"] - miss["mean"]
    miss["clear"] = miss["ci_high"] < miss["target"]
    cols = ["queue", "interval", "start", "mean", "ci_low", "ci_high", "n", "target", "shortfall", "clear"]
    return miss.sort_values(["shortfall", "start"], ascending=[False, True])[cols].reset_index(drop=True)


def met_flag(mean: float, low: float, high: float, target: float) -> str:
    """``met`` / ``missed`` against a target, ``(within CI)`` when the CI straddles it."""
    if any(v != v for v in (mean, target)):
        return ""
    word = "met" if mean >= target else "missed"
    straddles = low == low and high == high and low < target <= high
    return f"{word} (within CI)" if straddles else word


def daily_queue_summary(intervals: pd.DataFrame, definitions: dict[str, str]) -> pd.DataFrame:
    """Per day × queue: service level (the queue's definition), offered and abandon rate,
    each with mean, ci_low, ci_high and n over replications (tidy, like ``summary``)."""
    if not len(intervals):
        return pd.DataFrame(columns=["day", "queue", "metric", "mean", "ci_low", "ci_high", "n"])
    f = intervals.assign(day=pd.to_datetime(intervals["start"]).dt.date)
    cols = [c for c in ("offered", "answered", "abandoned", "answered_within", "short_abandoned")
            if c in f.columns]
    g = f.groupby(["replication", "day", "queue"], sort=True)[cols].sum().reset_index()
    sl = []
    for row in g.itertuples(index=False):
        definition = definitions.get(str(row.queue), "offered")
        num, den = _SL_PARTS.get(definition, ("answered_within", None))
        denom = getattr(row, den) if den else row.offered - getattr(row, "short_abandoned", 0)
        sl.append(getattr(row, num) / denom if denom > 0 else np.nan)
    g["service_level"] = sl
    g["abandon_rate"] = np.where(g["offered"] > 0, g["abandoned"] / g["offered"].where(g["offered"] > 0, 1),
                                 np.nan)
    return summarise(g, ["day", "queue"], ["service_level", "offered", "abandon_rate"])


def daily_pool_summary(pools: pd.DataFrame, interval_seconds: float) -> pd.DataFrame:
    """Per day × pool: occupancy (busy ÷ available time) with its CI over replications."""
    if not len(pools):
        return pd.DataFrame(columns=["day", "pool", "metric", "mean", "ci_low", "ci_high", "n"])
    f = pools.assign(day=pd.to_datetime(pools["start"]).dt.date,
                     available_s=pools["agents_available"] * interval_seconds)
    g = f.groupby(["replication", "day", "pool"], sort=True)[["busy_s", "available_s"]].sum().reset_index()
    g["occupancy"] = np.where(g["available_s"] > 0, g["busy_s"] / g["available_s"].where(g["available_s"] > 0, 1),
                              np.nan)
    return summarise(g, ["day", "pool"], ["occupancy"])


def interval_seconds(frame: pd.DataFrame) -> float:
    """The interval length in seconds, from the spacing of interval starts."""
    s = pd.Series(pd.to_datetime(frame["start"].unique())).sort_values().diff().dropna()
    s = s[s > pd.Timedelta(0)]
    return float(s.min().total_seconds()) if len(s) else 1800.0


def day_time_grid(summary: pd.DataFrame, key: str, value: str, metric: str) -> pd.DataFrame:
    """Mean of ``metric`` for ``key == value`` as a day (rows) × time of day (columns) grid."""
    f = summary[(summary["metric"] == metric) & (summary[key].astype(str) == value)]
    t = pd.to_datetime(f["start"])
    return (pd.DataFrame({"day": t.dt.date.to_numpy(), "time": t.dt.strftime("%H:%M").to_numpy(),
                          "mean": f["mean"].to_numpy(dtype=float)})
            .pivot_table(index="day", columns="time", values="mean", aggfunc="mean", dropna=False)
            .sort_index(axis=1))


# --- HTML and figures for the report ---------------------------------------------------


def _sl_cell(mean, low, high) -> str:
    text = escape(fmt(mean, "pct"))
    if low == low and high == high and high > low:  # as in the other tables: ± h or +a/-b
        text += f'<br><span class="ci">{escape(ci_text(mean, low, high, "pct"))}</span>'
    return text


def missed_table_html(d: ResultsData) -> str:
    """The "Intervals that missed target" section."""
    from bposim.report.html import _table

    targets = {q.id: q.target for q in d.queues if q.target == q.target}
    if not targets or not len(d.interval_summary):
        return ""
    miss = missed_intervals(d.interval_summary, targets)
    offered = _metric(d.interval_summary, "offered").set_index(["interval", "queue"])["mean"]
    total = int(_metric(d.interval_summary, "service_level")["mean"].notna().sum())
    head = (f"<h2>Intervals that missed target</h2><p>{len(miss)} of {total} interval × queue "
            "results have a mean service level below the queue's target; <em>clear</em>: the whole "
            "95 % CI is below it too. Largest shortfall first.</p>")
    if miss.empty:
        return head
    rows = [[escape(str(r.queue)), escape(pd.Timestamp(r.start).strftime("%a %Y-%m-%d %H:%M")),
             fmt(offered.get((r.interval, r.queue)), "num"), _sl_cell(r.mean, r.ci_low, r.ci_high),
             fmt(r.target, "pct", 0), fmt(r.shortfall, "pct"), "clear" if r.clear else "within CI"]
            for r in miss.head(MAX_MISSED_ROWS).itertuples(index=False)]
    more = (f"<p>… and {len(miss) - MAX_MISSED_ROWS} more (all of them: interval_summary.csv).</p>"
            if len(miss) > MAX_MISSED_ROWS else "")
    return head + _table(["queue", "interval start", "offered", "service level", "target", "shortfall",
                          "missed"], rows) + more


def daily_table_html(d: ResultsData) -> str:
    """The "Daily summary" section (horizons of more than one day)."""
    from bposim.report.html import _table

    if horizon_days(d) < 2 or not len(d.intervals):
        return ""
    targets = {q.id: q.target for q in d.queues}
    qs = daily_queue_summary(d.intervals, {q.id: q.definition for q in d.queues})
    ps = daily_pool_summary(d.pools_frame, interval_seconds(d.pools_frame)) if len(d.pools_frame) else None
    idx = qs.set_index(["day", "queue", "metric"])
    rows = []
    for (day, queue), _ in qs.groupby(["day", "queue"], sort=True):
        sl = idx.loc[(day, queue, "service_level")]
        off = idx.loc[(day, queue, "offered")]
        ab = idx.loc[(day, queue, "abandon_rate")]
        target = targets.get(str(queue), float("nan"))
        rows.append([escape(str(queue)), escape(pd.Timestamp(day).strftime("%a %Y-%m-%d")),
                     fmt(off["mean"], "int"), _sl_cell(sl["mean"], sl["ci_low"], sl["ci_high"]),
                     escape(met_flag(sl["mean"], sl["ci_low"], sl["ci_high"], target)),
                     fmt(ab["mean"], "pct")])
    out = ("<h2>Daily summary</h2><p>Each day's own service level and abandon rate (mean over "
           "replications of the day's ratio, 95 % CI).</p>"
           + _table(["queue", "day", "offered", "service level", "target", "abandoned"], rows))
    if ps is not None and len(ps):
        days = sorted(ps["day"].unique())
        occ = ps.pivot_table(index="pool", columns="day", values="mean", aggfunc="first", sort=False)
        prow = [[escape(str(p)), *(fmt(occ.loc[p].get(day), "pct") for day in days)] for p in occ.index]
        out += "<h3>Occupancy by day</h3>" + _table(
            ["pool", *(pd.Timestamp(day).strftime("%a %d %b") for day in days)], prow)
    return out


def net_staffing_html(d: ResultsData) -> str:
    """One line on the net staffing figure: intervals short of the requirement."""
    net = net_staffing(d.pool_summary, d.interval_baseline)
    if net["required"].isna().all():
        return ""
    short = net[net["net"] < 0]
    worst = short.loc[short["net"].idxmin()] if len(short) else None
    text = (f"<h2>Net staffing</h2><p>{len(short)} of {len(net)} intervals have fewer agents available "
            "(on duty, after breaks and shrinkage, all pools) than required (all queues: Erlang for "
            "voice and chat; for email and back office, their work as it arrives in agents, i.e. "
            "load at 100 % occupancy, rounded up: the fewest that keep up on average, not a "
            "due-time requirement)")
    if worst is not None:
        text += (f"; the largest deficit is {-worst['net']:.1f} agents at "
                 f"{pd.Timestamp(worst['start']).strftime('%a %Y-%m-%d %H:%M')}")
    return text + ". See the net staffing figure.</p>"


def views_html(d: ResultsData) -> str:
    """Every view section of a single-run report, in page order."""
    return net_staffing_html(d) + missed_table_html(d) + daily_table_html(d)


def view_figures(d: ResultsData, colours=None) -> list[tuple]:
    """(slug, title, caption, Figure) of the views: net staffing, and for horizons of
    more than one day, day × time-of-day heatmaps of service level and occupancy."""
    from bposim.report.figures import day_time_heatmap, net_staffing_figure

    out = []
    if len(d.pool_summary) and d.queues:  # no queues (outbound only): no requirement to net
        net = net_staffing(d.pool_summary, d.interval_baseline)
        days = horizon_days(d)
        if days > LINE_CHART_DAYS:
            net = net[pd.to_datetime(net["start"]) < pd.to_datetime(net["start"]).min().normalize()
                      + pd.Timedelta(days=LINE_CHART_DAYS)]
        span = f" (first {LINE_CHART_DAYS} of {days} days)" if days > LINE_CHART_DAYS else ""
        out.append(("net_staffing", "Net staffing" + span,
                    "Agents available (on duty after breaks and shrinkage, all pools) against the "
                    "Erlang requirement (all queues, each for its own target); bars: surplus (+) or "
                    "deficit (−) per interval.", net_staffing_figure(net)))
    if horizon_days(d) > 1:
        targets = d.targets()
        grids = {f"queue {q.id}": day_time_grid(d.interval_summary, "queue", q.id, "service_level")
                 for q in d.queues}
        grids = {k: g for k, g in grids.items() if g.size}
        if grids:
            out.append(("sl_heatmap", "Service level by day and time of day",
                        "Mean service level per interval over replications, one row per day; "
                        "cells below the queue's target are outlined. Blank: nothing offered.",
                        day_time_heatmap(grids, "Service level by day and time of day",
                                         {f"queue {q}": t for q, t in targets.items()})))
        grids = {f"pool {p.id}" + (" (SME)" if p.is_sme else ""):
                 day_time_grid(d.pool_summary, "pool", p.id, "occupancy") for p in d.pools}
        grids = {k: g for k, g in grids.items() if g.size}
        if grids:
            out.append(("occupancy_heatmap", "Occupancy by day and time of day",
                        "Mean occupancy (busy share of available time) per interval over "
                        "replications, one row per day. Blank: nobody available.",
                        day_time_heatmap(grids, "Occupancy by day and time of day")))
    return out


def report_figures(d: ResultsData) -> list[tuple]:
    """Every figure of a single-run report: the interval charts (the first
    :data:`LINE_CHART_DAYS` days of a longer horizon) and the views."""
    from bposim.report import build_figures, palette

    days = horizon_days(d)
    built = build_figures(first_days(d) if days > LINE_CHART_DAYS else d)
    if days > LINE_CHART_DAYS:
        built = [(slug, f"{title} (first {LINE_CHART_DAYS} of {days} days)",
                  f"{caption} The day × time-of-day heatmaps cover the whole horizon.", fig)
                 if slug in INTERVAL_FIGURES else (slug, title, caption, fig)
                 for slug, title, caption, fig in built]
    colours = palette([q.id for q in d.queues] + [p.id for p in d.pools])
    return built + view_figures(d, colours)
