"""Parameter sweeps: value ranges, the grid, resumable directories and the command."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import bposim.experiments as experiments
from bposim.cli.compare_cmds import sweep_command
from bposim.errors import InputError, ScenarioError
from bposim.experiments import sweep, sweep_grid
from bposim.overlay import parse_assignment, parse_values
from test_compare import tiny_text


@pytest.fixture
def desk(tmp_path):
    path = tmp_path / "desk.yaml"
    path.write_text(tiny_text())
    return path


# --- ranges --------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("60:120:10", [60, 70, 80, 90, 100, 110, 120]),
    ("10:14:2", [10, 12, 14]),
    ("10:15:2", [10, 12, 14]),                 # STOP off the grid: not included
    ("5:5:1", [5]),
    ("3:1:-1", [3, 2, 1]),
    ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),          # no 0.30000000000000004, STOP kept
    ("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("1,2,5", [1, 2, 5]),
    ("0.2, 0.3", [0.2, 0.3]),
    ("lognormal,gamma", ["lognormal", "gamma"]),
    ("12", [12]),
    ("[1, 2]", [[1, 2]]),                      # a list is one value
    ("{dist: exponential, mean: 60}", [{"dist": "exponential", "mean": 60}]),
    ("08:00", ["08:00"]),                      # a time, not a range
])
def test_parse_values(text, expected):
    values = parse_values(text)
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


@pytest.mark.parametrize("text, message", [
    ("10:20:0", "must not be 0"),
    ("20:10:1", "never reaches"),
    ("1,,2", "empty item"),
    ("0:1000000:1", "at most"),
])
def test_bad_ranges(text, message):
    with pytest.raises(InputError, match=message):
        parse_values(text)


def test_parse_assignment():
    assert parse_assignment("pools.t1.agents=10:14:2") == ("pools.t1.agents", "10:14:2")
    assert parse_assignment(" a.b = x=y ") == ("a.b", "x=y")
    with pytest.raises(InputError, match="PATH=VALUE"):
        parse_assignment("pools.t1.agents")


def test_grid_is_the_cartesian_product_first_setting_slowest():
    grid = sweep_grid({"a": "1:2:1", "b": ["x", "y", "z"]})
    assert len(grid) == 6
    assert grid[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    with pytest.raises(InputError, match="nothing to sweep"):
        sweep_grid({})


# --- sweeps --------------------------------------------------------------------------


def test_sweep_table_has_one_row_per_point_metric_and_scope(desk):
    settings = {"pools.desk.agents": [4, 6], "queues.calls.patience.mean": "60,120,240"}
    table = sweep(desk, settings, replications=2, seed=3, executor="serial")
    assert list(table.columns[:3]) == ["point", "pools.desk.agents", "queues.calls.patience.mean"]
    assert list(table.columns[3:]) == ["metric", "scope", "mean", "ci_low", "ci_high", "n"]
    assert table["point"].nunique() == 6
    per_point = table.groupby("point").size()
    assert per_point.nunique() == 1
    assert not table.duplicated(["point", "metric", "scope"]).any()
    sl = table[(table["metric"] == "sl_offered") & (table["scope"] == "all")]
    assert list(sl["pools.desk.agents"]) == [4, 4, 4, 6, 6, 6]
    by = sl.set_index(["pools.desk.agents", "queues.calls.patience.mean"])["mean"]
    assert by.loc[(6, 120)] > by.loc[(4, 120)]                # more agents, better SL


def test_sweep_from_plain_data(desk):
    from bposim.scenario.load import load_scenario_data
    data, _ = load_scenario_data(desk)
    table = sweep(data, {"simulation.warmup_minutes": [0, 30]}, replications=2, seed=1, executor="serial")
    assert table["point"].nunique() == 2


def test_invalid_points_fail_before_anything_runs(desk, tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "run", lambda *a, **k: pytest.fail("must not run"))
    with pytest.raises(ScenarioError, match=r"sweep point 1 \(pools.desk.agents=-1\)"):
        sweep(desk, {"pools.desk.agents": [3, -1]}, replications=2, seed=1)
    with pytest.raises(InputError, match="did you mean 'pools.desk.agents'"):
        sweep(desk, {"pools.desk.agnets": [3]}, replications=2, seed=1)


def test_interrupted_sweep_resumes_only_what_is_missing(desk, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    settings = {"pools.desk.agents": "4:6:1"}
    first = sweep(desk, settings, replications=2, seed=5, executor="serial", out_dir=out)
    assert (out / "sweep.csv").is_file() and (out / "points.csv").is_file()
    points = pd.read_csv(out / "points.csv")
    assert list(points["directory"]) == ["point-0", "point-1", "point-2"]
    assert list(points["pools.desk.agents"]) == [4, 5, 6]

    shutil.rmtree(out / "point-1")                             # as if stopped during point 1
    ran = []
    real = experiments.run_to_directory

    def spy(scenario, directory, **kwargs):
        ran.append(directory.name)
        return real(scenario, directory, **kwargs)

    monkeypatch.setattr(experiments, "run_to_directory", spy)
    again = sweep(desk, settings, replications=2, seed=5, executor="serial", out_dir=out)
    assert ran == ["point-1"]
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), first, check_dtype=False)


def test_a_sweep_directory_is_not_reused_for_another_sweep(desk, tmp_path):
    out = tmp_path / "sweep"
    sweep(desk, {"pools.desk.agents": [4, 5]}, replications=2, seed=5, executor="serial", out_dir=out)
    with pytest.raises(InputError, match="holds another sweep"):
        sweep(desk, {"pools.desk.agents": [4, 6]}, replications=2, seed=5, out_dir=out)
    with pytest.raises(InputError, match="holds another sweep"):
        sweep(desk, {"pools.desk.agents": [4, 5]}, replications=2, seed=6, out_dir=out)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a bposim sweep directory"):
        sweep(desk, {"pools.desk.agents": [4]}, replications=2, seed=5, out_dir=other)


# --- the command ---------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(sweep_command, [str(a) for a in args])


def test_sweep_command_prints_a_row_per_point_and_writes_sweep_csv(desk, tmp_path):
    out = tmp_path / "out"
    r = invoke(desk, "--set", "pools.desk.agents=4:5:1", "-n", 2, "--executor", "serial",
               "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert "pools.desk.agents" in r.output and "utilisation@pool:desk" in r.output
    assert "service_level@queue:calls" in r.output and "utilisation@pool:sme" in r.output
    rows = {line.split()[0] for line in r.output.splitlines() if line[:1].isdigit()}
    assert rows == {"0", "1"}
    table = pd.read_csv(out / "sweep.csv")
    assert sorted(table["pools.desk.agents"].unique()) == [4, 5]


@pytest.mark.parametrize("args, message", [
    (("--set", "pools.desk.agnets=4:5:1"), "did you mean 'pools.desk.agents'?"),
    (("--set", "pools.desk.agents=5:4:1"), "never reaches"),
    (("--set", "pools.desk.agents"), "PATH=VALUE"),
    (("--set", "pools.desk.agents=4,-2"), "must be >= 0"),
    (("--set", "pools.desk.agents=4", "--set", "pools.desk.agents=5"), "given twice"),
])
def test_sweep_command_user_mistakes_exit_2(desk, tmp_path, args, message):
    r = invoke(desk, *args, "--out", tmp_path / "never", "--quiet")
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
