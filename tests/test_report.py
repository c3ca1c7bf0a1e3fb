"""The report: figure functions on small results sets, report.html, ``bposim report``."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import click
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import single_queue
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

import bposim
from bposim.cli.report_cmd import report_command
from bposim.report import (
    build_figures, cost_service_figure, cost_service_frame, load_results, occupancy_heatmap, palette,
    service_level_figure, staffing_figure, volume_figure, wait_distribution_figure, write_report,
)
from bposim.report.figures import _tick

SME_YAML = """\
name: Front line with SMEs
description: Tier-1 agents consult and transfer to a small SME pool.
horizon: {start: 2026-01-05, days: 1, interval_minutes: 30, timezone: UTC}
queues:
  - id: front
    arrivals:
      volumes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                20, 30, 40, 40, 30, 30, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    handle_time: {dist: exponential, mean: 240}
    patience: {dist: exponential, mean: 120}
    service_level: {answer_within: 30, target: 0.8}
    escalations:
      - {to: expert, probability: 0.2, mode: transfer}
  - id: expert
    handle_time: {dist: exponential, mean: 400}
    service_level: {answer_within: 60, target: 0.7}
pools:
  - id: agents
    tier: tier1
    skills: [front]
    staffing: {agents: 7}
    shrinkage: 0.2
  - id: experts
    tier: sme
    skills: [expert]
    staffing: {agents: 3}
