"""Hostile input found by the review of issue 12 (N2, N3, N7, N9, N10): each gives a
one-line error and exit status 2 naming the file and row or the option, in bounded
time, never a traceback.  Caps are tested with the limits lowered, never huge files.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bposim import erlang
from bposim.cli import main
from bposim.errors import InputError
from bposim.scenario.fields import MAX_NUMBER

ROOT = Path(__file__).parent.parent
SQ = ROOT / "scenarios" / "single_queue_erlang_c.yaml"


def cli(*args, seconds: float = 30.0):
    """Run the CLI in a thread; fail (instead of hanging) when it takes over ``seconds``."""
    box = {}
    worker = threading.Thread(
        target=lambda: box.update(r=CliRunner().invoke(main, [str(a) for a in args])),
        daemon=True)
    worker.start()
    worker.join(seconds)
    assert "r" in box, f"bposim {' '.join(map(str, args))} took more than {seconds} s"
    result = box["r"]
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


# ------------------------------------------------------------ N3: Erlang at huge loads
@pytest.mark.parametrize("fn", [
    lambda a: erlang.required_agents(a, 180, 20, 0.8),
    lambda a: erlang.required_agents_erlang_a(a, 180, 120, 20, 0.8),
    lambda a: erlang.erlang_c(a, 10),
    lambda a: erlang.erlang_a(a, 10, 180, 120, 20),
])
def test_erlang_functions_refuse_a_load_above_the_limit(fn):
    with pytest.raises(InputError, match="at most 1e\\+07 Erlangs"):
        fn(erlang.MAX_LOAD * 10)
    with pytest.raises(InputError, match="at most"):
        fn(1e30)


def test_required_agents_at_the_load_limit_finishes():
    n = erlang.required_agents(erlang.MAX_LOAD, 180, 20, 0.8)
    assert erlang.MAX_LOAD < n < erlang.MAX_LOAD + 10_000  # square-root staffing range


def test_erlang_command_with_an_astronomical_load_names_the_options():
    line = one_error(cli("erlang", "--calls", "1e26", "--aht", "180", seconds=20))
    assert "--calls" in line and "--aht" in line and "Erlangs" in line


@pytest.mark.parametrize("volume", ["1e30", "1e308"])
def test_staff_refuses_a_huge_volume_with_file_and_row(tmp_path, volume):
    f = tmp_path / "f.csv"
    f.write_text(f"interval_start,volume\n08:00,10\n08:30,{volume}\n")
    line = one_error(cli("staff", f, "--aht", "180", seconds=20))
    assert f"{f}:3:2: volume: must be at most 1e+09" in line


def test_staff_refuses_a_load_above_the_erlang_limit_with_file_and_row(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text("interval_start,volume\n08:00,10\n08:30,1e9\n")
    line = one_error(cli("staff", f, "--aht", "180", seconds=20))
    assert line.startswith(f"Error: {f}:3:2:") and "offered load" in line


# ------------------------------------------- N2: huge values in a scenario's CSV files
SQ_TEXT = SQ.read_text()
DAY = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]


def _forecast_scenario(tmp_path, rows: str, header="interval_start,volume") -> Path:
    (tmp_path / "f.csv").write_text(header + "\n" + rows)
    r = tmp_path / "r.yaml"
    r.write_text(re.sub(r"volumes: \[[^\]]*\]", "forecast_csv: f.csv", SQ_TEXT))
    return r


@pytest.mark.parametrize("volume", ["1e30", "1e308", "1000000001"])
def test_forecast_csv_volume_above_the_yaml_bound_is_refused(tmp_path, volume):
    rows = "".join(f"{t},{volume if t == '08:00' else 1}\n" for t in DAY)
    r = _forecast_scenario(tmp_path, rows)
    line_no = 2 + DAY.index("08:00")
    want = f"{tmp_path / 'f.csv'}:{line_no}:"
    for args in (("validate", r), ("run", r, "-n", "1", "--allow-large", "--out",
                                   tmp_path / "out")):
        result = cli(*args, seconds=60)
        assert result.exit_code == 2, result.output
        assert want in result.output and f"must be at most {MAX_NUMBER:g}" in result.output
        assert "Traceback" not in result.output and "lam value" not in result.output


@pytest.mark.parametrize("column", ["aht", "patience"])
def test_forecast_csv_means_above_the_bound_are_refused(tmp_path, column):
    rows = "".join(f"{t},1,{'1e30' if t == '09:00' else 100}\n" for t in DAY)
    r = _forecast_scenario(tmp_path, rows, header=f"interval_start,volume,{column}")
    result = cli("validate", r, seconds=60)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'f.csv'}:{2 + DAY.index('09:00')}:" in result.output
    assert f"{column} must be at most {MAX_NUMBER:g}" in result.output


def test_per_interval_csv_agents_above_the_bound_are_refused(tmp_path):
    (tmp_path / "plan.csv").write_text("interval_start,agents\n" + "".join(
        f"{t},{'1e30' if t == '10:00' else 14}\n" for t in DAY))
    r = tmp_path / "r.yaml"
    r.write_text(SQ_TEXT.replace("staffing: {agents: 14}", "staffing: {per_interval_csv: plan.csv}"))
    result = cli("validate", r, seconds=60)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'plan.csv'}:{2 + DAY.index('10:00')}:" in result.output
    assert f"agents must be at most {MAX_NUMBER:g}" in result.output


# ------------------------------------------------ N7: an output path the OS refuses
def test_run_out_with_a_name_too_long_is_a_one_line_error(tmp_path):
    out = tmp_path / ("a" * 300)
    line = one_error(cli("run", SQ, "-n", "1", "--out", out, seconds=60))
    assert str(out) in line and "cannot use this output folder" in line


def test_results_dir_start_in_an_unwritable_place_is_an_input_error(tmp_path):
    from bposim.outputs import ResultsDir
    from bposim.scenario.load import load_scenario

    blocker = tmp_path / "file"
    blocker.write_text("x")
    folder = ResultsDir(tmp_path / "ok", load_scenario(SQ), 1, 1)
    folder.path = blocker / "sub"  # a folder inside a regular file cannot be made
    with pytest.raises(InputError, match="cannot use this output folder"):
        folder.start()


# ------------------------------------ N10: nothing but the error when run is refused
def test_run_refused_by_the_work_estimate_prints_only_the_error(tmp_path):
    rows = "".join(f"{t},100000000\n" for t in DAY)
    r = _forecast_scenario(tmp_path, rows)
    line = one_error(cli("run", r, "-n", "2", "--out", tmp_path / "out", seconds=60))
    assert "replications" not in line.split(":")[0] and "--allow-large" in line


# ------------------------- N9: a file over the row cap says where reading stopped
def test_problem_count_says_reading_stopped_at_the_row_cap(tmp_path, monkeypatch):
    from bposim.scenario import csvfile

    monkeypatch.setattr(csvfile, "MAX_ROWS", 30)
    r = _forecast_scenario(tmp_path, "bad,1\n" * 48)  # every row has a problem
    result = cli("validate", r, seconds=60)
    assert result.exit_code == 2, result.output
    f = tmp_path / "f.csv"
    shown = [ln for ln in result.output.splitlines() if "interval_start must be" in ln]
    assert len(shown) == csvfile.MAX_PROBLEMS
    assert (f"{f}:{2 + csvfile.MAX_PROBLEMS}: queues[0].arrivals.forecast_csv: "
            f"{30 - csvfile.MAX_PROBLEMS} more rows with problems, from this row on, not shown "
            "and maybe more after it") in result.output
    assert (f"{f}:32: queues[0].arrivals.forecast_csv: has more than 30 data rows, the most "
            "bposim reads; reading stopped at this row (the limit)") in result.output
