"""Who is on duty when: agents' on-duty spans and planned breaks, from a pool's staffing.

Times are seconds on the simulation clock: the wall-clock time of the horizon's
reference zone since midnight of the start date, every day 24 h long. A shift written
in a site's local time is converted through real instants, so 08:00 in Manila lands
on the right reference-zone hour on either side of a daylight-saving change there or
in the reference zone. Breaks are placed within their windows, staggered so that as
few agents as possible (and never more than the cap when that can be met) are planned
on break at once (the engine enforces the pool's cap as it runs). Nothing here draws a
random number.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from bposim.scenario.schema import WEEKDAYS, Break, Horizon, Shift, Staffing

GRID = 300.0  # break placement grid, seconds


class Span(NamedTuple):
    """One stretch on duty; ``breaks``: planned (start, seconds) within it."""

    start: float
    end: float
    breaks: tuple[tuple[float, float], ...] = ()


def _runs(mask: np.ndarray, interval: float) -> list[Span]:
    """Maximal runs of True in ``mask`` as spans."""
    spans, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            spans.append(Span(start * interval, i * interval))
            start = None
    if start is not None:
        spans.append(Span(start * interval, len(mask) * interval))
    return spans


def _per_day_table(values, horizon: Horizon) -> np.ndarray:
    heads = np.asarray(values, dtype=int)
    if heads.size == horizon.n_intervals:
        return heads
    return np.tile(heads, horizon.days)


def shift_instants(shift: Shift, horizon: Horizon, site_tz: str | None) -> list[tuple[float, float]]:
    """(start, end) clock seconds of each working of ``shift``, clipped to the horizon."""
    ref = ZoneInfo(horizon.timezone)
    local = ZoneInfo(site_tz or horizon.timezone)
    origin = dt.datetime.combine(horizon.start, dt.time(0))
    out = []
    for d in range(-1, horizon.days + 1):  # a local day may fall on either side of a reference day
        day = horizon.start + dt.timedelta(days=d)
        if WEEKDAYS[day.weekday()] not in shift.days:
            continue
        begin = dt.datetime.combine(day, shift.start, tzinfo=local)
        finish = (begin.astimezone(dt.timezone.utc) + dt.timedelta(hours=shift.hours))
        s = (begin.astimezone(ref).replace(tzinfo=None) - origin).total_seconds()
        e = (finish.astimezone(ref).replace(tzinfo=None) - origin).total_seconds()
        s, e = max(s, 0.0), min(e, horizon.seconds)
        if e > s:
            out.append((s, e))
    return out


def agent_spans(staffing: Staffing, horizon: Horizon, site_tz: str | None = None,
                breaks: tuple[Break, ...] = ()) -> list[list[Span]]:
    """On-duty spans per agent, from any of the three staffing forms, breaks planned."""
    if staffing.agents is not None:
        return [[Span(0.0, horizon.seconds)] for _ in range(staffing.agents)]
    if staffing.per_interval is not None:
        heads = _per_day_table(staffing.per_interval, horizon)
        return [_runs(heads > k, horizon.interval_seconds) for k in range(int(heads.max(initial=0)))]
    agents: list[list[Span]] = []
    for shift in staffing.shifts:
        times = shift_instants(shift, horizon, site_tz)
        agents.extend([[Span(s, e) for s, e in times] for _ in range(shift.agents)])
    if breaks:
        plan_breaks(agents, horizon, breaks)
    return agents


def plan_breaks(agents: list[list[Span]], horizon: Horizon, breaks: tuple[Break, ...]) -> None:
    """Place each agent's breaks in their windows, in place, spreading the load.

    Breaks are placed in order of their earliest start; each goes where the highest
    number of agents already planned on break during it is smallest (earliest such
    place on a 5-minute grid), which staggers breaks evenly across the window."""
    slots = int(np.ceil(horizon.seconds / GRID)) + 1
    items = []
    for a, spans in enumerate(agents):
        for k, span in enumerate(spans):
            for b in breaks:
                lo, hi = span.start + b.earliest * 3600, span.start + b.latest * 3600
                if lo + b.minutes * 60 <= span.end + 1e-9:
                    items.append((lo, min(hi, span.end - b.minutes * 60), b.minutes * 60, a, k))
    widths = {max(1, math.ceil(secs / GRID)) for _, _, secs, _, _ in items}
    # zeros past the last slot (never written): a window's peak there is that of what is left
    load = np.zeros(slots + max(widths, default=1) + 1, dtype=np.int32)
    placed: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lo, hi, secs, a, k in sorted(items):
        first, last = math.ceil(lo / GRID), math.floor(hi / GRID)
        width = max(1, math.ceil(secs / GRID))
        if last < first:  # a window narrower than the grid: start at its opening
            pos = int(lo // GRID)
            load[pos:min(pos + width + 1, slots)] += 1
            placed.setdefault((a, k), []).append((lo, secs))
            continue
        best = first + int(_window_peaks(load, first, last - first + 1, width).argmin())
        load[best:min(best + width, slots)] += 1
        placed.setdefault((a, k), []).append((best * GRID, secs))
    for (a, k), planned in placed.items():
        agents[a][k] = agents[a][k]._replace(breaks=tuple(sorted(planned)))


def _window_peaks(load: np.ndarray, first: int, count: int, width: int) -> np.ndarray:
    """Highest load in ``load[pos:pos + width]`` for each of ``count`` starts from ``first``.

    One vectorised pass instead of a slice per start; ``argmin`` of the result picks
    the earliest start with the smallest peak."""
    peaks = load[first:first + count].copy()
    for j in range(1, width):
        np.maximum(peaks, load[first + j:first + j + count], out=peaks)
    return peaks


def headcount(agents, horizon: Horizon) -> np.ndarray:
    """Time-averaged number of agents on duty per interval."""
    n, length = horizon.n_intervals, horizon.interval_seconds
    out = np.zeros(n)
    for spans in agents:
        for span in spans:
            add_time(out, span.start, span.end, length, n)
    return out / length


def break_headcount(agents, horizon: Horizon) -> np.ndarray:
    """Time-averaged number of agents on a planned break per interval."""
    n, length = horizon.n_intervals, horizon.interval_seconds
    out = np.zeros(n)
    for spans in agents:
        for span in spans:
            for start, secs in span.breaks:
                add_time(out, start, start + secs, length, n)
    return out / length


def add_time(acc, start: float, end: float, length: float, n: int) -> None:
    """Add the span [start, end) to per-interval accumulator ``acc``, split at boundaries."""
    i = int(start // length)
    while start < end and i < n:
        boundary = (i + 1) * length
        stop = end if end < boundary else boundary
        acc[i] += stop - start
        start = stop
        i += 1
