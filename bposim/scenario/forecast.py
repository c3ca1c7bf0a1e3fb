"""Read a forecast CSV (columns ``interval_start``, ``volume``) into per-interval volumes.

``interval_start`` is either a time of day ``HH:MM`` (the file is one day, repeated
every day of the horizon) or a local date-time ``YYYY-MM-DD HH:MM`` in the horizon's
time zone (the file covers the horizon). Intervals absent from the file get volume 0.
Optional columns ``aht`` and ``patience`` give the mean handle time (handle plus
after-call work) and mean patience of that interval's contacts, in seconds; when a
column is present, every row needs a value in it. An optional ``queue`` column lets
one file hold several queues' rows. Problems name the CSV file and its row (line
number; the header is row 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from bposim.scenario.csvfile import data_rows_problem, read_rows
from bposim.scenario.fields import MAX_NUMBER, Context, suggest
from bposim.scenario.schema import Horizon

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")  # HH:MM, or HH:MM:00 as spreadsheets write
MEANS = ("aht", "patience")  # optional columns: per-interval means in seconds


class Forecast(NamedTuple):
    """Per-interval values read from a forecast CSV (one day or the whole horizon).

    ``aht`` and ``patience`` are ``None`` when the file has no such column; otherwise
    they hold a mean per interval, NaN for intervals the file does not list.
    """

    volumes: tuple[float, ...]
    aht: tuple[float, ...] | None = None
    patience: tuple[float, ...] | None = None


def read_forecast(
    ctx: Context, name: str, path: str, horizon: Horizon, base_dir: Path | None,
    queue: str | None = None, queue_ids: Collection[str] = (),
) -> Forecast | None:
    """The :class:`Forecast` (one day or the whole horizon) in the CSV ``name``.

    ``name`` is relative to ``base_dir`` (the scenario's folder) unless absolute;
    ``path`` is the scenario field that names the file, used in problems. When the
    file has a ``queue`` column (one file for several queues, as ``bposim staff``
    reads), only the rows of ``queue`` count; a row naming none of ``queue_ids`` is
    a problem.
    """
    step, origin = horizon.interval_minutes, dt.datetime.combine(horizon.start, dt.time())
    slots: dict[int, tuple[float, int]] = {}
    means: dict[str, dict[int, float]] = {}  # column -> interval -> mean
    form: list[str] = []
    rows_seen = [0]

    def row(line: int, cells: dict, add) -> None:
        rows_seen[0] += 1
        owner = cells.get("queue")
        if owner is not None:
            if owner not in queue_ids:
                hint = suggest(owner, queue_ids) or f"; queues are: {', '.join(sorted(queue_ids))}"
                add(line, f"unknown queue {owner!r}{hint}")
                return
            if owner != queue:
                return
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
        if volume > MAX_NUMBER:
            add(line, f"volume must be at most {MAX_NUMBER:g}, got {raw_volume}")
            return
        index = int(minutes // step)
        if index in slots:
            add(line, f"interval {raw_time} appears twice (first on row {slots[index][1]})")
            return
        values = {}
        for column in MEANS:
            if column in cells:
                values[column] = _mean(cells[column], column, line, add)
        if None in values.values():
            return
        slots[index] = (volume, line)
        for column, value in values.items():
            means.setdefault(column, {})[index] = value

    if not read_rows(ctx, name, path, base_dir, "forecast CSV", ("interval_start", "volume"), row,
                     optional=(*MEANS, "queue")):
        return None
    if not rows_seen[0]:
        data_rows_problem(ctx, path, name, base_dir)
        return None
    if not slots:
        ctx.add(path, f"{name} has no rows for queue {queue!r} (its queue column names others)")
        return None
    n = horizon.intervals_per_day if form[0] == "day" else horizon.n_intervals
    per = {c: tuple(v.get(i, math.nan) for i in range(n)) for c, v in means.items()}
    return Forecast(tuple(slots[i][0] if i in slots else 0.0 for i in range(n)), **per)


def _mean(text: str, column: str, line: int, add) -> float | None:
    """A positive, finite mean in seconds from a cell of ``column``, or None (reported)."""
    if not text:
        add(line, f"{column} is empty; the file has the column {column}, so every row needs a "
            "value (or remove the column)")
        return None
    try:
        value = float(text)
    except ValueError:
        add(line, f"{column} must be a number of seconds, got {text!r}")
        return None
    if not math.isfinite(value) or value <= 0:
        add(line, f"{column} must be a finite number of seconds > 0, got {text}")
        return None
    if value > MAX_NUMBER:
        add(line, f"{column} must be at most {MAX_NUMBER:g} seconds, got {text}")
        return None
    return value


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
