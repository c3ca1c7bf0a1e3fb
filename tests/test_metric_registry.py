"""The metric registry against what bposim produces: every column and run-level figure
has an entry, every entry is produced, units and labels are consistent, and the frames,
the summary's intervals, the CLI table and the report read it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bposim
from bposim import metric_registry as registry
from bposim.engine.core import simulate_model
from bposim.engine.model import compile_scenario
from bposim.metrics import replication_metrics
from bposim.montecarlo import metric_kind
from bposim.rng import Streams
from tests.golden import ROOT, SCENARIOS, shorten
from tests.helpers import single_queue

KEYS = {"replication", "interval", "start", "queue", "pool", "tier", "site", "campaign"}
FRAME_SCOPE = {"intervals": "queue", "pools": "pool", "outbound": "campaign"}


def _simulate(scenario, seed):
    """One replication's frames (the SimPy engine, as bposim.simulate runs it)."""
    model = compile_scenario(scenario)
    return replication_metrics(model, simulate_model(model, Streams(seed)))


@pytest.fixture(scope="module")
def produced():
    """(frame or "totals", scope kind, name) of everything one day of each example
    scenario and each `bposim new` template produces, report thresholds added to one."""
    out = set()
    for path in sorted(SCENARIOS.glob("*.yaml")) + sorted((ROOT / "bposim" / "templates").glob("*.yaml")):
        sc = shorten(bposim.load_scenario(path), 1)
        if path.stem == "single_queue_erlang_c":
            sc = replace(sc, queues=tuple(
                replace(q, service_level=replace(q.service_level, report_thresholds=(30.0, 60.0)))
                for q in sc.queues))
        r = _simulate(sc, 3)
        for frame, scope in FRAME_SCOPE.items():
            f = getattr(r, frame)
            if f is not None:
                out |= {(frame, scope, c) for c in f.columns if c not in KEYS}
        out |= {("totals", registry.parse_scope(s)[0], m) for m, s in zip(r.totals["metric"], r.totals["scope"])}
    return out


def test_every_produced_column_and_total_has_an_entry(produced):
    missing = []
    for frame, scope, name in sorted(produced):
        m = registry.find(name, scope)
        if m is None or not (m.total if frame == "totals" else m.interval):
            missing.append(f"{name} ({scope}, {frame})")
    assert not missing, "not in the registry: " + ", ".join(missing)


def test_every_entry_is_produced(produced):
    seen = {(scope, name) for _, scope, name in produced}
    kinds = {(frame == "totals", scope, name) for frame, scope, name in produced}
    unseen = []
    for m in registry.METRICS:
        names = [n for s, n in seen if s == m.scope and m.matches(n)]
        if not names:
            unseen.append(f"{m.name}@{m.scope}")
            continue
        for total, wanted in ((True, m.total), (False, m.interval)):
            if wanted and not any((total, m.scope, n) in kinds for n in names):
                unseen.append(f"{m.name}@{m.scope} ({'total' if total else 'per interval'})")
    assert not unseen, "registered but never produced: " + ", ".join(unseen)


def test_entries_are_well_formed():
    for m in registry.METRICS:
        assert m.scope in registry.SCOPES, m
        assert m.unit in registry.UNITS, m
        assert m.kind in ("pct", "int", "num"), m
        assert m.interval or m.total, m
        assert set(m.channels) <= set(registry.CHANNELS) and m.channels, m
        assert m.label and m.label == m.label.strip(), m
        assert m.ci in ("wilson", "log_t"), m
        assert (m.ci == "wilson") == (m.unit == "share"), m
        assert m.name.count("{}") <= 1 and m.label.count("{}") == m.name.count("{}"), m
    # a name means one thing: one unit and one format in every scope
    by_name = {}
    for m in registry.METRICS:
        by_name.setdefault(m.name, set()).add((m.unit, m.kind))
    assert all(len(v) == 1 for v in by_name.values()), {k: v for k, v in by_name.items() if len(v) > 1}


def test_labels_are_unique_within_a_scope():
    for scope in registry.SCOPES:
        entries = registry.metrics(scope)
        for attr in ("name", "label"):
            values = [getattr(m, attr) for m in entries]
            assert len(values) == len(set(values)), (scope, attr)
        longs = [m.long_label or m.label for m in entries]
        assert len(longs) == len(set(longs)), scope


