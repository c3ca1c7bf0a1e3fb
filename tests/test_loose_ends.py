"""Loose ends between finished features: the measurement window in the Erlang baseline,
planning and the report; extra service-level columns and asymmetric intervals in the
tables; the API page and the ignored output folders."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import Arrivals, single_queue

import bposim
from bposim import erlang
from bposim.scenario.schema import MeasureWindow

ROOT = Path(__file__).resolve().parents[1]
OFFICE = MeasureWindow(start=dt.time(9), end=dt.time(17))  # intervals 18..33 of a 30-minute day


def _windowed(scenario, volumes, measure=OFFICE, warmup=0.0):
    q = replace(scenario.queues[0], arrivals=Arrivals(volumes=tuple(float(v) for v in volumes)))
    sim = replace(scenario.simulation, measure=measure, warmup_minutes=warmup)
    return replace(scenario, queues=(q,), simulation=sim)


# --- 1. the Erlang baseline beside the simulated figures covers the window ----------------

def test_run_baseline_covers_only_the_measurement_window():
    """Busy office hours, a quiet night: the run-level Erlang SL is that of the office load
    alone (each window interval has the same load, so the weighted mean is one Erlang C
    figure), not a mix with the night's near-perfect service."""
    agents, aht = 8, 300
    day = [2.0] * 18 + [40.0] * 16 + [2.0] * 14  # 40 per half hour = 80 an hour in the window
    model = bposim.compile_scenario(_windowed(single_queue(1, aht, agents), day))
    b = bposim.run_baseline(model).set_index("queue").loc["q"]
    office = float(erlang.service_level(80 * aht / 3600, agents, aht, 20))
    night = float(erlang.service_level(4 * aht / 3600, agents, aht, 20))
    assert office < 0.75 < night  # the two differ enough for the test to tell them apart
    assert b["erlang_service_level"] == pytest.approx(office, rel=1e-12)
    assert b["expected_offered"] == 16 * 40.0
    assert b["erlang_required_agents_peak"] == float(erlang.required_agents(80 * aht / 3600, aht, 20, 0.8))


def test_run_baseline_with_a_window_and_a_warm_up_drops_both():
    """The warm-up (first hour) falls inside a 00:00-12:00 window: the baseline covers
    01:00-12:00 only, as the simulated run-level figures do."""
    day = [float(k + 1) for k in range(48)]  # a different volume in every interval
    sc = _windowed(single_queue(1, 120, 4), day, MeasureWindow(end=dt.time(12)), warmup=60)
    b = bposim.run_baseline(bposim.compile_scenario(sc)).set_index("queue").loc["q"]
    assert b["expected_offered"] == sum(day[2:24])


# --- 5. the API page lists every export; default output folders are ignored by git ------

def test_every_top_level_export_has_a_row_on_the_api_page():
    rows = [ln for ln in (ROOT / "docs" / "api.md").read_text(encoding="utf-8").splitlines()
            if ln.startswith("| `")]
    named = {m for ln in rows for m in re.findall(r"`(\w+)", ln.split("|")[1])}
    from bposim import _EXPORTS

    assert set(_EXPORTS) - named == set()


def test_default_output_folders_of_the_commands_are_ignored_by_git():
    from bposim.cli import main

    folders = set()
    for command in main.commands.values():
        for option in command.params:
            folders |= set(re.findall(r"\(default: ([a-z][\w.-]*)/", getattr(option, "help", None) or ""))
    assert {"results", "plans"} <= folders  # the commands' help names their defaults
    ignored = set((ROOT / ".gitignore").read_text(encoding="utf-8").splitlines())
    assert {f"/{f}/" for f in folders} - ignored == set()


# --- 2. planning judges daily and run-level targets over the window ----------------------

