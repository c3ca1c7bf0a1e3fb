"""Read a pool's headcount per interval from a CSV file (``staffing: {per_interval_csv: FILE}``).

Columns: ``interval_start`` and ``agents`` (the scheduled headcount; the pool's
shrinkage and breaks still apply), optional ``pool`` (rows of other pools are skipped,
so one file can staff several pools) and ``site`` (when given, the pool's site). The
file written by ``bposim staff --out`` has these columns. ``interval_start`` is
``HH:MM`` (one day, repeated every day) or ``YYYY-MM-DD HH:MM`` (the whole horizon)
in the horizon's time zone, as in a forecast CSV. Every interval needs a row (0 for
closed intervals), so a file for another interval length or a gap is caught.
Problems name the CSV file and its row.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from bposim.scenario.csvfile import data_rows_problem, read_rows
from bposim.scenario.fields import MAX_NUMBER, Context, suggest
from bposim.scenario.forecast import _when
from bposim.scenario.schema import Horizon

COLUMNS = ("interval_start", "agents")
OPTIONAL = ("pool", "site")
SHOWN_GAPS = 3  # missing intervals named in the problem before "and N more"


def read_staffing_csv(ctx: Context, name: str, path: str, horizon: Horizon, base_dir: Path | None,
                      pool_id: str | None, pool_ids: set[str],
                      site: str | None) -> tuple[int, ...] | None:
    """Headcount per interval (one day or the whole horizon) of pool ``pool_id``.

    ``path`` is the scenario field naming the file; ``pool_ids`` are the scenario's
    pools (a row naming another is a problem); ``site`` is the pool's site.
    """
    step, origin = horizon.interval_minutes, dt.datetime.combine(horizon.start, dt.time())
    slots: dict[int, tuple[int, int]] = {}  # interval -> (agents, line)
    form: list[str] = []
    seen_rows = [0]

    def row(line: int, cells: dict, add) -> None:
        seen_rows[0] += 1
        pool = cells.get("pool")
        if pool is not None:
            if pool not in pool_ids:
                hint = suggest(pool, pool_ids) or f"; pools are: {', '.join(sorted(pool_ids))}"
                add(line, f"unknown pool {pool!r}{hint}")
                return
            if pool != pool_id:
                return
        where = cells.get("site")
        if where and where != site:
            has = f"is at site {site!r}" if site else "has no site"
            add(line, f"site {where!r} does not match: pool {pool_id!r} {has}")
            return
        raw_time = cells["interval_start"]
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
            add(line, f"{raw_time!r} is not the start of a {step}-minute interval "
                "(the horizon's interval_minutes)")
            return
        agents = _agents(cells["agents"], line, add)
        if agents is None:
            return
        index = int(minutes // step)
        if index in slots:
            add(line, f"interval {raw_time} appears twice for pool {pool_id!r} "
                f"(first on row {slots[index][1]})")
            return
        slots[index] = (agents, line)

    if not read_rows(ctx, name, path, base_dir, "staffing CSV", COLUMNS, row, optional=OPTIONAL):
        return None
    if not seen_rows[0]:
        data_rows_problem(ctx, path, name, base_dir)
        return None
    if not slots:
        ctx.add(path, f"{name} has no rows for pool {pool_id!r}")
        return None
    n = horizon.intervals_per_day if form[0] == "day" else horizon.n_intervals
    gaps = [i for i in range(n) if i not in slots]
    if gaps:
        shown = ", ".join(_label(i, horizon, form[0]) for i in gaps[:SHOWN_GAPS])
        more = f" and {len(gaps) - SHOWN_GAPS} more" if len(gaps) > SHOWN_GAPS else ""
        span = "every interval of the day" if form[0] == "day" else "every interval of the horizon"
        ctx.add(path, f"{name} has no row for pool {pool_id!r} at {shown}{more}; it needs {span} "
                "(write 0 agents for closed intervals)")
        return None
    return tuple(slots[i][0] for i in range(n))


def _agents(text: str, line: int, add) -> int | None:
    """A whole number of agents >= 0 (``12`` or ``12.0``), or None (reported)."""
    try:
        value = float(text)
    except ValueError:
        add(line, f"agents must be a whole number, got {text!r}")
        return None
    if not math.isfinite(value) or value < 0 or not value.is_integer():
        add(line, f"agents must be a whole number >= 0, got {text}")
        return None
    if value > MAX_NUMBER:
        add(line, f"agents must be at most {MAX_NUMBER:g}, got {text}")
        return None
    return int(value)


def _label(index: int, horizon: Horizon, form: str) -> str:
    minutes = index * horizon.interval_minutes
    if form == "day":
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    when = dt.datetime.combine(horizon.start, dt.time()) + dt.timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%d %H:%M")