def test_scope_keys_round_trip():
    assert registry.scope_key("queue", "sales") == "queue:sales"
    assert registry.scope_key("run") == "all"
    assert registry.parse_scope("pool:a:b") == ("pool", "a:b")
    assert registry.parse_scope("all") == ("run", None)
    assert registry.scope_ids(["queue:a", "pool:x", "queue:b", "queue:a", "all"], "queue") == ["a", "b"]
    with pytest.raises(ValueError, match="unknown scope"):
        registry.scope_key("queues", "x")


def test_families_and_labels():
    assert registry.find("sl_at_60s", "queue").name == "sl_at_{}s"
    assert registry.label("sl_at_60s", "queue") == "SL at 60 s"
    assert registry.label("sl_at_7.5s", "queue:calls") == "SL at 7.5 s"
    assert registry.heading("asa", "queue") == "ASA (s)"
    assert registry.heading("cost", "pool", currency="EUR") == "cost (EUR)"
    assert registry.label("abandon_rate", "campaign") == "abandoned/live"
    assert registry.label("abandon_rate", "campaign", long=True) == "abandoned / live (the cap's measure)"
    assert registry.find("sl_at_s", "queue") is None and registry.find("nonsense") is None
    with pytest.raises(KeyError, match="registered: offered"):
        registry.get("nonsense", "queue:calls")


def test_intervals_and_formats_follow_the_unit():
    """The summary's Wilson intervals and the tables' percentages come from the unit."""
    for m in registry.METRICS:
        name = m.name.replace("{}", "60")
        assert metric_kind(name) == ("share" if m.unit == "share" else "other"), m
        from bposim.numfmt import metric_kind as cell_kind

        assert cell_kind(name) == m.kind, m
    # names the registry does not know keep the rules by name
    assert metric_kind("sl_something_new") == "share" and metric_kind("widgets") == "other"


def _small():
    return single_queue(60, 180, 4, patience=120, hours=2)


def test_a_new_metric_is_one_entry(monkeypatch):
    """A counter and a ratio added to the registry appear in the frame and the totals,
    computed from the recording, and only for queues they apply to."""
    sc = _small()
    model = compile_scenario(sc)
    rec = simulate_model(model, Streams(5))
    extra = (registry.Metric("offered_again", "queue", "count", "offered again", compute=registry.counter("offered")),
             registry.Metric("answer_share", "queue", "share", "answer share",
                             compute=registry.ratio("answered", "offered_again")),
             registry.Metric("never", "queue", "count", "never", compute=registry.counter("offered"),
                             applies=lambda q: False))
    monkeypatch.setattr(registry, "METRICS", registry.METRICS + extra)
    r = replication_metrics(model, rec)
    q = r.intervals
    assert "never" not in q.columns
    np.testing.assert_array_equal(q["offered_again"], np.asarray(rec.queues[0].offered, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(q["offered"] > 0, q["answered"] / q["offered"].where(q["offered"] > 0), np.nan)
    np.testing.assert_allclose(q["answer_share"], expected, equal_nan=True)
    t = r.totals.set_index(["metric", "scope"])["value"]
    assert t[("offered_again", "queue:q")] == t[("offered", "queue:q")] == sum(rec.queues[0].offered)
    assert t[("answer_share", "queue:q")] == pytest.approx(t[("answered", "queue:q")] / t[("offered", "queue:q")])
    assert ("never", "queue:q") not in t.index


def test_metrics_that_do_not_apply_to_a_channel_are_left_out():
    """An email queue has no ASA, waits or abandon rate (NaN per interval, no total) but
    keeps its counts; the voice figures are those of the same recording."""
    sc = _small()
    model = compile_scenario(sc)
    rec = simulate_model(model, Streams(5))
    voice = replication_metrics(model, rec)
    email = replication_metrics(replace(model, queues=tuple(replace(q, channel="email") for q in model.queues)), rec)
    for col in ("asa", "wait_p90", "p_wait", "mean_wait", "abandon_rate"):
        assert voice.intervals[col].notna().any() and email.intervals[col].isna().all(), col
    pd.testing.assert_series_equal(voice.intervals["offered"], email.intervals["offered"])
    names = set(email.totals.loc[email.totals["scope"] == "queue:q", "metric"])
    assert "asa" not in names and "abandon_rate" not in names and {"offered", "answered"} <= names


def test_the_metrics_page_lists_every_entry():
    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0]: s for s in page.split("\n### ")[1:]}
    for m in registry.METRICS:
        key = f"(`{registry.scope_key(m.scope, '<id>')}`"
        section = next(text for head, text in sections.items() if key in head)
        row = f"| `{m.name.replace('{}', '<T>')}` | {m.label.replace('{}', 'T')} | {m.unit} |"
        assert row in section, row