simulation: {replications: 2, seed: 5}
"""


def _run(path, scenario):
    outcome = bposim.run_to_directory(scenario, path, replications=2, executor="serial")
    assert outcome.results is not None
    return path


@pytest.fixture(scope="module")
def single_dir(tmp_path_factory):
    """One queue, contact records kept; scenario built in code."""
    sc = single_queue(120, 180, 7, hours=4, patience=200, keep_contacts=True)
    return _run(tmp_path_factory.mktemp("single") / "res", sc)


@pytest.fixture(scope="module")
def sme_dir(tmp_path_factory):
    """Two queues, a tier-1 and an SME pool; scenario read from YAML, no contact records."""
    base = tmp_path_factory.mktemp("sme")
    (base / "sme.yaml").write_text(SME_YAML)
    return _run(base / "res", bposim.load_scenario(base / "sme.yaml"))


@pytest.fixture(scope="module")
def single(single_dir):
    return load_results(single_dir)


@pytest.fixture(scope="module")
def sme(sme_dir):
    return load_results(sme_dir)


def _lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_child")]


def test_palette_is_fixed_by_sorted_ids():
    a = palette(["sme", "tier1", "front"])
    b = palette(["tier1", "front", "sme"])
    assert a == b and len(set(a.values())) == 3
    assert a["front"] == palette(["front"])["front"]  # the first sorted id always gets colour 0


def test_time_ticks_read_as_day_and_hh_mm():
    assert _tick(mdates.date2num(dt.datetime(2026, 1, 5, 0, 0))) == "Mon 05 Jan\n00:00"
    assert _tick(mdates.date2num(dt.datetime(2026, 1, 5, 13, 30))) == "13:30"


def test_service_level_figure_has_mean_band_and_target_per_queue(sme):
    fig = service_level_figure(sme.interval_summary, sme.targets())
    assert isinstance(fig, Figure)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["queue front", "queue expert"]
    for ax, target in zip(fig.axes, (0.8, 0.7)):
        mean, tline = _lines(ax)
        assert mean.get_label() == "simulated mean"
        assert tline.get_label() == f"target {target:.0%}" and set(tline.get_ydata()) == {target}
        assert len(ax.collections) == 1 and ax.collections[0].get_label() == "95 % CI"
        assert ax.get_ylabel() == "service level (%)" and ax.get_ylim() == (0, 1.05)
        y = np.asarray(mean.get_ydata(), float)
        assert np.nanmin(y) >= 0 and np.nanmax(y) <= 1
    assert "Service level by interval" in fig.get_suptitle()
    assert "interval start" in fig.axes[-1].get_xlabel()


def test_wait_distribution_from_contacts_is_an_ecdf(single):
    assert single.contacts is not None
    fig = wait_distribution_figure(single.contacts, single.summary, single.answer_within())
    (ax,) = fig.axes
    cdf, threshold = _lines(ax)
    y = np.asarray(cdf.get_ydata(), float)
    assert y[-1] == pytest.approx(1.0) and np.all(np.diff(y) >= 0)
    answered = (single.contacts["outcome"] == "answered").sum()
    assert cdf.get_label() == f"q ({answered:,} answered)"
    assert list(threshold.get_xdata()) == [20, 20]
    assert ax.get_xlabel() == "wait before answer (s)"
    assert "empirical CDF" in ax.get_title()


def test_wait_distribution_without_contacts_draws_percentile_points(sme):
    assert sme.contacts is None
    fig = wait_distribution_figure(None, sme.summary, sme.answer_within())
    (ax,) = fig.axes
    assert len(ax.containers) == 2  # one errorbar series per queue
    for c in ax.containers:
        assert list(c.lines[0].get_ydata()) == [0.5, 0.9, 0.95]
    assert "percentiles" in ax.get_title()
    with pytest.raises(ValueError):
        wait_distribution_figure(None, None)


def test_volume_figure_plots_offered_answered_and_abandoned(sme):
    fig = volume_figure(sme.interval_summary)
    assert len(fig.axes) == 2
    s = sme.interval_summary
    for ax, q in zip(fig.axes, ("front", "expert")):
        offered, answered = _lines(ax)
        assert (offered.get_label(), answered.get_label()) == ("offered", "answered")
        assert [c.get_label() for c in ax.collections] == ["abandoned"]
        expected = s[(s["queue"] == q) & (s["metric"] == "offered")]["mean"].sum()
        assert np.nansum(offered.get_ydata()[:-1]) == pytest.approx(expected)
        assert ax.get_ylabel() == "contacts per 30 min"
    assert "Offered, answered and abandoned" in fig.get_suptitle()


def test_staffing_figure_keeps_pool_agents_and_queue_erlang_apart(sme):
    assert sme.interval_baseline is not None  # the scenario copy reads back: baseline recomputed
    fig = staffing_figure(sme.pool_summary, sme.interval_baseline)
    top, bottom = fig.axes[:2]
    labels = [ln.get_label() for ln in _lines(top)]
    assert labels == ["agents on duty", "agents available", "experts on duty", "experts available"]
    assert max(_lines(top)[0].get_ydata()) == pytest.approx(7)
    erlang = _lines(bottom)
    assert [ln.get_label() for ln in erlang] == ["queue front", "queue expert"]
    b = sme.interval_baseline
    assert max(erlang[0].get_ydata()) == b[b["queue"] == "front"]["erlang_required_agents"].max()
    assert top.get_ylabel() == "agents" and bottom.get_ylabel() == "agents (Erlang)"
    assert "not additive" in bottom.get_title(loc="left")
    # without a per-interval baseline the lower panel says so instead of guessing
    bare = staffing_figure(sme.pool_summary, None)
    assert not _lines(bare.axes[1]) and "not available" in bare.axes[1].texts[0].get_text()


def test_occupancy_heatmap_marks_sme_pools(sme):
    fig = occupancy_heatmap(sme.pool_summary)
    heat = [ax for ax in fig.axes
            if ax.get_label() != "<colorbar>" and any(isinstance(c, QuadMesh) for c in ax.collections)]
    assert len(heat) == 2 and len(fig.axes) == 3  # two heatmaps and a shared colour bar
    for ax in heat:
        ticks = {t.get_text(): t.get_fontweight() for t in ax.get_yticklabels()}
        assert ticks == {"agents": "normal", "experts (SME)": "bold"}
        values = ax.collections[0].get_array()
        assert values.count() > 0 and values.min() >= 0 and values.max() <= 1
    assert heat[0].get_title(loc="left").startswith("Occupancy")
    assert heat[1].get_title(loc="left").startswith("Utilisation")
    assert fig.axes[2].get_ylabel() == "share of time (%)"


def test_cost_service_figure_and_frame():
    frame = pd.DataFrame({
        "variant": ["base", "plus2", "minus2"], "cost": [1000.0, 1100.0, 900.0],
        "cost_ci_low": [990.0, 1090.0, 880.0], "cost_ci_high": [1010.0, 1110.0, 920.0],
        "service_level": [0.8, 0.9, 0.6], "sl_ci_low": [0.78, 0.88, 0.55], "sl_ci_high": [0.82, 0.92, 0.65],
    })
    fig = cost_service_figure(frame, "cost (USD)")
    (ax,) = fig.axes
    assert len(ax.containers) == 3
    assert sorted(t.get_text() for t in ax.texts) == ["base", "minus2", "plus2"]
    assert ax.get_xlabel() == "service level (%)" and ax.get_ylabel() == "cost (USD)"
    with pytest.raises(ValueError, match="cost_ci_low"):
        cost_service_figure(frame.drop(columns="cost_ci_low"))

    def summary(cost):
        rows = [("sl_offered", "all", 0.8, 0.7, 0.9, 2)]
        if cost is not None:
            rows.append(("cost", "all", cost, cost - 5, cost + 5, 2))
        return pd.DataFrame(rows, columns=["metric", "scope", "mean", "ci_low", "ci_high", "n"])

    assert cost_service_frame({"a": summary(None)}) is None  # no cost metric: figure skipped
    assert cost_service_frame({"a": summary(0.0)}) is None  # no cost rates: cost 0
    got = cost_service_frame({"a": summary(10.0), "b": summary(12.0)})
    assert list(got["variant"]) == ["a", "b"] and list(got["cost"]) == [10.0, 12.0]


def test_cost_figure_only_when_the_results_have_costs(sme):
    assert "cost_service" not in [slug for slug, *_ in build_figures(sme)]
    s = sme.summary
    costly = s[s["metric"] != "cost"]
    costly = pd.concat([costly, pd.DataFrame([("cost", "all", 500.0, 450.0, 550.0, 2)], columns=s.columns)])
    data = load_results(sme.path)
    data.summary = costly
    assert [slug for slug, *_ in build_figures(data)][-1] == "cost_service"


def test_report_html_is_self_contained_with_every_figure(sme_dir, tmp_path):
    out = write_report(sme_dir, tmp_path / "rep" / "report.html")
    html = out.read_text()
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert not re.findall(r"""\b(?:href|src)\s*=\s*["'](?!data:image/png;base64,)""", html, re.I)
    assert "url(" not in html and "@import" not in html
    pngs = sorted((out.parent / "figures").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(["service_level", "answer_times", "volumes", "staffing",
                                            "occupancy", "net_staffing"])
    embedded = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)">', html)
    assert len(embedded) == len(pngs) == html.count("<img")
    assert sorted(base64.b64decode(e) for e in embedded) == sorted(p.read_bytes() for p in pngs)
    for text in ("Front line with SMEs", "Seed", "bposim version", "0.1.0", "Horizon", "front", "expert",
                 "agents", "experts (SME)", "Erlang SL", "Erlang peak agents", "95 % CI"):
        assert text in html, text
    assert "PARTIAL" not in html
    assert not list(out.parent.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_default_out_is_inside_the_results_dir(single_dir):
    out = write_report(single_dir)
    assert out == single_dir / "report.html" and (single_dir / "figures" / "answer_times.png").is_file()
    # the results directory carries interval_baseline.csv, so the requirement is drawn
    assert "The per-interval Erlang requirement is not shown" not in out.read_text()


def _invoke(*args):
    group = click.Group()
    group.add_command(report_command)
    return CliRunner().invoke(group, ["report", *map(str, args)])


def test_report_command_writes_the_page(sme_dir, tmp_path):
    r = _invoke(sme_dir, "--out", tmp_path / "page.html")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "page.html").is_file() and "Report written to" in r.output


