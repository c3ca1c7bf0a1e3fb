"""`bposim staff` forecast problems point at the file, line and column, and say which
option to use; a forecast built in Python gets row numbers counted from 1."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from bposim.cli import main
from bposim.errors import InputError
from bposim.staffing import read_forecast, requirements


def staff(tmp_path, text, *args):
    path = tmp_path / "forecast.csv"
    path.write_text(text)
    r = CliRunner().invoke(main, ["staff", str(path), *args])
    return r, str(path)


@pytest.mark.parametrize("text, where, words", [
    ("interval_start,volume,aht\n2026-01-05 08:00,100,180\n2026-01-05 08:30,120,abc\n",
     ":3:3:", "aht: must be a number of seconds, got 'abc'"),
    ("interval_start,volume\n2026-01-05 08:00,100\n2026-01-05 08:30,-5\n", ":3:2:", "zero or more"),
    ("# a comment line\ninterval_start,aht,volume\n2026-01-05 08:00,180,100\n\n2026-01-05 08:30,,120\n",
     ":5:2:", "--aht SECONDS"),
    ("interval_start,volume\n2026-01-05 08:00,100\n", ":2:", "--aht SECONDS"),
])
def test_staff_errors_name_file_line_column_and_option(tmp_path, text, where, words):
    r, path = staff(tmp_path, text)
    assert r.exit_code == 2, r.output
    assert f"{path}{where}" in r.output and words in r.output
    assert "Traceback" not in r.output


def test_the_aht_option_fills_blank_cells(tmp_path):
    r, _ = staff(tmp_path, "interval_start,aht,volume\n2026-01-05 08:00,180,100\n2026-01-05 08:30,,120\n",
                 "--aht", "200")
    assert r.exit_code == 0, r.output


def test_a_frame_from_python_counts_rows_from_one():
    frame = pd.DataFrame({"interval_start": ["08:00", "08:30"], "volume": [10, 20], "aht": [180, None]})
    with pytest.raises(InputError, match=r"^forecast row 2: no aht"):
        requirements(frame)


def test_read_forecast_keeps_its_source_lines(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("interval_start,volume\n\n2026-01-05 08:00,100\n# note\n2026-01-05 08:30,100\n")
    f = read_forecast(path)
    assert f.attrs["source"]["lines"] == [3, 5]