def _relabel(monkeypatch, changes: dict[tuple[str, str], str], extra=()):
    """Swap labels of registered metrics ((name, scope) -> label) and add entries."""
    entries = tuple(replace(m, label=changes.get((m.name, m.scope), m.label)) for m in registry.METRICS)
    monkeypatch.setattr(registry, "METRICS", entries + tuple(extra))


@pytest.fixture(scope="module")
def small_results(tmp_path_factory):
    """A results directory of two replications of a small queue (serial, so monkeypatches
    of the registry reach every replication; the SimPy engine, which needs no compiling)."""
    out = tmp_path_factory.mktemp("registry") / "res"
    bposim.run_to_directory(_small(), out, replications=2, seed=2, executor="serial", engine="simpy")
    return out


def test_the_run_summary_and_compare_tables_take_labels_from_the_registry(monkeypatch):
    from bposim.cli.compare_cmds import _compare_rows
    from bposim.cli.simulate import summary_tables

    sc = _small()
    res = bposim.run(sc, replications=2, seed=2, executor="serial", engine="simpy")
    base = bposim.run_baseline(compile_scenario(sc))
    assert "ASA (s)" in summary_tables(res, base)
    _relabel(monkeypatch, {("asa", "queue"): "mean answer wait", ("utilisation", "pool"): "util."})
    text = summary_tables(res, base)
    assert "mean answer wait (s)" in text and "ASA (s)" not in text and "util." in text

    class Comparison:  # what _compare_rows reads
        results = {"base": res}

    labels = [r[0] for r in _compare_rows(Comparison())]
    assert "q: mean answer wait (s)" in labels and "p: util." in labels


def test_the_report_takes_labels_from_the_registry(monkeypatch, small_results):
    from bposim.report.html import render_html
    from bposim.report.load import load_results

    _relabel(monkeypatch, {("wait_p90", "queue"): "ninetieth-percentile wait",
                           ("occupancy", "pool"): "busy share"})
    page = render_html(load_results(small_results), [])
    assert "ninetieth-percentile wait (s)" in page and "busy share" in page and "p90 wait" not in page


def test_the_what_if_page_takes_labels_and_units_from_the_registry(monkeypatch):
    from bposim.serve import views

    _relabel(monkeypatch, {("wait_p50", "queue"): "median wait"})
    rows = dict((m, (label, kind)) for m, label, kind in views.shown(views.QUEUE_METRICS, "queue"))
    assert rows["wait_p50"] == ("median wait", "sec") and rows["service_level"][1] == "pct"


def test_csv_and_parquet_columns_follow_the_registry(monkeypatch, tmp_path):
    """The per-interval files hold the registered per-interval metrics; a new entry is
    in them without any other change."""
    from bposim.tables_csv import read_csv_table

    extra = registry.Metric("offered_twice", "queue", "count", "offered twice",
                            compute=registry.Compute(interval=lambda src: 2 * src.column("offered"),
                                                     total=lambda src: 2 * src.measured_sum("offered")))
    _relabel(monkeypatch, {}, [extra])
    out = tmp_path / "res"
    res = bposim.run_to_directory(_small(), out, replications=2, seed=2, executor="serial", engine="simpy").results
    csv = read_csv_table(out / "interval_summary.csv")
    assert set(csv["metric"]) == {m for m in set(csv["metric"]) if registry.find(m, "queue")}
    twice = csv[csv["metric"] == "offered_twice"].set_index("interval")["mean"]
    once = csv[csv["metric"] == "offered"].set_index("interval")["mean"]
    pd.testing.assert_series_equal(twice, 2 * once, check_names=False)
    pools = read_csv_table(out / "pool_summary.csv")
    assert all(registry.find(m, "pool") is not None for m in set(pools["metric"]))
    assert res.metric("offered_twice", "queue:q")["mean"] == 2 * res.metric("offered", "queue:q")["mean"]


