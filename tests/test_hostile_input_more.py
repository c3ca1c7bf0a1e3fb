"""Hostile input found by the review of issue 12 (N2, N3, N7, N9, N10): each gives a
one-line error and exit status 2 naming the file and row or the option, in bounded
time, never a traceback.  Caps are tested with the limits lowered, never huge files.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bposim import erlang
from bposim.cli import main
from bposim.errors import InputError

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
