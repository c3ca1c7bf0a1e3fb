"""Spreadsheet copies of the per-interval results: the CSV files read back equal the
Parquet frames, keyed by local date-time with the time zones stated."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from bposim.batch import run_to_directory
from bposim.scenario.schema import Site
from bposim.tables_csv import read_csv_table
from tests.helpers import single_queue


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    base = single_queue(4, 180, 2, hours=3)
    sites = (Site(id="manila", timezone="Asia/Manila"),)
    pools = tuple(dataclasses.replace(p, site="manila") for p in base.pools)
    horizon = dataclasses.replace(base.horizon, timezone="America/New_York")
    scenario = dataclasses.replace(base, sites=sites, pools=pools, horizon=horizon)
    out = tmp_path_factory.mktemp("csv") / "res"
    run_to_directory(scenario, out, replications=2, seed=3, executor="serial")
    return out


def _same(csv: pd.DataFrame, parquet: pd.DataFrame) -> None:
    csv = csv[list(parquet.columns)]
    pd.testing.assert_frame_equal(csv.reset_index(drop=True), parquet.reset_index(drop=True),
                                  check_dtype=False, check_exact=True)


def test_interval_summary_csv_equals_parquet(results_dir):
    csv = read_csv_table(results_dir / "interval_summary.csv")
    parquet = pd.read_parquet(results_dir / "interval_summary.parquet")
    _same(csv, parquet)
    assert set(csv["timezone"]) == {"America/New_York"}
    assert csv["start"].iloc[0] == pd.Timestamp("2026-01-05 00:00")


def test_pool_summary_csv_equals_parquet_with_site_clock(results_dir):
    csv = read_csv_table(results_dir / "pool_summary.csv")
    parquet = pd.read_parquet(results_dir / "pool_summary.parquet")
    _same(csv, parquet)
    assert set(csv["site_timezone"]) == {"Asia/Manila"}
    # New York is UTC-5 in January, Manila UTC+8: 13 hours ahead
    assert ((csv["site_start"] - csv["start"]) == pd.Timedelta(hours=13)).all()


def test_interval_baseline_csv_is_keyed_by_time(results_dir):
    b = read_csv_table(results_dir / "interval_baseline.csv")
    starts = pd.read_parquet(results_dir / "interval_summary.parquet")
    key = starts.drop_duplicates("interval").set_index("interval")["start"]
    assert {"interval", "start", "timezone", "erlang_required_agents"} <= set(b.columns)
    assert (b["start"] == b["interval"].map(key)).all()
    first = b.loc[b["interval"] == 1, "start"].iloc[0]
    assert first.to_pydatetime() == dt.datetime(2026, 1, 5, 0, 30)
