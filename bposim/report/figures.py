"""Matplotlib figures of a results set; each function takes frames and returns a Figure.

Figures are built with :class:`matplotlib.figure.Figure` directly (Agg canvas, no
pyplot state), so nothing is ever shown and nothing needs closing. Colours come from
one fixed palette keyed by sorted ids (:func:`palette`), so a queue or pool keeps
its colour in every figure of a report. Time axes read as HH:MM, with the day at
midnight.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from bposim import metric_registry as registry

ABANDONED_COLOUR = "0.35"  # grey: never mistaken for a queue's colour
PANEL_HEIGHT = 2.3
WIDTH = 10.0


def palette(ids: Iterable[str]) -> dict[str, tuple]:
    """A fixed colour per id, in sorted-id order: tab10's colours, then their light
    tab20 variants; greys are left out, for the abandoned area and the heatmap blanks."""
    dark, light = colormaps["tab10"].colors, colormaps["tab20"].colors[1::2]
    colours = [c for k, c in enumerate(dark) if k != 7] + [c for k, c in enumerate(light) if k != 7]
    return {i: colours[k % len(colours)] for k, i in enumerate(sorted({str(i) for i in ids}))}


def _colours(colours, ids) -> dict:
    return colours if colours is not None else palette(ids)


def _tick(x, pos=None) -> str:
    t = mdates.num2date(x)
    return t.strftime("%a %d %b\n%H:%M") if (t.hour, t.minute) == (0, 0) else t.strftime("%H:%M")


def _time_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    ax.grid(True, alpha=0.3)


def _width(starts: pd.Series) -> pd.Timedelta:
    """The interval length, read from the spacing of interval starts (30 min if unknown)."""
    s = pd.Series(pd.to_datetime(starts.unique())).sort_values().diff().dropna()
    s = s[s > pd.Timedelta(0)]
    return s.min() if len(s) else pd.Timedelta(minutes=30)


def _steps(frame: pd.DataFrame, column: str, width: pd.Timedelta):
    """x and y for a steps-post line that also covers the last interval."""
    f = frame.sort_values("start")
    x = pd.to_datetime(f["start"]).to_numpy()
    y = f[column].to_numpy(dtype=float)
    if len(x):
        x = np.append(x, x[-1] + width.to_timedelta64())
        y = np.append(y, y[-1])
    return x, y


def _wide(summary: pd.DataFrame, key: str, metric: str) -> pd.DataFrame:
    return summary[summary["metric"] == metric].sort_values([key, "start"])


def _panels(n: int, title: str) -> tuple[Figure, list]:
    fig = Figure(figsize=(WIDTH, 1.0 + PANEL_HEIGHT * max(n, 1)), layout="constrained")
    axes = fig.subplots(max(n, 1), 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle(title)
    return fig, list(axes)


def _ids(frame: pd.DataFrame, key: str) -> list[str]:
    return [str(i) for i in dict.fromkeys(frame[key])]


def service_level_figure(interval_summary: pd.DataFrame, targets: Mapping[str, float] | None = None,
                         colours: Mapping[str, tuple] | None = None) -> Figure:
    """Service level by interval per queue: mean line, 95 % CI band, target line."""
    queues = _ids(interval_summary, "queue")
    colours = _colours(colours, queues)
    sl = _wide(interval_summary, "queue", "service_level")
    width = _width(interval_summary["start"])
    fig, axes = _panels(len(queues), "Service level by interval (mean over replications, 95 % CI band)")
    for ax, q in zip(axes, queues):
        f = sl[sl["queue"] == q]
        x, y = _steps(f, "mean", width)
        _, lo = _steps(f, "ci_low", width)
        _, hi = _steps(f, "ci_high", width)
        colour = colours.get(q, "C0")
        ax.plot(x, y, drawstyle="steps-post", color=colour, lw=1.6, label="simulated mean")
        ax.fill_between(x, np.clip(lo, 0, 1), np.clip(hi, 0, 1), step="post", color=colour,
                        alpha=0.25, lw=0, label="95 % CI")
        target = (targets or {}).get(q)
        if target is not None and target == target:
            ax.axhline(target, color="black", ls="--", lw=1, label=f"target {target:.0%}")
        ax.set_title(f"queue {q}", loc="left", fontsize=10)
        ax.set_ylabel("service level (%)")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _time_axis(ax)
        ax.legend(loc="lower left", fontsize=8, ncols=3)
    axes[-1].set_xlabel("interval start (scenario time; gaps: nothing offered)")
    return fig


def wait_distribution_figure(contacts: pd.DataFrame | None = None, summary: pd.DataFrame | None = None,
                             answer_within: Mapping[str, float] | None = None,
                             colours: Mapping[str, tuple] | None = None,
                             warmup_seconds: float = 0.0) -> Figure:
    """Answer-time distribution per queue.

    With ``contacts`` (kept contact records): the empirical CDF of answered contacts'
    waits after the warm-up. Without: the run-level p50/p90/p95 of the waits from
    ``summary`` as points with their 95 % CIs (the full curve needs --keep-contacts).
    """
    fig = Figure(figsize=(WIDTH, 4.5), layout="constrained")
    ax = fig.subplots()
    answer_within = answer_within or {}
    if contacts is not None and len(contacts):
        c = contacts[(contacts["outcome"] == "answered") & (contacts["arrival"] >= warmup_seconds)]
        queues = sorted(set(c["queue"].astype(str)) | set(answer_within))
        colours = _colours(colours, queues)
        right = 0.0
        for q, g in c.groupby(c["queue"].astype(str), sort=True):
            w = np.sort(g["wait"].to_numpy(dtype=float))
            keep = np.unique(np.linspace(0, w.size - 1, min(w.size, 2000)).astype(int))
            ax.step(np.r_[0.0, w[keep]], np.r_[0.0, (keep + 1) / w.size], where="post",
                    color=colours.get(q, "C0"), lw=1.6, label=f"{q} ({w.size:,} answered)")
            right = max(right, float(np.quantile(w, 0.995)))
        ax.set_title("Answer-time distribution: empirical CDF of answered contacts' waits "
                     "(all replications)", fontsize=11)
    elif summary is not None and len(summary):
        rows = summary[summary["metric"].isin([f"wait_p{p}" for p in registry.PERCENTILES])
                       & registry.in_scope(summary["scope"], "queue")]
        ids = rows["scope"].astype(str).map(registry.scope_id)
        queues = sorted(set(ids) | set(answer_within))
        colours = _colours(colours, queues)
        right = 0.0
        for q, g in rows.groupby(ids, sort=True):
            g = g.sort_values("metric")
            p = g["metric"].str[6:].astype(float).to_numpy() / 100
            m = g["mean"].to_numpy(dtype=float)
            err = np.vstack([m - g["ci_low"].to_numpy(dtype=float), g["ci_high"].to_numpy(dtype=float) - m])
            ax.errorbar(m, p, xerr=np.nan_to_num(np.clip(err, 0, None)), fmt="o", ms=6, capsize=3,
                        color=colours.get(q, "C0"), label=f"{q}: p50, p90, p95")
            right = max(right, float(np.nanmax(g["ci_high"].to_numpy(dtype=float), initial=0.0)))
        right = max(right, _service_level_curve(ax, summary, answer_within, colours))
        ax.set_title("Answer-time percentiles per queue (mean over replications, 95 % CI); "
                     "run with --keep-contacts for the full curve", fontsize=11)
    else:
        raise ValueError("wait_distribution_figure needs contacts or a summary")
    for q, t in sorted(answer_within.items()):
        if q in colours:
            ax.axvline(t, color=colours[q], ls=":", lw=1.2, label=f"{q}: answer within {t:g} s")
            right = max(right, 1.5 * t)
    ax.set_xlim(0, right if right > 0 else 1.0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("wait before answer (s)")
    ax.set_ylabel("share of answered contacts (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no legend (and no warning) without a labelled line
        ax.legend(loc="lower right", fontsize=8)
    return fig


def _service_level_curve(ax, summary: pd.DataFrame, answer_within: Mapping[str, float],
                         colours: Mapping[str, tuple]) -> float:
    """Service level at each recorded answer time (the queue's threshold and any
    ``report_thresholds``: ``sl_at_<T>s``) as a dashed curve with 95 % CIs; returns the
    largest time drawn. Uses the queue's own SL definition, so with abandonment it sits
    below the answered-wait percentiles."""
    right = 0.0
    scopes = summary["scope"].astype(str)
    for q in sorted(registry.scope_ids(scopes, "queue")):
        rows = summary[scopes == registry.scope_key("queue", q)]
        points = []
        for r in rows.itertuples(index=False):
            name = str(r.metric)
            if name == "service_level" and q in answer_within:
                points.append((float(answer_within[q]), r))
            elif name.startswith("sl_at_") and name.endswith("s"):
                try:
                    points.append((float(name[6:-1]), r))
                except ValueError:
                    continue
        if len(points) < 2:
            continue  # one point is already the SL table's number; a curve needs more
        points.sort(key=lambda p: p[0])
        x = np.array([p[0] for p in points])
        m = np.array([p[1].mean for p in points], dtype=float)
        err = np.nan_to_num(np.clip(np.vstack([m - np.array([p[1].ci_low for p in points], dtype=float),
                                               np.array([p[1].ci_high for p in points], dtype=float) - m]),
                                    0, None))
        ax.errorbar(x, m, yerr=err, fmt="s--", ms=4, capsize=3, lw=1, color=colours.get(q, "C0"),
                    label=f"{q}: service level within T")
        right = max(right, float(x.max()))
    return right


def volume_figure(interval_summary: pd.DataFrame, colours: Mapping[str, tuple] | None = None) -> Figure:
    """Offered and answered (lines) and abandoned (grey area) contacts by interval, per queue."""
    queues = _ids(interval_summary, "queue")
    colours = _colours(colours, queues)
    width = _width(interval_summary["start"])
    minutes = int(width.total_seconds() // 60)
    fig, axes = _panels(len(queues), "Offered, answered and abandoned contacts by interval "
                                     "(mean over replications)")
    for ax, q in zip(axes, queues):
        for metric, ls in (("offered", "-"), ("answered", "--")):
            f = _wide(interval_summary, "queue", metric)
            x, y = _steps(f[f["queue"] == q], "mean", width)
            ax.plot(x, y, drawstyle="steps-post", ls=ls, lw=1.4, color=colours.get(q, "C0"), label=metric)
        f = _wide(interval_summary, "queue", "abandoned")
        x, y = _steps(f[f["queue"] == q], "mean", width)
        ax.fill_between(x, 0, np.nan_to_num(y), step="post", color=ABANDONED_COLOUR, alpha=0.6, lw=0,
                        label="abandoned")
        ax.set_title(f"queue {q}", loc="left", fontsize=10)
        ax.set_ylabel(f"contacts per {minutes} min")
        ax.set_ylim(bottom=0)
        _time_axis(ax)
        ax.legend(loc="upper right", fontsize=8, ncols=3)
    axes[-1].set_xlabel("interval start (scenario time; a contact counts in the interval it arrived)")
    return fig


def staffing_figure(pool_summary: pd.DataFrame, interval_baseline: pd.DataFrame | None = None,
                    colours: Mapping[str, tuple] | None = None, *, with_queues: bool = True) -> Figure:
    """Agents per pool (on duty, available) above the Erlang requirement per queue
    (``with_queues=False``, for a centre without queues: the pools only).

    The two are kept apart on purpose: a pool may serve several queues and a queue
    several pools, so neither side can be summed onto the other honestly.
    """
    pools = _ids(pool_summary, "pool")
    queues = _ids(interval_baseline, "queue") if interval_baseline is not None else []
    colours = _colours(colours, pools + queues)
    width = _width(pool_summary["start"])
    if with_queues:
        fig, (top, bottom) = _panels(2, "Agents on duty vs the Erlang requirement")
    else:
        fig, (top,) = _panels(1, "Agents on duty")
        bottom = None
    for p in pools:
        for metric, ls, what in (("scheduled_agents", "-", "on duty"),
                                 ("agents_available", "--", "available")):
            f = _wide(pool_summary, "pool", metric)
            x, y = _steps(f[f["pool"] == p], "mean", width)
            top.plot(x, y, drawstyle="steps-post", ls=ls, lw=1.4, color=colours.get(p, "C0"),
                     label=f"{p} {what}")
    top.set_title("Per pool: agents on duty (solid) and available, i.e. not on shrinkage (dashed), "
                  "time-averaged", loc="left", fontsize=10)
    top.set_ylabel("agents")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if bottom is None:
        top.set_ylim(bottom=0)
        _time_axis(top)
        top.set_xlabel("interval start (scenario time)")
        return fig
    bottom.set_title("Per queue: agents Erlang says the queue alone needs for its target "
                     "(Erlang A with patience, else C; not additive across pools)", loc="left", fontsize=10)
    bottom.set_ylabel("agents (Erlang)")
    if interval_baseline is not None and len(interval_baseline):
        b = interval_baseline
        if "start" not in b.columns:
            starts = pool_summary[["interval", "start"]].drop_duplicates("interval")
            b = b.merge(starts, on="interval", how="inner")
        for q in queues:
            x, y = _steps(b[b["queue"] == q], "erlang_required_agents", width)
            bottom.plot(x, y, drawstyle="steps-post", lw=1.4, color=colours.get(q, "C0"),
                        label=f"queue {q}")
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    else:
        bottom.text(0.5, 0.5, "per-interval Erlang baseline not available for these results",
                    transform=bottom.transAxes, ha="center", va="center", color="0.4")
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        _time_axis(ax)
    bottom.set_xlabel("interval start (scenario time)")
    return fig


def occupancy_heatmap(pool_summary: pd.DataFrame, metrics: tuple[str, ...] = ("occupancy", "utilisation"),
                      colours: Mapping[str, tuple] | None = None) -> Figure:
    """Pool x interval heatmaps of occupancy and utilisation; SME pools are marked."""
    del colours  # the heatmap colours values, not pools
    pools = _ids(pool_summary, "pool")
    tiers = dict(zip(pool_summary["pool"].astype(str), pool_summary["tier"].astype(str)))
    width = _width(pool_summary["start"])
    starts = pd.to_datetime(pd.Series(pool_summary["start"].unique())).sort_values()
    edges = mdates.date2num(list(starts) + [starts.iloc[-1] + width])
    titles = {"occupancy": "Occupancy: busy share of available time",
              "utilisation": "Utilisation: busy share of paid time (shrinkage included)"}
    fig = Figure(figsize=(WIDTH, 1.2 + len(metrics) * (0.8 + 0.45 * len(pools))), layout="constrained")
    axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle("Pool occupancy and utilisation by interval (mean over replications; "
                 "blank: nobody available)")
    labels = [f"{p} (SME)" if tiers.get(p) == "sme" else p for p in pools]
    mesh = None
    for ax, metric in zip(axes, metrics):
        f = pool_summary[pool_summary["metric"] == metric]
        grid = (f.pivot_table(index="pool", columns="start", values="mean", aggfunc="mean", dropna=False)
                .reindex(index=pools, columns=starts))
        mesh = ax.pcolormesh(edges, np.arange(len(pools) + 1), np.ma.masked_invalid(grid.to_numpy(float)),
                             vmin=0, vmax=1, cmap="viridis", shading="flat")
        ax.set_yticks(np.arange(len(pools)) + 0.5, labels)
        for tick, p in zip(ax.get_yticklabels(), pools):
            if tiers.get(p) == "sme":
                tick.set_fontweight("bold")
        ax.invert_yaxis()
        ax.set_title(titles.get(metric, metric), loc="left", fontsize=10)
        ax.set_ylabel("pool")
        ax.xaxis_date()
        _time_axis(ax)
        ax.grid(False)
    axes[-1].set_xlabel("interval start (scenario time)")
    if mesh is not None:
        fig.colorbar(mesh, ax=list(axes), label="share of time (%)",
                     format=PercentFormatter(1.0, decimals=0), fraction=0.04)
    return fig


COST_COLUMNS = ("variant", "cost", "cost_ci_low", "cost_ci_high", "service_level", "sl_ci_low", "sl_ci_high")


def cost_service_figure(frame: pd.DataFrame, cost_label: str = "cost") -> Figure:
    """Cost against service level for compared variants, with 95 % CI error bars.

    ``frame`` has one row per variant with the columns in :data:`COST_COLUMNS`.
    """
    missing = [c for c in COST_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"cost_service_figure needs columns {', '.join(missing)}")
    fig = Figure(figsize=(WIDTH * 0.8, 5), layout="constrained")
    ax = fig.subplots()
    colours = palette(frame["variant"].astype(str))
    for row in frame.itertuples(index=False):
        name = str(row.variant)
        xerr = [[max(row.service_level - row.sl_ci_low, 0)], [max(row.sl_ci_high - row.service_level, 0)]]
        yerr = [[max(row.cost - row.cost_ci_low, 0)], [max(row.cost_ci_high - row.cost, 0)]]
        ax.errorbar([row.service_level], [row.cost], xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr),
                    fmt="o", ms=7, capsize=4, color=colours[name], label=name)
        ax.annotate(name, (row.service_level, row.cost), textcoords="offset points", xytext=(6, 6),
                    fontsize=9)
    ax.set_xlabel("service level (%)")
    ax.set_ylabel(cost_label)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Cost vs service level by variant (mean over replications, 95 % CI)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def cost_service_frame(summaries: Mapping[str, pd.DataFrame], cost_metric: str = "cost",
                       cost_scope: str = "all", sl_metric: str = "sl_offered",
                       sl_scope: str = "all") -> pd.DataFrame | None:
    """One row per variant for :func:`cost_service_figure` from each variant's summary
    table; None when a summary lacks either metric or no variant has a cost (a scenario
    without cost rates reports a cost of 0)."""
    rows = []
    for variant, s in summaries.items():
        cost = s[(s["metric"] == cost_metric) & (s["scope"] == cost_scope)]
        sl = s[(s["metric"] == sl_metric) & (s["scope"] == sl_scope)]
        if cost.empty or sl.empty:
            return None
        c, q = cost.iloc[0], sl.iloc[0]
        rows.append((variant, c["mean"], c["ci_low"], c["ci_high"], q["mean"], q["ci_low"], q["ci_high"]))
    frame = pd.DataFrame(rows, columns=list(COST_COLUMNS))
    return frame if len(frame) and (frame["cost"].fillna(0) != 0).any() else None


def net_staffing_figure(net: pd.DataFrame, title: str = "Net staffing: agents available vs the "
                        "Erlang requirement", required_label: str = "required (Erlang)",
                        extra: Mapping[str, str] | None = None) -> Figure:
    """Agents available against the requirement per interval, with surplus / deficit bars.

    ``net`` has ``start``, ``on_duty``, ``available``, ``required`` and ``net`` per
    interval (see :func:`bposim.report.views.net_staffing`); ``extra`` maps more of its
    columns to labels, drawn as thin lines (e.g. other requirements of a plan).
    """
    width = _width(net["start"]) if len(net) else pd.Timedelta(minutes=30)
    fig, (top, bottom) = _panels(2, title)
    for k, (column, label) in enumerate((extra or {}).items()):
        if column in net and net[column].notna().any():
            x, y = _steps(net, column, width)
            top.plot(x, y, drawstyle="steps-post", lw=1.0, color=f"C{k + 2}", alpha=0.8, label=label)
    for column, ls, colour, label in (("on_duty", ":", "0.45", "on duty"),
                                      ("available", "-", "C0", "available (after breaks and shrinkage)"),
                                      ("required", "--", "black", required_label)):
        if column in net and net[column].notna().any():
            x, y = _steps(net, column, width)
            top.plot(x, y, drawstyle="steps-post", ls=ls, lw=1.5, color=colour, label=label)
    top.set_ylabel("agents")
    top.set_ylim(bottom=0)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if net["net"].notna().any():
        x = pd.to_datetime(net["start"]).to_numpy()
        y = net["net"].to_numpy(dtype=float)
        days = width / pd.Timedelta(days=1)
        colours = np.where(y >= 0, "tab:green", "tab:red")
        bottom.bar(x, np.nan_to_num(y), width=days, align="edge", color=colours, lw=0)
        bottom.axhline(0, color="black", lw=0.8)
        bottom.set_title("surplus (+, green) or deficit (−, red) of agents available", loc="left",
                         fontsize=10)
    else:
        bottom.text(0.5, 0.5, "no per-interval Erlang requirement for these results",
                    transform=bottom.transAxes, ha="center", va="center", color="0.4")
    bottom.set_ylabel("agents")
    for ax in (top, bottom):
        _time_axis(ax)
    bottom.set_xlabel("interval start (scenario time)")
    return fig


def day_time_heatmap(grids: Mapping[str, pd.DataFrame], title: str,
                     targets: Mapping[str, float] | None = None) -> Figure:
    """One day (rows) × time-of-day (columns) heatmap per entry of ``grids`` (shares in
    [0, 1], e.g. from :func:`bposim.report.views.day_time_grid`); cells below the
    entry's target, if given, are outlined in red."""
    names = list(grids)
    rows = sum(max(len(g), 1) for g in grids.values())
    fig = Figure(figsize=(WIDTH, 1.4 + 0.9 * len(names) + 0.22 * rows), layout="constrained")
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    fig.suptitle(title)
    mesh = None
    for ax, name in zip(axes, names):
        g = grids[name]
        values = np.ma.masked_invalid(g.to_numpy(dtype=float))
        mesh = ax.pcolormesh(np.arange(g.shape[1] + 1), np.arange(g.shape[0] + 1), values,
                             vmin=0, vmax=1, cmap="viridis", shading="flat")
        target = (targets or {}).get(name)
        if target is not None and target == target:
            below = np.argwhere(g.to_numpy(dtype=float) < target)
            for r, c in below:
                ax.add_patch(Rectangle((c, r), 1, 1, fill=False, ec="red", lw=0.8))
        ax.set_yticks(np.arange(len(g)) + 0.5, [pd.Timestamp(d).strftime("%a %d %b") for d in g.index],
                      fontsize=8)
        step = max(1, g.shape[1] // 12)
        ticks = np.arange(0, g.shape[1], step)
        ax.set_xticks(ticks, [g.columns[i] for i in ticks], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(name + (f" (target {target:.0%}; red: below)" if target == target and target is not None
                             else ""), loc="left", fontsize=10)
    axes[-1].set_xlabel("time of day (scenario time)")
    if mesh is not None:
        fig.colorbar(mesh, ax=list(axes), format=PercentFormatter(1.0, decimals=0), fraction=0.04)
    return fig


def variants_figure(table: pd.DataFrame, pairs: list[tuple[str, str]]) -> Figure:
    """Key metrics per variant (or sweep point) with 95 % CI error bars: service levels
    in one panel (a series per queue), utilisation in another (a series per pool).

    ``table`` is tidy with ``variant, metric, scope, mean, ci_low, ci_high`` (a
    comparison table); ``pairs`` are the (metric, scope) to draw.
    """
    variants = list(dict.fromkeys(table["variant"].astype(str)))
    groups = {}
    for metric, scope in pairs:
        groups.setdefault(metric, []).append(scope)
    fig, axes = _panels(len(groups), "Key metrics by variant (mean over replications, 95 % CI)")
    colours = palette([s for scopes in groups.values() for s in scopes])
    x = np.arange(len(variants))
    idx = table.assign(variant=table["variant"].astype(str)).set_index(["variant", "metric", "scope"])
    for ax, (metric, scopes) in zip(axes, groups.items()):
        for k, scope in enumerate(scopes):
            rows = [idx.loc[(v, metric, scope)] if (v, metric, scope) in idx.index else None for v in variants]
            m = np.array([np.nan if r is None else r["mean"] for r in rows], dtype=float)
            lo = np.array([np.nan if r is None else r["ci_low"] for r in rows], dtype=float)
            hi = np.array([np.nan if r is None else r["ci_high"] for r in rows], dtype=float)
            err = np.nan_to_num(np.clip(np.vstack([m - lo, hi - m]), 0, None))
            shift = (k - (len(scopes) - 1) / 2) * 0.08
            ax.errorbar(x + shift, m, yerr=err, fmt="o-", ms=5, capsize=3, lw=1,
                        color=colours.get(scope, "C0"), label=scope)
        ax.set_title(metric.replace("_", " "), loc="left", fontsize=10)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axes[-1].set_xticks(x, variants, rotation=20 if len(variants) > 4 else 0, ha="right" if len(variants) > 4 else "center",
                        fontsize=8)
    return fig
