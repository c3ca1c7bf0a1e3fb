"""Read a forecast CSV (columns ``interval_start``, ``volume``) into per-interval volumes.

``interval_start`` is either a time of day ``HH:MM`` (the file is one day, repeated
every day of the horizon) or a local date-time ``YYYY-MM-DD HH:MM`` in the horizon's
time zone (the file covers the horizon). Intervals absent from the file get volume 0.
Problems name the CSV file and its row (line number; the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path

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
    file = Path(name).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = Path(base_dir) / file
    shown = str(file)
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            return _parse(ctx, csv.reader(fh), shown, path, horizon)
    except FileNotFoundError:
        ctx.add(path, f"forecast CSV {shown} not found")
    except IsADirectoryError:
        ctx.add(path, f"forecast CSV {shown} is a directory")
    except UnicodeDecodeError:
        ctx.add(path, f"forecast CSV {shown} is not UTF-8 text")
    except OSError as exc:
        ctx.add(path, f"cannot read forecast CSV {shown}: {exc.strerror or exc}")
    return None


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


def _parse(ctx: Context, reader, shown: str, path: str, horizon: Horizon) -> tuple[float, ...] | None:
    before = len(ctx.problems)

    def add(line: int, message: str) -> None:
        ctx.add(path, message, file=shown, line=line)

    try:
        header = next(reader, None)
        if header is None:
            add(1, "is empty; expected a header row: interval_start,volume")
            return None
        columns = [h.strip().lower() for h in header]
        missing = [c for c in ("interval_start", "volume") if c not in columns]
        if missing:
            add(1, f"header must name the columns interval_start and volume; missing {', '.join(missing)}")
            return None
        t_col, v_col = columns.index("interval_start"), columns.index("volume")
        step, origin = horizon.interval_minutes, dt.datetime.combine(horizon.start, dt.time())
        slots: dict[int, tuple[float, int]] = {}
        form = None
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(t_col, v_col):
                add(line, f"has {len(row)} columns; the header has {len(columns)}")
                continue
            raw_time, raw_volume = row[t_col].strip(), row[v_col].strip()
            when = _when(raw_time)
            if when is None:
                add(line, f"interval_start must be 'HH:MM' or 'YYYY-MM-DD HH:MM', got {raw_time!r}")
                continue
            kind, value = when
            form = form or kind
            if kind != form:
                add(line, "mixes times of day and date-times in interval_start; use one form throughout")
                continue
            if kind == "day":
                minutes = value
            elif value.tzinfo is not None:
                add(line, f"{raw_time!r} has a UTC offset; write local times in the horizon's time zone")
                continue
            else:
                minutes = (value - origin).total_seconds() / 60
                if not 0 <= minutes < horizon.days * 1440:
                    add(line, f"{raw_time!r} is outside the horizon "
                        f"({horizon.start} for {horizon.days} day{'s' if horizon.days > 1 else ''})")
                    continue
            if minutes % step:
                add(line, f"{raw_time!r} is not the start of a {step}-minute interval")
                continue
            try:
                volume = float(raw_volume)
            except ValueError:
                add(line, f"volume must be a number, got {raw_volume!r}")
                continue
            if not math.isfinite(volume) or volume < 0:
                add(line, f"volume must be a finite number >= 0, got {raw_volume}")
                continue
            index = int(minutes // step)
            if index in slots:
                add(line, f"interval {raw_time} appears twice (first on row {slots[index][1]})")
                continue
            slots[index] = (volume, line)
    except csv.Error as exc:
        add(reader.line_num, f"is not valid CSV: {exc}")
        return None
    if len(ctx.problems) > before:
        return None
    if not slots:
        add(1, "has no data rows")
        return None
    n = horizon.intervals_per_day if form == "day" else horizon.n_intervals
    return tuple(slots[i][0] if i in slots else 0.0 for i in range(n))