def test_planning_daily_and_run_targets_pool_only_the_window():
    """Two days, measured 09:00-17:00 on Tuesday only; busy office hours with few agents,
    quiet nights. The run-level and Tuesday's service level in the attainment table are
    the window's contacts pooled (counted independently from the per-interval frame);
    Monday, outside the window, has no daily figure; per-interval targets still cover
    every interval."""
    from bposim.planning.evaluate import assess, measured_intervals, resolve_targets
    from bposim.scenario.planning import PlanningSpec, QueueTarget

    day = [2.0] * 18 + [20.0] * 16 + [2.0] * 14
    sc = _windowed(single_queue(1, 300, 4), day, MeasureWindow(start=dt.time(9), end=dt.time(17),
                                                              days=("tue",)))
    sc = replace(sc, horizon=replace(sc.horizon, days=2))
    np.testing.assert_array_equal(measured_intervals(sc), bposim.compile_scenario(sc).measured)
    spec = PlanningSpec(targets=(QueueTarget("q", per=("interval", "day")),))
    res = bposim.run(sc, replications=3, seed=4, executor="serial")
    att = assess(res, resolve_targets(sc, spec), spec).attainment
    att = att[att["metric"] == "service_level"].set_index("scope")
    f = res.intervals
    window = f[(f["interval"] >= 48 + 18) & (f["interval"] < 48 + 34)].groupby("replication")
    expected = (window["answered_within"].sum() / window["offered"].sum()).mean()
    everything = f.groupby("replication")
    whole = (everything["answered_within"].sum() / everything["offered"].sum()).mean()
    assert abs(whole - expected) > 0.05  # the quiet nights would lift the figure
    assert att.loc["all", "value"] == pytest.approx(expected)
    assert att.loc["day 2026-01-06", "value"] == pytest.approx(expected)
    assert "day 2026-01-05" not in att.index
    intervals = [s for s in att.index if s.startswith("interval ")]
    assert "interval 2026-01-05 03:00" in intervals and "interval 2026-01-06 20:00" in intervals


def test_report_says_which_part_of_each_day_the_run_level_figures_cover(tmp_path):
    from bposim.report.html import render_html
    from bposim.report.load import load_results

    sc = _windowed(single_queue(1, 300, 4), [2.0] * 48,
                   MeasureWindow(start=dt.time(9), end=dt.time(17), days=("mon", "tue")), warmup=30)
    bposim.run_to_directory(sc, tmp_path / "r", replications=2, seed=1, executor="serial")
    page = render_html(load_results(tmp_path / "r"), [])
    horizon = re.search(r"<th>Horizon</th><td>(.*?)</td>", page).group(1)
    assert "warm-up 30 min" in horizon
    assert "run-level figures measured 09:00–17:00 on mon, tue" in horizon


def test_report_reads_the_window_as_written_by_hand(tmp_path):
    from bposim.report.load import _measure_text

    assert _measure_text({"measure": {"from": "08:00", "to": "20:00"}}) == "08:00–20:00 every day"
    assert _measure_text({"measure": {"days": ["sat"]}}) == "00:00–24:00 on sat"
    assert _measure_text({"warmup_minutes": 5}) == ""


# --- 3 and 4. extra service-level columns; intervals that are not centred -----------------

@pytest.fixture(scope="module")
def thresholds_run(tmp_path_factory):
    """Queue q reports SL at 10 s and 60 s besides its 20 s target; queue r reports none."""
    from helpers import Pool, Queue, ServiceLevelTarget, Skill, Staffing, exponential

    sc = single_queue(60, 180, 4, hours=4)
    q = replace(sc.queues[0], service_level=replace(sc.queues[0].service_level, report_thresholds=(60, 10)))
    r = Queue(id="r", handle_time=exponential(180), arrivals=Arrivals(volumes=(2.0,) * 8 + (0.0,) * 40),
              service_level=ServiceLevelTarget(answer_within=20, target=0.8))
    sc = replace(sc, queues=(q, r),
                 pools=(*sc.pools, Pool(id="pr", skills=(Skill("r"),), staffing=Staffing(agents=1))))
    out = tmp_path_factory.mktemp("thresholds") / "res"
    res = bposim.run_to_directory(sc, out, replications=4, seed=2, executor="serial").results
    return sc, res, out


def test_cli_queue_table_has_a_column_per_extra_threshold_within_the_terminal(thresholds_run, monkeypatch):
    from bposim.cli.simulate import summary_tables
    from bposim.numfmt import with_ci

    sc, res, _ = thresholds_run
    base = bposim.run_baseline(bposim.compile_scenario(sc))
    monkeypatch.setenv("COLUMNS", "300")
    lines = summary_tables(res, base).splitlines()
    header = lines[1]
    assert header.index("SL at 10 s") < header.index("SL at 60 s")  # by answer time
    row_q = next(ln for ln in lines if ln.startswith("q "))
    row_r = next(ln for ln in lines if ln.startswith("r "))
    for t in (10, 60):
        m = res.metric(f"sl_at_{t}s", "queue:q")
        assert with_ci(m["mean"], m["ci_low"], m["ci_high"], "pct") in row_q
    col = header.index("SL at 60 s") + len("SL at 60 s")
    assert row_r[:col].rstrip().endswith("-")  # r has no such threshold
    monkeypatch.setenv("COLUMNS", "80")
    narrow = summary_tables(res, base)
    queues = narrow.split("\n\nPools")[0]
    assert max(len(ln) for ln in queues.splitlines()[:-1]) <= 80
    assert all(h in queues for h in ("SL at 10 s", "SL at 60 s", "Erlang peak agents"))
    assert "wider than 80 columns" in queues