def _one_line_error(r):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert len(r.output.strip().splitlines()) == 1
    return r.output


def test_not_a_results_dir_is_a_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    for target in (tmp_path / "empty", tmp_path / "file.txt", tmp_path / "missing"):
        assert "not a bposim results directory" in _one_line_error(_invoke(target))


def test_newer_format_is_a_one_line_error(sme_dir, tmp_path):
    copy = tmp_path / "newer"
    shutil.copytree(sme_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = bposim.outputs.FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert "newer bposim" in _one_line_error(_invoke(copy))


def _interrupted(src, dst, status, keep_combined=False):
    shutil.copytree(src, dst)
    if not keep_combined:
        for f in ("summary.csv", "intervals.parquet", "pools.parquet", "totals.parquet",
                  "interval_summary.parquet", "pool_summary.parquet", "baseline.csv"):
            (dst / f).unlink(missing_ok=True)
    shutil.rmtree(dst / "replications" / "rep-00001")
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest.update(status=status, replications_completed=1)
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def test_interrupted_run_gives_a_partial_report(sme_dir, tmp_path):
    part = _interrupted(sme_dir, tmp_path / "part", "running")
    r = _invoke(part)
    assert r.exit_code == 0, r.output
    assert "PARTIAL" in r.output
    html = (part / "report.html").read_text()
    top = html[: html.index("<h2>")]
    assert "PARTIAL" in top and "1 of 2 replications finished" in top
    assert html.count("<img") == 6  # the five interval figures and net staffing
    data = load_results(part)
    assert data.partial and data.replications == [0]
    assert set(data.summary["n"]) == {1}


def test_partial_status_with_combined_tables_is_labelled(sme_dir, tmp_path):
    part = _interrupted(sme_dir, tmp_path / "part", "partial", keep_combined=True)
    html = write_report(part).read_text()
    assert "PARTIAL" in html[: html.index("<h2>")]


def test_running_dir_without_replications_is_a_one_line_error(sme_dir, tmp_path):
    empty = _interrupted(sme_dir, tmp_path / "early", "running")
    shutil.rmtree(empty / "replications")
    assert "no finished replication" in _one_line_error(_invoke(empty))


def test_report_shows_outbound_campaigns(tmp_path):
    out = tmp_path / "res"
    root = Path(__file__).resolve().parent.parent
    sc = bposim.load_scenario(root / "scenarios" / "blended_renewals.yaml")
    bposim.run_to_directory(sc, out, replications=2, seed=1, executor="serial")
    html = write_report(out).read_text()
    assert "Outbound campaigns" in html and "renewals" in html and "24-hour rule" in html
