"""Comparisons with common random numbers, variants in one file, path-addressed edits."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import bposim.experiments as experiments
from bposim.cli.compare_cmds import compare_command
from bposim.errors import InputError, ScenarioError
from bposim.experiments import compare, load_variants, variants_from_data
from bposim.overlay import apply_overrides, parse_value, set_path
from bposim.scenario.load import load_scenario_data
from helpers import single_queue, values

TINY = """\
name: Tiny desk
horizon: {{start: 2026-01-05, interval_minutes: 60}}
queues:
  - id: calls
    arrivals: {{volumes: [{volumes}]}}
    handle_time: {{dist: exponential, mean: 180}}
    patience: {{dist: exponential, mean: 120}}
  - id: expert
    handle_time: {{dist: exponential, mean: 300}}
pools:
  - id: desk
    skills: [calls]
    staffing: {{agents: 5}}
  - id: sme
    tier: sme
    skills: [expert]
    staffing: {{agents: 2}}
simulation: {{replications: 3, seed: 11}}
"""
VOLUMES = ", ".join(["0"] * 8 + ["90"] * 3 + ["0"] * 13)   # 08:00-11:00 only


def tiny_text(extra: str = "") -> str:
    return TINY.format(volumes=VOLUMES) + extra


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(tiny_text(
        "variants:\n"
        "  more_agents: {pools.desk.agents: 7}\n"
        "  faster:\n"
        "    queues.calls.handle_time.mean: 150\n"
        "    queues.calls.escalations: [{to: expert, probability: 0.1}]\n"))
    return path


def invoke(*args):
    return CliRunner().invoke(compare_command, [str(a) for a in args])


# --- common random numbers -----------------------------------------------------------


def test_comparing_a_scenario_with_itself_gives_exactly_zero_differences():
    sc = single_queue(200, 180, 12, hours=4)
    c = compare({"a": sc, "b": sc}, replications=4, seed=3, executor="serial")
    b = c.table[c.table["variant"] == "b"].dropna(subset=["mean"])
    stable = b[b["n"] > 1]
    assert len(stable) > 10
    assert (stable["diff_mean"] == 0).all()
    assert (stable["diff_ci_low"] == 0).all() and (stable["diff_ci_high"] == 0).all()
    pd.testing.assert_frame_equal(c.results["a"].summary, c.results["b"].summary)
    assert c.base == "a" and c.replications == 4 and c.seed == 3


def test_paired_difference_is_much_narrower_than_independent_runs_and_has_the_right_sign():
    base, more = single_queue(200, 180, 12, hours=8), single_queue(200, 180, 13, hours=8)
    c = compare([base, more], replications=6, seed=5, executor="serial")
    assert list(c.results) == ["single", "single (2)"]
    row = c.row("single (2)", "service_level", "queue:q")
    paired_half = (row["diff_ci_high"] - row["diff_ci_low"]) / 2
    assert row["diff_mean"] > 0 and row["diff_ci_low"] > 0          # more agents, higher SL
    assert c.row("single (2)", "asa", "queue:q")["diff_mean"] < 0
    x = values(c.results["single"], "service_level", "queue:q")
    y = values(experiments.run(more, 6, 999, executor="serial"), "service_level", "queue:q")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    dof = (vx + vy) ** 2 / (vx ** 2 / (x.size - 1) + vy ** 2 / (y.size - 1))
    welch_half = stats.t.ppf(0.975, dof) * math.sqrt(vx + vy)
    assert paired_half < 0.6 * welch_half, (paired_half, welch_half)
    # the paired interval is the t interval of the per-replication differences
    d = values(c.results["single (2)"], "service_level", "queue:q") - x
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    assert row["diff_mean"] == pytest.approx(d.mean())
    assert row["diff_ci_high"] - row["diff_mean"] == pytest.approx(half)


def test_comparison_table_columns():
    c = compare({"x": single_queue(100, 180, 6, hours=2)}, replications=2, seed=1, executor="serial")
    assert list(c.table.columns) == experiments.TABLE_COLUMNS


# --- variants in one file ------------------------------------------------------------


def test_variants_in_one_file_are_applied_and_validated(tiny_file):
    found = load_variants(tiny_file)
    assert list(found) == ["desk", "more_agents", "faster"]
    base, more, faster = found.values()
    assert base.pool("desk").staffing.agents == 5
    assert more.pool("desk").staffing.agents == 7           # pools.<id>.agents shorthand
    assert more.queue("calls").handle_time == base.queue("calls").handle_time
    assert faster.queue("calls").handle_time.mean == 150
    assert faster.queue("calls").escalations[0].to == "expert"
    assert more.name == "Tiny desk [more_agents]"
    assert base.source is not None and more.source is None


def test_a_file_with_variants_still_runs_as_its_base(tiny_file):
    from bposim.scenario import load_scenario
    assert load_scenario(tiny_file).pool("desk").staffing.agents == 5


def test_variant_problems_name_the_variant_the_path_and_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(tiny_text("variants:\n  neg: {pools.desk.agents: -3}\n"
                              "  typo:\n    pools.desk.agnets: 3\n"))
    with pytest.raises(ScenarioError) as err:
        load_variants(path)
    text = str(err.value)
    lines = path.read_text().splitlines()
    neg_line = next(i for i, l in enumerate(lines, 1) if "neg:" in l)
    assert f"bad.yaml:{neg_line}: variants.neg: pools[0].staffing.agents: must be >= 0" in text
    assert f"bad.yaml:{neg_line + 2}: variants.typo: unknown path 'pools.desk.agnets'" in text
    assert "did you mean 'pools.desk.agents'?" in text


def test_variants_shape_is_checked_when_loading(tmp_path):
    path = tmp_path / "shape.yaml"
    path.write_text(tiny_text("variants: [a, b]\n"))
    with pytest.raises(ScenarioError, match="variants: must be a mapping"):
        load_variants(path)


def test_variants_from_plain_data():
    data, _ = load_scenario_data(Path("scenarios/single_queue_erlang_c.yaml"))
    data["variants"] = {"fifteen": {"pools.agents.agents": 15}}
    out = variants_from_data(data)
    assert out["fifteen"].pool("agents").staffing.agents == 15


# --- path-addressed edits ------------------------------------------------------------


def _data():
    data, _ = load_scenario_data(Path("scenarios/tech_support_tiers.yaml"))
    return data


def test_set_path_by_id_by_index_and_shorthand():
    data = _data()
    assert set_path(data, "queues.support.handle_time.mean", 300) == "queues[0].handle_time.mean"
    assert data["queues"][0]["handle_time"] == {"dist": "lognormal", "mean": 300, "cv": 0.7}
    assert set_path(data, "queues.1.patience.mean", 60) == "queues[1].patience.mean"
    assert data["queues"][1]["patience"]["mean"] == 60
    # one staffing form replaces the others: shifts -> a constant headcount
    assert set_path(data, "pools.tier1.agents", 40) == "pools[0].staffing.agents"
    assert data["pools"][0]["staffing"] == {"agents": 40}
    # a key the format knows may be added
    set_path(data, "simulation.warmup_minutes", 30)
    assert data["simulation"]["warmup_minutes"] == 30


def test_apply_overrides_copies():
    data = _data()
    new, where = apply_overrides(data, {"horizon.days": 1, "pools.sme.shrinkage": 0.2})
    assert new["horizon"]["days"] == 1 and data["horizon"]["days"] == 3
    assert where == {"horizon.days": "horizon.days", "pools.sme.shrinkage": "pools[2].shrinkage"}


@pytest.mark.parametrize("path, hint", [
    ("pools.tier1.agnets", "did you mean 'pools.tier1.agents'?"),
    ("pools.teir1.agents", "did you mean 'pools.tier1.agents'?"),
    ("queues.support.handle_time.meen", "did you mean 'queues.support.handle_time.mean'?"),
    ("horizon.dayz", "did you mean 'horizon.days'?"),
    ("queues.nobody.x", "there: support, tier2, sme"),
    ("queues.support.handle_time.mean.x", "is the value 360"),
    ("pools..agents", "invalid path"),
])
def test_unknown_paths_are_clear_errors(path, hint):
    with pytest.raises(InputError) as err:
        set_path(_data(), path, 1)
    assert hint in str(err.value)


def test_values_are_read_as_yaml():
    assert parse_value("0.3") == 0.3
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("{dist: exponential, mean: 60}") == {"dist": "exponential", "mean": 60}
    assert parse_value("8:00") == "8:00"          # a time, as in scenario files
    assert parse_value("true") is True
    with pytest.raises(InputError):
        parse_value("!!python/object:os.system x")


# --- results directories and the command ---------------------------------------------


def test_compare_writes_and_resumes_without_rerunning(tiny_file, tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    found = dict(list(load_variants(tiny_file).items())[:2])
    first = compare(found, replications=3, seed=2, executor="serial", out_dir=out)
    assert (out / "comparison.csv").is_file()
    assert {p.name for p in out.iterdir()} == {"desk", "more_agents", "comparison.csv",
                                               "comparison.json", ".bposim.lock"}

    def boom(*args, **kwargs):
        raise AssertionError("a complete comparison must not run again")

    monkeypatch.setattr(experiments, "run_to_directory", boom)
    again = compare(found, replications=3, seed=2, executor="serial", out_dir=out)
    pd.testing.assert_frame_equal(first.table, again.table)


def test_compare_command_with_variants(tiny_file, tmp_path):
    out = tmp_path / "out"
    r = invoke(tiny_file, "-n", 3, "--seed", 4, "--executor", "serial", "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert "desk (base)" in r.output and "Δ more_agents" in r.output and "Δ faster" in r.output
    for label in ("calls: service level", "calls: ASA (s)", "calls: abandoned", "SME utilisation"):
        assert label in r.output
    assert " pp ± " in r.output
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["variant"]) == {"desk", "more_agents", "faster"}
    sl = table[(table["metric"] == "service_level") & (table["scope"] == "queue:calls")]
    assert (sl.set_index("variant").loc["more_agents", "diff_mean"]) > 0


def test_compare_command_with_two_files(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(tiny_text())
    b.write_text(tiny_text().replace("agents: 5", "agents: 6"))
    r = invoke(a, b, "-n", 2, "--executor", "serial", "--out", tmp_path / "o", "--quiet")
    assert r.exit_code == 0, r.output
    assert "a (base)" in r.output and "Δ b" in r.output


def test_compare_command_user_mistakes_exit_2(tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_text(tiny_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_text("variants:\n  x: {pools.desk.agnets: 3}\n"))
    cases = [((plain,), "has no variants"),
             ((bad,), "did you mean 'pools.desk.agents'?"),
             ((tmp_path / "missing.yaml",), "file not found")]
    for args, message in cases:
        r = invoke(*args, "--out", tmp_path / "never", "--quiet")
        assert r.exit_code == 2, r.output
        assert message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "never").exists()


def test_cost_rows_and_figure_appear_only_with_costs(tiny_file, tmp_path):
    from bposim.cli.compare_cmds import _cost_figure, comparison_text
    plain = compare(load_variants(tiny_file), replications=2, seed=1, executor="serial")
    assert "cost" not in comparison_text(plain)                 # no rates: no cost rows
    assert _cost_figure(plain, tmp_path) is None

    costed = tmp_path / "costed.yaml"
    costed.write_text(tiny_text("variants:\n  more: {pools.desk.agents: 6}\n")
                      .replace("staffing: {agents: 5}", "staffing: {agents: 5}\n    cost_per_hour: 20"))
    r = invoke(costed, "-n", 2, "--executor", "serial", "--out", tmp_path / "c", "--quiet")
    assert r.exit_code == 0, r.output
    assert "cost (USD)" in r.output and "cost per contact (USD)" in r.output
    png = tmp_path / "c" / "cost_vs_service_level.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(tmp_path / "c" / "comparison.csv")
    cost = table[(table["metric"] == "cost") & (table["scope"] == "all")].set_index("variant")
    # one more agent for the whole day at 20 an hour (warm-up 0): exactly 24 x 20 more
    assert cost.loc["more", "diff_mean"] == pytest.approx(24 * 20)
