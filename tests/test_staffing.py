"""Per-interval requirements and forecast reading."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from bposim import erlang, staffing
from bposim.errors import InputError

EXAMPLE = files("bposim") / "examples" / "forecast.csv"


def _forecast(volumes, starts=None, **columns):
    starts = starts or [f"{8 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(len(volumes))]
    return pd.DataFrame({"interval_start": starts, "volume": volumes, **columns})


def test_example_forecast_has_a_realistic_day():
    f = staffing.read_forecast(EXAMPLE)
    assert len(f) == 48 and list(f.columns) == ["interval_start", "volume"]
    assert 2500 <= f["volume"].sum() <= 3500
    vol = f.set_index("interval_start")["volume"]
    morning, afternoon = vol["09:30":"11:30"], vol["15:30":"17:30"]
    night = vol["00:00":"05:30"]
    assert morning.max() == vol.max() and afternoon.max() > vol["13:00":"14:30"].max()
    assert night.max() * 10 < vol.max()


def test_call_centre_helper_example_with_shrinkage():
    # 200 calls in an hour, AHT 180 s, 80/20: 14 agents, 20 scheduled with 30 % shrinkage
    out = staffing.requirements(_forecast([200.0]), aht=180, target=0.8, answer_within=20,
                                shrinkage=0.3, interval_minutes=60)
    row = out.iloc[0]
    assert row["agents"] == 14 and row["scheduled"] == 20
    assert row["load_erlangs"] == pytest.approx(10.0)
    assert row["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert row["p_abandon"] == 0.0


def test_requirements_columns_and_consistency():
    f = staffing.read_forecast(EXAMPLE)
    out = staffing.requirements(f, aht=180, shrinkage=0.33, max_occupancy=0.85)
    for col in ("interval_start", "volume", "aht", "load_erlangs", "agents", "scheduled",
                "service_level", "asa", "occupancy", "p_abandon"):
        assert col in out.columns
    assert out.attrs["interval_minutes"] == 30
    busy = out[out["volume"] > 0]
    assert (busy["service_level"] >= 0.8).all() and (out["occupancy"] <= 0.85).all()
    assert np.allclose(out["load_erlangs"], out["volume"] * 180 / 1800)
    assert (out["scheduled"] == np.ceil(out["agents"] / 0.67 - 1e-9)).all()
    # one agent fewer misses the target or the occupancy cap
    fewer = out["agents"] - 1
    load = out["load_erlangs"].to_numpy()
    misses = (erlang.service_level(load, fewer.to_numpy(), 180, 20) < 0.8) \
        | (out["load_erlangs"] / fewer.clip(lower=1) > 0.85)
    assert misses[busy.index].all()


def test_erlang_a_requirements_with_abandonment_cap():
    f = _forecast([120.0, 150.0, 90.0], patience=[60.0, np.nan, 200.0])
    out = staffing.requirements(f, aht=240, patience=100, max_abandon=0.03, target=0.7)
    assert list(out["patience"]) == [60.0, 100.0, 200.0]
    assert (out["p_abandon"] <= 0.03).all() and (out["p_abandon"] > 0).all()
    assert (out["service_level"] >= 0.7).all()
    for i, row in out.iterrows():
        r = erlang.erlang_a(row["load_erlangs"], row["agents"] - 1, 240, row["patience"], 20)
        assert r.p_abandon > 0.03 or r.service_level < 0.7


def test_per_interval_aht_and_zero_volume():
    f = _forecast([0.0, 50.0, 50.0], aht=[np.nan, 120.0, 360.0])
    out = staffing.requirements(f, aht=200)
    assert list(out["aht"]) == [200.0, 120.0, 360.0]
    assert out["agents"].iloc[0] == 0 and out["service_level"].iloc[0] == 1.0
    assert out["agents"].iloc[2] > out["agents"].iloc[1]


def test_interval_length_is_inferred_from_timestamps_and_queues():
    starts = list(pd.date_range("2026-01-05 08:00", periods=4, freq="15min")) * 2
    f = pd.DataFrame({"queue": ["a"] * 4 + ["b"] * 4, "interval_start": starts,
                      "volume": [30.0] * 8})
    out = staffing.requirements(f, aht=180)
    assert out.attrs["interval_minutes"] == 15 and list(out.columns)[0] == "queue"
    assert (out["load_erlangs"] == 6.0).all()
    assert staffing.requirements(f, aht=180, interval_minutes=30)["load_erlangs"].iloc[0] == 3.0


@pytest.mark.parametrize("kwargs, message", [
    ({"aht": -3}, "aht"), ({"aht": 180, "target": 1.2}, "target"),
    ({"aht": 180, "shrinkage": 1.0}, "shrinkage"), ({}, "aht"),
    ({"aht": 180, "max_abandon": 0.05}, "patience"),
    ({"aht": 180, "max_occupancy": 0}, "occupancy"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message):
        staffing.requirements(_forecast([10.0, 20.0]), **kwargs)


def test_bad_frames():
    with pytest.raises(InputError, match="volume"):
        staffing.requirements(_forecast([10.0, -1.0]), aht=180)
    with pytest.raises(InputError, match="single interval"):
        staffing.requirements(_forecast([10.0]), aht=180)
    with pytest.raises(InputError, match="twice"):
        staffing.requirements(_forecast([10.0, 5.0], starts=["08:00", "08:00"]), aht=180)


def _write(tmp_path, text, name="f.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, pieces", [
    ("interval_start,volume,colour\n08:00,1,red\n", ["unknown column", "'colour'", "f.csv"]),
    ("interval_start,volumes\n08:00,1\n",
     ["unknown column", "'volumes'", "missing volume"]),
    ("interval_start,volume\n08:00,1\n08:30,abc\n", ["f.csv:3:2", "volume", "must be a number, got 'abc'"]),
    ("# comment\ninterval_start,volume\n08:00,1\n\n08:30,-4\n", ["f.csv:5", "volume", "-4"]),
    ("interval_start,volume,aht\n08:00,1,0\n", ["f.csv:2:3", "aht", "must be a finite number of seconds > 0, got 0"]),
    ("interval_start,volume\n08:00,1,2\n", ["f.csv:2", "has 3 columns; the header has 2"]),
    ("interval_start,volume\n08:00,1\n25:00,2\n", ["f.csv:3", "25:00"]),
    ("interval_start,volume\n08:00,1\n08:00,2\n", ["f.csv:3", "twice"]),
    ("interval_start,volume\nyesterday-ish,1\n", ["f.csv:2", "yesterday-ish"]),
    ("", ["empty"]), ("interval_start,volume\n", ["no rows"]),
])
def test_read_forecast_reports_one_clear_line(tmp_path, text, pieces):
    with pytest.raises(InputError) as err:
        staffing.read_forecast(_write(tmp_path, text))
    message = str(err.value)
    assert "\n" not in message
    for piece in pieces:
        assert piece in message


def test_read_forecast_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.csv not found"):
        staffing.read_forecast(tmp_path / "nope.csv")


def test_read_forecast_timestamps_and_optional_columns(tmp_path):
    path = _write(tmp_path, "queue,interval_start,volume,aht,patience\n"
                            "q1,2026-01-05 08:00,10,200,\nq1,2026-01-05 08:30,12,,90\n")
    f = staffing.read_forecast(path)
    assert pd.api.types.is_datetime64_any_dtype(f["interval_start"])
    assert np.isnan(f["aht"].iloc[1]) and np.isnan(f["patience"].iloc[0])
    out = staffing.requirements(f, aht=180, patience=120)
    assert list(out["aht"]) == [200.0, 180.0] and list(out["patience"]) == [120.0, 90.0]
