"""Read a forecast CSV (columns ``interval_start``, ``volume``) into per-interval volumes.

``interval_start`` is either a time of day ``HH:MM`` (the file is one day, repeated
every day of the horizon) or a local date-time ``YYYY-MM-DD HH:MM`` in the horizon's
time zone (the file covers the horizon). Intervals absent from the file get volume 0.
Optional columns ``aht`` and ``patience`` give the mean handle time (handle plus
after-call work) and mean patience of that interval's contacts, in seconds; when a
column is present, every row needs a value in it. An optional ``queue`` column lets
one file hold several queues' rows. Problems name the CSV file and its row (line
number; the header is row 1). :func:`forecast_rows` checks the cells, here and for
``bposim staff``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Collection
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


class Row(NamedTuple):
    """One forecast row whose cells are valid; NaN where the file gives no mean."""

    line: int
    queue: str | None
    start: str  # interval_start as written
    when: int | dt.datetime  # minutes after midnight (a time of day), or a date-time
    volume: float
    aht: float
    patience: float


def forecast_rows(ctx: Context, name: str, path: str, base_dir: Path | None,
                  handle: Callable[[Row, Callable], None], *,
                  wanted: Callable[[str | None, int, Callable], bool] | None = None,
                  staff: bool = False, positions: dict[str, int] | None = None,
                  max_problems: int | None = None) -> int | None:
    """Check the cells of each row of the forecast CSV ``name``; ``handle(row, add)`` each
    valid :class:`Row`. The one place that reads a forecast, for scenarios and ``bposim staff``.

    ``wanted(queue, line, add)`` says whether a row counts before its other cells are read
    (a scenario queue reads its own rows). ``staff`` (``bposim staff``) also skips ``#``
    comment lines, takes blank ``aht``/``patience`` cells (NaN: the command's options fill
    them) and a patience of ``inf``, refuses other columns, and gives each problem its cell
    as file:line:column. Returns the number of data rows, or None after a problem.
    """
    where: dict[str, int] = {} if positions is None else positions
    form: list[str] = []
    seen = [0]

    def row(line: int, cells: dict, add) -> None:
        seen[0] += 1

        def bad(column: str, message: str) -> None:
            if staff:
                add(f"{line}:{where[column]}", f"{column}: {message}")
            else:
                add(line, f"{column} {message}")

        if wanted is not None and not wanted(cells.get("queue"), line, add):
            return
        raw = cells["interval_start"]
        when = _when(raw)
        if when is None:
            bad("interval_start", f"must be 'HH:MM' or 'YYYY-MM-DD HH:MM', got {raw!r}")
            return
        if not form:
            form.append(when[0])
        if when[0] != form[0]:
            bad("interval_start", "mixes times of day and date-times; use one form throughout")
            return
        values = [_number(cells.get(c), c, staff, bad) for c in ("volume", *MEANS)]
        if None not in values:
            handle(Row(line, cells.get("queue"), raw, when[1], *values), add)

    if not read_rows(ctx, name, path, base_dir, "forecast CSV", ("interval_start", "volume"), row,
                     max_problems, optional=(*MEANS, "queue"), strict=staff, positions=where):
        return None
    return seen[0]


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
    slots: dict[int, Row] = {}
    columns: dict[str, int] = {}

    def wanted(owner: str | None, line: int, add) -> bool:
        if owner is not None and owner not in queue_ids:
            hint = suggest(owner, queue_ids) or f"; queues are: {', '.join(sorted(queue_ids))}"
            add(line, f"unknown queue {owner!r}{hint}")
            return False
        return owner is None or owner == queue

    def place(row: Row, add) -> None:
        raw, line = row.start, row.line
        if isinstance(row.when, int):
            minutes = row.when
        elif row.when.tzinfo is not None:
            add(line, f"{raw!r} has a UTC offset; write local times in the horizon's time zone")
            return
        else:
            minutes = (row.when - origin).total_seconds() / 60
            if not 0 <= minutes < horizon.days * 1440:
                add(line, f"{raw!r} is outside the horizon "
                    f"({horizon.start} for {horizon.days} day{'s' if horizon.days > 1 else ''})")
                return
        if minutes % step:
            add(line, f"{raw!r} is not the start of a {step}-minute interval")
            return
        index = int(minutes // step)
        if index in slots:
            add(line, f"interval {raw} appears twice (first on row {slots[index].line})")
            return
        slots[index] = row

    seen = forecast_rows(ctx, name, path, base_dir, place, wanted=wanted, positions=columns)
    if seen is None:
        return None
    if not seen:
        data_rows_problem(ctx, path, name, base_dir)
        return None
    if not slots:
        ctx.add(path, f"{name} has no rows for queue {queue!r} (its queue column names others)")
        return None
    n = horizon.intervals_per_day if isinstance(next(iter(slots.values())).when, int) \
        else horizon.n_intervals
    per = {c: tuple(getattr(slots[i], c) if i in slots else math.nan for i in range(n))
           for c in MEANS if c in columns}
    return Forecast(tuple(slots[i].volume if i in slots else 0.0 for i in range(n)), **per)


def _number(text: str | None, column: str, staff: bool, bad) -> float | None:
    """The volume (zero or more) or a mean in seconds (above zero) in a cell of ``column``;
    NaN when the file has no such column; None after reporting a problem with ``bad``."""
    if text is None:
        return math.nan
    unit = "" if column == "volume" else " of seconds"
    if not text:
        if staff and unit:
            return math.nan
        bad(column, "is empty" + (f"; the file has the column {column}, so every row needs a "
                                  "value (or remove the column)" if unit else ""))
        return None
    try:
        value = float(text)
    except ValueError:
        bad(column, f"must be a number{unit}, got {text!r}")
        return None
    if math.isnan(value) or (math.isinf(value) and not (staff and column == "patience")):
        bad(column, f"must be a finite number{unit}, got {text}")
    elif unit and value <= 0:
        bad(column, f"must be a finite number of seconds > 0, got {text}")
    elif value < 0:
        bad(column, f"must be zero or more, got {text}")
    elif MAX_NUMBER < value < math.inf:
        bad(column, f"must be at most {MAX_NUMBER:g}{unit and ' seconds'}, got {text}")
    else:
        return value
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
