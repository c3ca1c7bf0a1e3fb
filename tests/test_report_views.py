"""Planner's views of a report: net staffing, intervals that missed target, daily
summaries, and long horizons drawn as day × time-of-day heatmaps (no week-long line chart)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from helpers import single_queue

import bposim
from bposim.report.html import FigurePng, render_html
from bposim.report.load import load_results
from bposim.report.views import (
    LINE_CHART_DAYS, daily_queue_summary, met_flag, missed_intervals, net_staffing, report_figures,
)

T0 = pd.Timestamp("2026-01-05 08:00")


def _summary(rows):
    return pd.DataFrame(rows, columns=["interval", "start", "queue", "metric", "mean", "ci_low", "ci_high", "n"])


def test_missed_intervals_lists_only_shortfalls_largest_first():
    s = _summary([
        (0, T0, "a", "service_level", 0.90, 0.85, 0.95, 5),   # met
        (1, T0 + pd.Timedelta("30min"), "a", "service_level", 0.70, 0.60, 0.78, 5),  # clear miss
        (2, T0 + pd.Timedelta("60min"), "a", "service_level", 0.75, 0.65, 0.85, 5),  # within CI
        (0, T0, "b", "service_level", 0.50, 0.40, 0.60, 5),   # b's target is 0.5: met exactly
        (0, T0, "a", "offered", 10, 8, 12, 5),
    ])
    m = missed_intervals(s, {"a": 0.8, "b": 0.5})
    assert list(m["interval"]) == [1, 2]
    assert m["shortfall"].tolist() == pytest.approx([0.10, 0.05])
    assert m["clear"].tolist() == [True, False]
    assert met_flag(0.9, 0.85, 0.95, 0.8) == "met"
    assert met_flag(0.75, 0.65, 0.85, 0.8) == "missed (within CI)"
    assert met_flag(0.70, 0.60, 0.78, 0.8) == "missed"


def test_net_staffing_sums_pools_and_queues():
    pools = pd.DataFrame([
        (0, T0, "p1", "scheduled_agents", 10.0), (0, T0, "p1", "agents_available", 8.0),
        (0, T0, "p2", "scheduled_agents", 5.0), (0, T0, "p2", "agents_available", 4.0),
    ], columns=["interval", "start", "pool", "metric", "mean"])
    baseline = pd.DataFrame({"interval": [0, 0], "queue": ["a", "b"], "erlang_required_agents": [9, 6]})
    net = net_staffing(pools, baseline)
    assert net[["on_duty", "available", "required", "net"]].iloc[0].tolist() == [15.0, 12.0, 15.0, -3.0]
    assert net_staffing(pools, None)["required"].isna().all()


def test_daily_service_level_is_each_days_own_ratio():
    # two replications, two days, two intervals a day; hand-computed day ratios
    rows = []
    for rep, (d1, d2) in enumerate([((8, 10, 2, 10), (5, 10, 0, 0)), ((9, 10, 1, 10), (6, 10, 0, 0))]):
        for day, (w1, o1, w2, o2) in enumerate([d1, d2]):
            for k, (w, o) in enumerate([(w1, o1), (w2, o2)]):
                rows.append(dict(replication=rep, interval=4 * day + k,
                                 start=T0 + pd.Timedelta(days=day, minutes=30 * k), queue="a",
                                 offered=o, answered=o, abandoned=0, answered_within=w,
                                 short_abandoned=0))
    daily = daily_queue_summary(pd.DataFrame(rows), {"a": "offered"})
    sl = daily[daily["metric"] == "service_level"].sort_values("day")
    # day 1: (8+2)/20 = 0.5 and (9+1)/20 = 0.5; day 2: 5/10 and 6/10
    assert sl["mean"].tolist() == pytest.approx([0.5, 0.55])
    offered = daily[daily["metric"] == "offered"].sort_values("day")
    assert offered["mean"].tolist() == [20, 10]


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    sc = single_queue(30, 180, 2, hours=10, patience=120)
    sc = dataclasses.replace(sc, horizon=dataclasses.replace(sc.horizon, days=7))
    out = tmp_path_factory.mktemp("week") / "res"
    bposim.run_to_directory(sc, out, replications=2, seed=4, executor="serial")
    return out


def _page(d, figs) -> str:
    """The report page without rendering PNGs (the slow part; write_report is tested elsewhere)."""
    return render_html(d, [FigurePng(slug, title, "", b"") for slug, (title, _fig) in figs.items()])


def _span_days(fig) -> float:
    lo, hi = fig.axes[0].get_xlim()
    return float(hi - lo)  # matplotlib date units are days


def test_week_long_report_has_heatmaps_and_no_week_long_line_chart(week):
    d = load_results(week)
    figs = {slug: (title, fig) for slug, title, _caption, fig in report_figures(d)}
    assert {"sl_heatmap", "occupancy_heatmap", "net_staffing"} <= set(figs)
    for slug in ("service_level", "volumes", "staffing", "net_staffing"):
        title, fig = figs[slug]
        assert _span_days(fig) <= LINE_CHART_DAYS + 0.5, f"{slug} spans {_span_days(fig):.1f} days"
    heat = figs["sl_heatmap"][1]
    assert len(heat.axes[0].get_yticklabels()) == 7  # one row per day
    page = _page(d, figs)
    for section in ("Daily summary", "Intervals that missed target", "Net staffing"):
        assert section in page
    assert 'id="fig-sl_heatmap"' in page and "(first 3 of 7 days)" in page
    # the daily table lists each of the 7 days
    assert sum(page.count(f"2026-01-{day:02d}</td>") for day in range(5, 12)) >= 7


def test_one_day_report_has_no_heatmap_or_daily_table(tmp_path):
    out = tmp_path / "res"
    bposim.run_to_directory(single_queue(30, 180, 3, hours=3), out, replications=2, seed=1,
                            executor="serial")
    d = load_results(out)
    page = _page(d, {slug: (title, fig) for slug, title, _c, fig in report_figures(d)})
    assert "Daily summary" not in page and 'id="fig-sl_heatmap"' not in page
    assert 'id="fig-net_staffing"' in page


def test_wait_figure_draws_the_service_level_curve_at_recorded_thresholds():
    from bposim.report import wait_distribution_figure

    rows = [("service_level", "queue:q", 0.6, 0.5, 0.7, 3), ("sl_at_60s", "queue:q", 0.7, 0.6, 0.8, 3),
            ("sl_at_10s", "queue:q", 0.5, 0.4, 0.6, 3), ("wait_p50", "queue:q", 5.0, 4.0, 6.0, 3),
            ("wait_p90", "queue:q", 80.0, 70.0, 90.0, 3), ("wait_p95", "queue:q", 120.0, 100.0, 140.0, 3)]
    summary = pd.DataFrame(rows, columns=["metric", "scope", "mean", "ci_low", "ci_high", "n"])
    fig = wait_distribution_figure(summary=summary, answer_within={"q": 20})
    curve = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert len(curve) == 1
    assert list(curve[0].get_xdata()) == [10.0, 20.0, 60.0]
    assert list(curve[0].get_ydata()) == [0.5, 0.6, 0.7]


def test_two_arrivals_a_day_over_two_days(tmp_path):
    """Small counts: most intervals offer nothing (no SL), yet every view renders and the
    daily offered counts equal the contacts counted per replication and day."""
    from bposim.report.views import daily_queue_summary, views_html

    sc = single_queue(2 / 24, 180, 1, hours=24)
    sc = dataclasses.replace(sc, horizon=dataclasses.replace(sc.horizon, days=2))
    out = tmp_path / "res"
    bposim.run_to_directory(sc, out, replications=3, seed=8, executor="serial")
    d = load_results(out)
    html = views_html(d)
    assert "Daily summary" in html
    figs = {slug for slug, *_ in report_figures(d)}
    assert {"sl_heatmap", "occupancy_heatmap", "net_staffing"} <= figs
    daily = daily_queue_summary(d.intervals, {"q": "offered"})
    offered = daily[daily["metric"] == "offered"].sort_values("day")["mean"].to_numpy()
    per_day = (d.intervals.assign(day=pd.to_datetime(d.intervals["start"]).dt.date)
               .groupby(["replication", "day"])["offered"].sum().groupby("day").mean().to_numpy())
    assert offered.tolist() == per_day.tolist()
