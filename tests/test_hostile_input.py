"""Hostile input (issue 12, defects 1-8 and 14): each gives a one-line error and exit
status 2 naming the file, field and line, never a traceback or unbounded memory.

Commands follow the issue's reproductions where practical, on small inputs: caps on
file size, rows and work are tested with the limits lowered, never with huge files.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import bposim
from bposim.cli import main
from bposim.errors import BposimError, InputError, ScenarioError
from bposim.scenario import csvfile, load as scenario_load
from bposim.scenario.load import load_scenario, parse_scenario
from bposim.workload import LIMITS, Limits, WorkloadError, check_workload, estimate_workload

ROOT = Path(__file__).parent.parent
SQ = ROOT / "scenarios" / "single_queue_erlang_c.yaml"
SOURCING = ROOT / "scenarios" / "sourcing_mix.yaml"
SQ_TEXT = SQ.read_text()


def cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def problem_lines(result) -> list[str]:
    """The error lines: problems (file:line: path: message) and the final 'Error:' line."""
    return [line for line in result.output.splitlines() if line.strip()]


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# --- 1: a 400-digit seed -----------------------------------------------------------------


def test_400_digit_seed_is_a_clear_problem(tmp_path):
    text = SQ_TEXT.replace("seed: 20260105", "seed: 1" + "0" * 400)
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}:{line_of(text, 'seed: 1000')}: simulation.seed: must be at most" in result.output
    assert "401 digits" in result.output


# --- 2: deep nesting ---------------------------------------------------------------------


@pytest.mark.parametrize("depth", [70, 400, 900])
def test_deeply_nested_list_is_refused_with_its_line(tmp_path, depth):
    text = SQ_TEXT.replace("name: Single queue, Erlang C check",
                           "name: Single queue\nx-deep: " + "[" * depth + "]" * depth)
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}:{line_of(text, 'x-deep')}: x-deep" in result.output
    assert "nested more than 64 levels deep" in result.output


def test_pure_python_loader_nesting_is_refused_too(tmp_path, monkeypatch):
    """Without libyaml the composer recurses per level: still a clear problem."""
    monkeypatch.setattr(scenario_load, "_LOADER", yaml.SafeLoader)
    text = "name: x\nx-deep: " + "[" * 2000 + "]" * 2000 + "\n"
    with pytest.raises(ScenarioError, match="nested too deeply|nested more than"):
        parse_scenario(text, "deep.yaml")


# --- 3: a shift without hours in a pool with breaks ---------------------------------------


def test_shift_without_hours_in_pool_with_breaks(tmp_path):
    text = SOURCING.read_text().replace('"08:00", hours: 9, agents: 20', '"08:00", agents: 20')
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert "pools[0].staffing.shifts[0].hours: is missing (required)" in result.output


# --- 4: devices, FIFOs, directories and endless lines -------------------------------------


def with_forecast(name: str) -> str:
    """The single-queue scenario with its volumes read from the CSV ``name``."""
    return re.sub(r"volumes: \[[^\]]*\]", f"forecast_csv: {name}", SQ_TEXT)


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_forecast_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    if kind == "device":
        target = "/dev/zero"
    elif kind == "fifo":
        target = str(tmp_path / "pipe.csv")
        os.mkfifo(target)  # opening it would block for ever
    else:
        target = str(tmp_path)
    text = with_forecast(target)
    r = write(tmp_path, text)
    started = time.monotonic()
    result = cli("validate", r)
    assert time.monotonic() - started < 30
    assert result.exit_code == 2
    line = f"{r}:{line_of(text, 'forecast_csv')}: queues[0].arrivals.forecast_csv: forecast CSV {target}"
    assert line in result.output
    assert ("is a directory" if kind == "directory" else "is not a regular file") in result.output


def test_contact_list_of_dev_zero_is_refused(tmp_path):
    text = (ROOT / "scenarios" / "collections_predictive.yaml").read_text().replace(
        "csv: collections_list.csv", "csv: /dev/zero")
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert "campaigns[0].contact_list.csv: contact list CSV /dev/zero is not a regular file" in result.output


def test_staff_refuses_dev_zero():
    result = cli("staff", "/dev/zero", "--aht", "180")
    assert result.exit_code == 2
    assert "forecast CSV /dev/zero is not a regular file" in result.output


def test_line_that_never_ends_stops_at_the_cap(tmp_path, monkeypatch):
    """A regular file with one endless line is read only up to the line cap."""
    monkeypatch.setattr(csvfile, "MAX_LINE_CHARS", 1000)
    (tmp_path / "f.csv").write_text("interval_start,volume\n" + "0" * 100_000)
    text = with_forecast("f.csv")
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert "line 2 is longer than 1000 characters" in result.output
    result = cli("staff", tmp_path / "f.csv", "--aht", "180")
    assert result.exit_code == 2 and "line 2 is longer than 1000 characters" in result.output


def test_csv_larger_than_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_CSV_BYTES", 100)
    (tmp_path / "f.csv").write_text("interval_start,volume\n" + "08:00,1\n" * 50)
    text = with_forecast("f.csv")
    result = cli("validate", write(tmp_path, text))
    assert result.exit_code == 2 and "more than the limit of 100 bytes" in result.output


# --- 5: many rows, many problems ----------------------------------------------------------


def test_forecast_problems_are_capped(tmp_path):
    rows = "".join(f"08:00,{i}\n" for i in range(500))  # 499 duplicates of 08:00
    (tmp_path / "f.csv").write_text("interval_start,volume\n" + rows)
    text = with_forecast("f.csv")
    result = cli("validate", write(tmp_path, text))
    assert result.exit_code == 2
    dupes = [line for line in result.output.splitlines() if "appears twice" in line]
    assert len(dupes) == csvfile.MAX_PROBLEMS
    assert f"{499 - csvfile.MAX_PROBLEMS} more rows with problems" in result.output


def test_forecast_rows_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_ROWS", 30)
    rows = "".join(f"{h:02d}:{m:02d},1\n" for h in range(24) for m in (0, 30))  # 48 valid rows
    (tmp_path / "f.csv").write_text("interval_start,volume\n" + rows)
    text = with_forecast("f.csv")
    result = cli("validate", write(tmp_path, text))
    assert result.exit_code == 2
    assert f"{tmp_path / 'f.csv'}:32: queues[0].arrivals.forecast_csv: has more than 30 data rows" \
        in result.output
    result = cli("staff", tmp_path / "f.csv", "--aht", "180")
    assert result.exit_code == 2 and "f.csv:32: has more than 30 data rows" in result.output


# --- 6: dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "1969-12-31", "2201-01-01"])
def test_dates_out_of_range_are_refused(tmp_path, start):
    text = SQ_TEXT.replace("start: 2026-01-05", f"start: {start}")
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert (f"{r}:{line_of(text, 'start: ')}: horizon.start: must be a date from 1970-01-01 to "
            f"2200-12-31, got {start}") in result.output


def test_horizon_must_end_by_the_last_date(tmp_path):
    text = SQ_TEXT.replace("start: 2026-01-05", "start: 2200-12-30").replace("days: 1", "days: 3")
    result = cli("validate", write(tmp_path, text))
    assert result.exit_code == 2 and "horizon.days: the horizon must end by 2200-12-31" in result.output


def test_dates_at_the_edges_run(tmp_path):
    """The last allowed day, with shifts across midnight, runs (the old code overflowed)."""
    text = SOURCING.read_text()
    data = yaml.safe_load(text)
    start = data["horizon"]["start"]
    text = text.replace(f"start: {start}", "start: 2200-12-31").replace(
        f"days: {data['horizon']['days']}", "days: 1")
    sc = load_scenario(write(tmp_path, text))
    res = bposim.run(sc, replications=1, executor="serial")
    assert len(res.replications) == 1


# --- 7: absurd numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("volume", ["1.0e+30", "1.0e+10", ".inf", "-1"])
def test_absurd_volumes_are_refused_at_validation(tmp_path, volume):
    text = SQ_TEXT.replace("volumes: [100,", f"volumes: [{volume},")
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}:{line_of(text, 'volumes: [')}: queues[0].arrivals.volumes[0]: must be" in result.output


@pytest.mark.parametrize("field,value,message", [
    ("mean: 180", "mean: 1.0e+12", r"must be at most 1e\+09"),
    ("agents: 14", "agents: 1.0e+300", "must be a whole number|must be at most"),
    ("busyness_cv: 0", "busyness_cv: 1.0e+6", "busyness_cv: must be at most 5"),
])
def test_other_absurd_numbers_are_refused(tmp_path, field, value, message):
    text = SQ_TEXT.replace(field, value)
    result = cli("validate", write(tmp_path, text))
    assert result.exit_code == 2
    assert re.search(message, result.output), result.output


# --- 8: work estimate ----------------------------------------------------------------------


def test_estimate_counts_contacts_agents_and_intervals():
    """Independent counts: 200 calls/hour for a day is 4 800 contacts; 14 agents; 48 intervals."""
    work = estimate_workload(load_scenario(SQ), 3)
    assert work.contacts == pytest.approx(4800)
    assert (work.agents, work.intervals, work.replications) == (14, 48, 3)
    assert work.total_seconds == pytest.approx(3 * work.seconds)


def test_estimate_counts_escalations_and_day_factors():
    data = yaml.safe_load(SQ_TEXT)
    data["horizon"]["days"] = 7  # Monday to Sunday
    data["queues"][0]["arrivals"]["day_of_week"] = {"sat": 0.5, "sun": 0}
    data["queues"][0]["escalations"] = [{"to": "t2", "probability": 0.25}]
    data["queues"].append({"id": "t2", "handle_time": 300,
                           "escalations": [{"to": "calls", "probability": 0.2}]})
    data["pools"][0]["skills"] = ["calls", "t2"]
    work = estimate_workload(parse_scenario(data), 1)
    external = 4800 * (5 + 0.5)
    # calls -> t2 with 0.25, t2 -> calls with 0.2: geometric series of the loop
    calls = external / (1 - 0.25 * 0.2)
    assert work.contacts == pytest.approx(calls * 1.25, rel=1e-6)


@pytest.mark.parametrize("edit,what", [
    (("volumes: [100,", "volumes: [1.0e+9,"), "contacts per replication"),
    (("agents: 14}", "agents: 10000000}"), "agents"),
    (("replications: 20", "replications: 100000000"), "of computing"),
])
def test_huge_work_is_refused_before_running(tmp_path, edit, what):
    r = write(tmp_path, SQ_TEXT.replace(*edit))
    out = tmp_path / "out"
    result = cli("run", r, "--out", out, "--quiet")
    assert result.exit_code == 2
    assert "this run is too large" in result.output and what in result.output
    assert "--allow-large" in result.output
    assert not (out / "manifest.json").exists()


def test_validate_notes_a_large_run(tmp_path):
    r = write(tmp_path, SQ_TEXT.replace("volumes: [100,", "volumes: [1.0e+9,"))
    result = cli("validate", r)
    assert result.exit_code == 0
    note = [line for line in result.output.splitlines() if "note: a large run" in line]
    assert len(note) == 1 and "--allow-large" in note[0] and "billion contacts" in note[0]
    assert "note:" not in cli("validate", SQ).output


def test_api_refuses_and_allow_large_lifts_the_limit(tmp_path):
    sc = load_scenario(SQ)
    tight = Limits(contacts=1000)
    with pytest.raises(WorkloadError, match="more than 1 thousand contacts"):
        check_workload(sc, limits=tight)
    assert check_workload(sc, limits=tight, allow_large=True).contacts == pytest.approx(4800)
    big = load_scenario(write(tmp_path, SQ_TEXT.replace("agents: 14}", "agents: 10000000}")))
    for call in (lambda: bposim.run(big, 1), lambda: bposim.run_to_directory(big, tmp_path / "o"),
                 lambda: bposim.compare({"base": sc, "big": big}, 2)):
        with pytest.raises(WorkloadError):
            call()
    assert not (tmp_path / "o").exists()
    assert issubclass(WorkloadError, BposimError) and LIMITS.agents < 10_000_000


def test_allow_large_option_is_passed_through(tmp_path, monkeypatch):
    """With --allow-large the check lets the run start (the run itself is stubbed)."""
    import bposim.workload as workload

    monkeypatch.setattr(workload, "LIMITS", Limits(contacts=10))
    seen = []

    def fake(scenario, out, **kw):
        seen.append(kw.get("allow_large"))
        raise InputError("stop here")

    monkeypatch.setattr(bposim, "run_to_directory", fake)
    result = cli("run", SQ, "--out", tmp_path / "o", "--quiet", "--allow-large")
    assert result.exit_code == 2 and "stop here" in result.output and seen == [True]


# --- 14: YAML size and the C loader ----------------------------------------------------------


def test_yaml_larger_than_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_load, "MAX_YAML_BYTES", 1000)
    r = write(tmp_path, SQ_TEXT + "#" * 2000 + "\n")
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}: scenario file {r} is" in result.output and "more than the limit of 1000 bytes" \
        in result.output


def test_yaml_that_is_a_device_is_refused():
    result = cli("validate", "/dev/zero")
    assert result.exit_code == 2 and "is not a regular file" in result.output


def test_c_loader_keeps_lines_and_every_problem(tmp_path):
    """With libyaml (when installed) the problems and their lines are those of the
    pure-Python loader."""
    text = SQ_TEXT.replace("days: 1", "days: -1").replace("agents: 14", "agents: -3")
    fast = parse_problems(text)
    original = scenario_load._LOADER
    try:
        scenario_load._LOADER = yaml.SafeLoader
        slow = parse_problems(text)
    finally:
        scenario_load._LOADER = original
    assert fast == slow and len(fast) == 2
    assert [p.line for p in fast] == [line_of(text, "days: -1"), line_of(text, "agents: -3")]
    if hasattr(yaml, "CSafeLoader"):
        assert scenario_load._LOADER is yaml.CSafeLoader


def parse_problems(text: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "x.yaml")
    return info.value.problems


def test_fifo_scenario_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "s.yaml"
    os.mkfifo(pipe)
    done = []
    thread = threading.Thread(target=lambda: done.append(cli("validate", pipe)), daemon=True)
    thread.start()
    thread.join(30)
    assert done and done[0].exit_code == 2 and "is not a regular file" in done[0].output


def test_huge_list_is_refused_before_it_is_composed(tmp_path, monkeypatch):
    """A 26-million-item list used to take 3.7 GB: the values are counted first, streamed."""
    monkeypatch.setattr(scenario_load, "_MAX_NODES", 1000)
    monkeypatch.setattr(scenario_load, "_COUNT_ABOVE", 100)
    r = write(tmp_path, SQ_TEXT.replace("name: Single queue, Erlang C check",
                                        "name: x\nx-big: [" + "1, " * 5000 + "1]"))
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}:" in result.output and "more than 1000 values" in result.output


def test_certain_escalation_loop_is_refused_by_the_work_check():
    """calls -> t2 -> calls with probability 1: contacts circulate until the horizon ends."""
    data = yaml.safe_load(SQ_TEXT)
    data["queues"][0]["escalations"] = [{"to": "t2", "probability": 1}]
    data["queues"].append({"id": "t2", "handle_time": 0.001,
                           "escalations": [{"to": "calls", "probability": 1}]})
    data["pools"][0]["skills"] = ["calls", "t2"]
    sc = parse_scenario(data)
    assert estimate_workload(sc, 1).contacts >= 4800 * 86400 / 0.001
    with pytest.raises(WorkloadError, match="contacts per replication"):
        bposim.run(sc, 1)


def test_absurd_dials_per_agent_is_refused(tmp_path):
    """Found by the fuzz test: 1e6 progressive dials per free agent ran for minutes."""
    text = (ROOT / "scenarios" / "blended_renewals.yaml").read_text()
    text = re.sub(r"dials_per_agent: [0-9.]+", "dials_per_agent: 1.0e+6", text, count=1)
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    assert f"{r}:{line_of(text, 'dials_per_agent')}: campaigns[0].dials_per_agent: must be at most 10" \
        in result.output


def test_service_level_target_of_one_is_refused_at_validation(tmp_path):
    """Found by the fuzz test: target 1 validated, then the Erlang baseline refused it
    after every replication had run."""
    text = SQ_TEXT.replace("target: 0.8", "target: 1")
    r = write(tmp_path, text)
    result = cli("validate", r)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "service_level.target" in line]
    assert lines == [f"{r}:{line_of(text, 'target: 1')}: queues[0].service_level.target: a "
                     "service-level target of 100 % cannot be met with confidence by any finite "
                     "staffing; use a target below 1, e.g. 0.95"]