def test_report_queue_table_has_a_column_per_extra_threshold(thresholds_run):
    from bposim.report.html import _queue_table
    from bposim.report.load import load_results

    _, res, out = thresholds_run
    table = _queue_table(load_results(out))
    heads = re.findall(r"<th[^>]*>(.*?)</th>", table)
    assert heads[5:7] == ["SL at 10 s", "SL at 60 s"]
    assert heads[4] == "Erlang SL" and heads[7] == "ASA (s)"
    shaded = re.findall(r'<th class="erlang">(.*?)</th>', table)
    assert shaded == ["Erlang SL", "Erlang ASA (s)", "Erlang abandoned", "Erlang peak agents"]
    m = res.metric("sl_at_60s", "queue:q")
    assert f"{100 * m['mean']:.1f} %" in table


def test_no_threshold_columns_without_report_thresholds():
    from bposim.cli.simulate import summary_tables

    sc = single_queue(20, 180, 2, hours=2)
    res = bposim.run(sc, replications=2, seed=1, executor="serial")
    assert "SL at" not in summary_tables(res, bposim.run_baseline(bposim.compile_scenario(sc)))


def test_an_interval_that_is_not_centred_is_shown_with_both_distances():
    """A service level near 100 %: the Wilson interval reaches further below the mean than
    above it, so one ± would misstate one end; the distances are those of the limits."""
    from bposim.montecarlo import interval_bounds
    from bposim.numfmt import ci_text, with_ci

    lo, hi = (float(x) for x in interval_bounds(0.97, 0.012, 5, True, True))
    assert hi - 0.97 < 0.97 - lo  # independent of the formatter: the interval is skewed
    up, down = f"{100 * (hi - 0.97):.1f}", f"{100 * (0.97 - lo):.1f}"
    assert with_ci(0.97, lo, hi, "pct") == f"97.0 % +{up}/-{down}"
    assert with_ci(0.5, 0.4, 0.6, "pct") == "50.0 % ± 10.0"  # centred: one half-width
    assert ci_text(2.0, 1.5, 2.5) == "± 0.5" and ci_text(2.0, 1.0, 3.5) == "+1.5/-1.0"
    assert ci_text(1000, 940, 1066, "int") == "+66/-60"
    assert ci_text(2.0, float("nan"), float("nan")) == ""
    # the report writes the same text under the figure
    import pandas as pd
    from bposim.report.html import with_ci as report_ci

    summary = pd.DataFrame({"metric": ["service_level"], "scope": ["queue:q"], "mean": [0.97],
                            "ci_low": [lo], "ci_high": [hi], "n": [5]})
    assert f'<span class="ci">+{up}/-{down}</span>' in report_ci(summary, "service_level", "queue:q", "pct")
    from bposim.report.views import _sl_cell

    assert _sl_cell(0.97, lo, hi).endswith(f'<span class="ci">+{up}/-{down}</span>')


def test_two_contacts_a_day_one_inside_the_window():
    """One expected contact at 03:00 and one at 10:00, measured 09:00-17:00: the baseline
    expects one contact in the window, and planning's run-level figure is that of the
    10:00 interval alone (NaN in a replication where nobody called then)."""
    from bposim.planning.evaluate import assess, resolve_targets
    from bposim.scenario.planning import PlanningSpec, QueueTarget

    day = [0.0] * 48
    day[6], day[20] = 1.0, 1.0
    sc = _windowed(single_queue(1, 300, 1), day)
    assert bposim.run_baseline(bposim.compile_scenario(sc))["expected_offered"].tolist() == [1.0]
    res = bposim.run(sc, replications=6, seed=8, executor="serial")
    f = res.intervals[res.intervals["interval"] == 20].set_index("replication")
    np.testing.assert_array_equal(res.totals.query("metric == 'offered' and scope == 'queue:q'")["value"],
                                  f["offered"].to_numpy())
    spec = PlanningSpec(targets=(QueueTarget("q", per=("day",)),))
    att = assess(res, resolve_targets(sc, spec), spec).attainment.set_index("scope")
    with np.errstate(invalid="ignore", divide="ignore"):
        per_rep = (f["answered_within"] / f["offered"]).to_numpy()
    if np.isnan(per_rep).all():
        assert "all" not in att.index or np.isnan(att.loc["all", "value"])
    else:
        assert att.loc["all", "value"] == pytest.approx(np.nanmean(per_rep))
        assert att.loc["day 2026-01-05", "value"] == pytest.approx(np.nanmean(per_rep))
