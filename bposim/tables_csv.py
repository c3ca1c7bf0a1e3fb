"""Spreadsheet copies of a results directory's per-interval tables.

``interval_summary.csv`` and ``pool_summary.csv`` hold the same rows and columns as
their Parquet files, keyed by the interval's local start time (``start``, as
``YYYY-MM-DD HH:MM:SS`` wall-clock time in the scenario's reference time zone, named in
the ``timezone`` column). Pool rows also give the start in their site's own time zone
(``site_timezone``, ``site_start``), so a site's planner reads its own clock.
``interval_baseline.csv`` gets the same ``start`` and ``timezone`` columns.
Excel, LibreOffice and pandas all read these without extra software.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bposim.outputs import atomic_write_frame
from bposim.scenario.schema import Scenario

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: the CSV files written beside the Parquet ones
CSV_FILES = ("interval_summary.csv", "pool_summary.csv")


def _site_zones(scenario: Scenario) -> dict[str, str]:
    return {s.id: s.timezone for s in scenario.sites}


def _in_zone(starts: pd.Series, reference: str, zone: str) -> pd.Series:
    """Reference-zone wall-clock times as wall-clock times in ``zone``."""
    t = pd.to_datetime(starts)
    if zone == reference:
        return t
    local = t.dt.tz_localize(reference, ambiguous=False, nonexistent="shift_forward")
    return local.dt.tz_convert(zone).dt.tz_localize(None)


def with_times(frame: pd.DataFrame, scenario: Scenario, starts=None) -> pd.DataFrame:
    """``frame`` with ``start`` (reference-zone wall clock) and ``timezone`` after
    ``interval``; ``starts`` (start of interval k at position k, e.g.
    :func:`bposim.metrics.interval_starts`) is used when the frame has no ``start``."""
    out = frame.copy()
    if "start" not in out.columns and "interval" not in out.columns:
        return out  # nothing per interval (e.g. an empty baseline)
    if "start" not in out.columns:
        if starts is None:
            raise ValueError("with_times needs interval starts for a frame without 'start'")
        mapped = out["interval"].astype(int).map(pd.Series(list(starts))) if len(out) else []
        out.insert(out.columns.get_loc("interval") + 1, "start", pd.Series(mapped, index=out.index,
                                                                           dtype="datetime64[ns]"))
    out["start"] = pd.to_datetime(out["start"]).dt.strftime(TIME_FORMAT)
    out.insert(out.columns.get_loc("start") + 1, "timezone", scenario.horizon.timezone)
    return out


def pool_csv(pool_summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The pool summary with reference and site-local start times."""
    out = with_times(pool_summary, scenario)
    zones = _site_zones(scenario)
    reference = scenario.horizon.timezone
    site = pool_summary["site"].fillna("").astype(str) if "site" in pool_summary else pd.Series(
        "", index=pool_summary.index)
    site_zone = site.map(lambda s: zones.get(s, reference))
    site_start = pd.Series(pd.NaT, index=pool_summary.index, dtype="datetime64[ns]")
    for zone in site_zone.unique():
        rows = site_zone == zone
        site_start[rows] = _in_zone(pool_summary.loc[rows, "start"], reference, zone).to_numpy()
    at = out.columns.get_loc("timezone") + 1
    out.insert(at, "site_timezone", site_zone.to_numpy())
    out.insert(at + 1, "site_start", site_start.dt.strftime(TIME_FORMAT).to_numpy())
    return out


def write_csv_tables(directory: str | Path, results, scenario: Scenario) -> list[Path]:
    """Write the CSV copies of ``results``' interval and pool summaries into ``directory``."""
    directory = Path(directory)
    written = []
    for name, frame in (("interval_summary.csv", with_times(results.interval_summary, scenario)),
                        ("pool_summary.csv", pool_csv(results.pool_summary, scenario))):
        atomic_write_frame(frame, directory / name)
        written.append(directory / name)
    return written


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """A CSV written here, read back with ``start`` (and ``site_start``) as datetimes and
    empty text kept as empty text (not NaN)."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for col in ("site", "tier", "queue", "pool"):
        if col in frame.columns:
            frame[col] = frame[col].astype(object).fillna("").astype(str)  # all-empty reads as float
    for col in ("start", "site_start"):
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col], format=TIME_FORMAT)
    return frame