def test_recipe_helpers_against_hand_counts():
    """counter, gauge, quotient and ratio on four intervals, the first not measured."""
    from types import SimpleNamespace

    stats = SimpleNamespace(n=SimpleNamespace(done=[1, 2, 0, 3]), level=[5.0, 1.0, 4.0, 7.0],
                            wait=[10.0, 30.0, 0.0, 90.0], served=[1, 2, 0, 3])
    frame = pd.DataFrame({"a": [1.0, 1.0, 0.0, 2.0], "b": [2.0, 4.0, 0.0, 4.0]})
    src = registry.Source(None, None, None, stats, frame, np.array([False, True, True, True]))

    def both(compute):
        return list(compute.run("interval", src)), compute.run("total", src)

    assert both(registry.counter("n.done")) == ([1, 2, 0, 3], 5.0)
    assert both(registry.counter("wait", scale=1 / 10))[1] == pytest.approx(12.0)
    assert both(registry.gauge("level")) == ([5, 1, 4, 7], 4.0)
    assert both(registry.gauge("level", how="max"))[1] == 7.0
    values, total = both(registry.quotient("wait", "served"))
    assert values[:2] == [10, 15] and np.isnan(values[2]) and values[3] == 30 and total == 24.0
    values, total = both(registry.ratio("a", "b"))
    assert values[:2] == [0.5, 0.25] and np.isnan(values[2]) and total == 0.375
    with pytest.raises(ValueError, match="how must be"):
        registry.gauge("level", how="median")


def test_a_shown_metric_is_a_column_of_the_tables(monkeypatch, tmp_path):
    """show=True puts a registered figure into the run summary, the report's queue and
    pool tables and the what-if page; without it they stay as they were."""
    from bposim.cli.simulate import summary_tables
    from bposim.report.html import render_html
    from bposim.report.load import load_results
    from bposim.serve.views import figure_rows

    extra = (registry.Metric("offered_shown", "queue", "count", "offers shown", show=True,
                             compute=registry.counter("offered")),
             registry.Metric("handled_shown", "pool", "count", "handled shown", show=True,
                             compute=registry.counter("handled")))
    _relabel(monkeypatch, {}, extra)
    monkeypatch.setenv("COLUMNS", "400")  # one block per table
    sc = _small()
    res = bposim.run_to_directory(sc, tmp_path / "res", replications=2, seed=2, executor="serial", engine="simpy").results
    text = summary_tables(res, bposim.run_baseline(compile_scenario(sc)))
    offered = res.metric("offered", "queue:q")["mean"]
    assert "offers shown" in text and "handled shown" in text
    queue_line = next(line for line in text.splitlines() if line.startswith("q "))
    assert queue_line.split().count(f"{offered:,.0f}") == 2  # offered, and the shown copy
    page = render_html(load_results(tmp_path / "res"), [])
    assert "offers shown" in page and "handled shown" in page
    table = res.summary.assign(variant="base", diff_mean=0.0, diff_ci_low=0.0, diff_ci_high=0.0)
    table = pd.concat([table, table.assign(variant="what-if")], ignore_index=True)
    labels = {r["label"] for r in figure_rows(sc, table, "what-if")}
    assert {"offers shown", "handled shown"} <= labels
    monkeypatch.setattr(registry, "METRICS", tuple(replace(m, show=False) for m in registry.METRICS))
    assert "offers shown" not in summary_tables(res, bposim.run_baseline(compile_scenario(sc)))


def test_which_way_is_better_comes_from_the_registry():
    """The what-if page colours a difference by the registry's ``better``: service levels
    up, waits, abandonment and cost down; occupancy and volumes neither."""
    from bposim.serve.views import figure_rows

    sc = _small()
    res = bposim.run(sc, replications=2, seed=2, executor="serial", engine="simpy")
    table = res.summary.assign(variant="base", diff_mean=0.0, diff_ci_low=0.0, diff_ci_high=0.0)
    table = pd.concat([table, table.assign(variant="what-if")], ignore_index=True)
    better = {r["metric"]: r["better"] for r in figure_rows(sc, table, "what-if")}
    assert better["service_level"] == "higher"
    assert better["asa"] == better["wait_p90"] == better["abandon_rate"] == "lower"
    assert better["offered"] is None and better["occupancy"] is None and better["utilisation"] is None
    assert all(m.better in (None, "higher", "lower") for m in registry.METRICS)
