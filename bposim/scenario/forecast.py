"""Read a forecast CSV (columns ``interval_start``, ``volume``) into per-interval volumes.

``interval_start`` is either a time of day ``HH:MM`` (the file is one day, repeated
every day of the horizon) or a local date-time ``YYYY-MM-DD HH:MM`` in the horizon's
time zone (the file covers the horizon). Intervals absent from the file get volume 0.
Problems name the CSV file and its row (line number; the header is row 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

from bposim.scenario.csvfile import data_rows_problem, read_rows
from bposim.scenario.fields import Context
from bposim.scenario.schema import Horizon

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def read_forecast(
    ctx: Context, name: str, path: str, horizon: Horizon, base_dir: Path | None
) -> tuple[float, ...] | None:
    """Volumes per interval (one day or the whole horizon) from the CSV ``name``.

    ``name`` is relative to ``base_dir`` (the scenario's folder) unless absolute;
    ``path`` is the scenario field that names the file, used in problems.
    """
    step, origin = horizon.interval_minutes, dt.datetime.combine(horizon.start, dt.time())
    slots: dict[int, tuple[float, int]] = {}
    form: list[str] = []

    def row(line: int, cells: dict, add) -> None:
        raw_time, raw_volume = cells["interval_start"], cells["volume"]
        when = _when(raw_time)
        if when is None:
            add(line, f"interval_start must be 'HH:MM' or 'YYYY-MM-DD HH:MM', got {raw_time!r}")
            return
        kind, value = when
        if not form:
            form.append(kind)
        if kind != form[0]:
            add(line, "mixes times of day and date-times in interval_start; use one form throughout")
            return
        if kind == "day":
            minutes = value
        elif value.tzinfo is not None:
            add(line, f"{raw_time!r} has a UTC offset; write local times in the horizon's time zone")
            return
        else:
            minutes = (value - origin).total_seconds() / 60
            if not 0 <= minutes < horizon.days * 1440:
                add(line, f"{raw_time!r} is outside the horizon "
                    f"({horizon.start} for {horizon.days} day{'s' if horizon.days > 1 else ''})")
                return
        if minutes % step:
            add(line, f"{raw_time!r} is not the start of a {step}-minute interval")
            return
        try:
            volume = float(raw_volume)
        except ValueError:
            add(line, f"volume must be a number, got {raw_volume!r}")
            return
        if not math.isfinite(volume) or volume < 0:
            add(line, f"volume must be a finite number >= 0, got {raw_volume}")
            return
        index = int(minutes // step)
        if index in slots:
            add(line, f"interval {raw_time} appears twice (first on row {slots[index][1]})")
            return
        slots[index] = (volume, line)

    if not read_rows(ctx, name, path, base_dir, "forecast CSV", ("interval_start", "volume"), row):
        return None
    if not slots:
        data_rows_problem(ctx, path, name, base_dir)
        return None
    n = horizon.intervals_per_day if form[0] == "day" else horizon.n_intervals
    return tuple(slots[i][0] if i in slots else 0.0 for i in range(n))


def _when(text: str) -> tuple[str, object] | None:
    """('day', minutes after midnight) or ('horizon', datetime), or None if unreadable."""
    match = _CLOCK.match(text)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        return ("day", hours * 60 + minutes) if hours < 24 and minutes < 60 else None
    try:
        return "horizon", dt.datetime.fromisoformat(text)
    except ValueError:
        return None
