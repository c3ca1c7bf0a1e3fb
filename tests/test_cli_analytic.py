"""``bposim erlang`` and ``bposim staff`` through click's test runner."""

from __future__ import annotations

import re
from importlib.resources import files

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from bposim.cli.analytic import erlang_command, staff_command

EXAMPLE = str(files("bposim") / "examples" / "forecast.csv")


@click.group()
def cli() -> None:
    """Stand-in for the bposim group."""


cli.add_command(erlang_command)
cli.add_command(staff_command)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _rows(output):
    """Table rows as {agents: line}."""
    return {int(m.group(1)): line for line in output.splitlines()
            if (m := re.match(r"^\s*(\d+)\s+\d", line))}


def test_erlang_table_marks_the_published_requirement():
    # Call Centre Helper example: 200 calls/h, AHT 180 s, 80/20 -> 14 agents, SL 88.8 %
    res = run("erlang", "--calls", 200, "--period", 3600, "--aht", 180, "--target", "80/20")
    assert res.exit_code == 0, res.output
    rows = _rows(res.output)
    assert set(range(11, 18)) <= set(rows)
    marked = [n for n, line in rows.items() if "meets 80/20" in line]
    assert marked == [14]
    assert "88.8%" in rows[14] and "17.4%" in rows[14] and "71.4%" in rows[14]
    assert "39.0%" in rows[11]
    header = next(line for line in res.output.splitlines() if "agents" in line and "ASA" in line)
    assert header.index("agents") < header.index("P(wait)") < header.index("service level")
    assert "10.00 Erlangs" in res.output


def test_erlang_a_table_with_range_and_caps():
    res = run("erlang", "--calls", 200, "--aht", 180, "--target", "80/20", "--patience", 120,
              "--agents", "8-16", "--max-occupancy", 0.85, "--max-abandon", 0.05)
    assert res.exit_code == 0, res.output
    rows = _rows(res.output)
    assert sorted(rows) == list(range(8, 17))
    marked = [n for n, line in rows.items() if "<- meets" in line]
    assert len(marked) == 1
    # abandonment is shown and falls with agents
    aband = [float(rows[n].split("<-")[0].split()[-1].rstrip("%")) for n in sorted(rows)]
    assert aband == sorted(aband, reverse=True) and aband[0] > 5 > aband[-1]
    assert "Erlang A" in res.output


def test_erlang_requirement_outside_the_range_is_reported():
    res = run("erlang", "--calls", 200, "--aht", 180, "--agents", "10-12")
    assert res.exit_code == 0
    assert "meets" not in "".join(_rows(res.output).values()) and "14 agents" in res.output


@pytest.mark.parametrize("args", [
    ["--target", "80-20"], ["--target", "120/20"], ["--target", "abc"], ["--aht", "-3"],
    ["--calls", "lots"], ["--agents", "18-10"], ["--max-abandon", "0.05"],
    ["--patience", "0"], ["--max-occupancy", "1.5"],
])
def test_erlang_bad_input_is_one_line_and_exit_2(args):
    base = {"--calls": "200", "--aht": "180"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    res = run("erlang", *[x for kv in base.items() for x in kv])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("Error:")


def test_staff_prints_the_table_and_writes_csv(tmp_path):
    out = tmp_path / "plan.csv"
    res = run("staff", EXAMPLE, "--aht", 180, "--target", "80/20", "--shrinkage", 0.33,
              "--out", out)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any(line.strip().startswith("10:30") for line in lines)
    assert "Total 3000 contacts" in res.output
    table = pd.read_csv(out)
    assert len(table) == 48 and table["volume"].sum() == 3000
    # the file is a scenario's per_interval_csv: agents is the scheduled headcount
    assert list(table.columns[:2]) == ["interval_start", "agents"]
    assert (table["agents"] >= table["erlang_agents"]).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_staff_erlang_a(tmp_path):
    res = run("staff", EXAMPLE, "--aht", 180, "--patience", 90, "--max-abandon", 0.05,
              "--max-occupancy", 0.85)
    assert res.exit_code == 0, res.output
    assert "abandoned" in res.output and "Erlang A" in res.output


@pytest.mark.parametrize("content, args, piece", [
    ("interval_start,volume,typo\n08:00,1,2\n", ["--aht", "180"], "typo"),
    ("interval_start,volume\n08:00,1\n08:30,2\n", ["--aht", "-180"], "--aht"),
    ("interval_start,volume\n08:00,1\n08:30,2\n", ["--aht", "180", "--target", "100/20"], "target"),
    ("interval_start,volume\n08:00,1\n08:30,2\n", ["--aht", "180", "--shrinkage", "1"],
     "shrinkage"),
    ("interval_start,volume\n08:00,1\n08:30,-2\n", ["--aht", "180"], ":3"),
    ("interval_start,volume\n08:00,1\n08:30,2\n", [], "aht"),
])
def test_staff_bad_input_is_one_line_and_exit_2(tmp_path, content, args, piece):
    path = tmp_path / "f.csv"
    path.write_text(content)
    res = run("staff", path, *args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1 and piece in res.output


def test_staff_unreadable_file_and_bad_out_dir(tmp_path):
    res = run("staff", tmp_path / "missing.csv", "--aht", 180)
    assert res.exit_code == 2 and "missing.csv" in res.output
    res = run("staff", EXAMPLE, "--aht", 180, "--out", tmp_path / "no" / "such" / "x.csv")
    assert res.exit_code == 2 and "does not exist" in res.output.splitlines()[-1]
