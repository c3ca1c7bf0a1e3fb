"""Per-interval staffing requirements from a volume forecast (Erlang C or A).

A forecast has one row per planning interval: ``interval_start`` (a
timestamp, or HH:MM for a single day), ``volume`` (contacts offered), and
optionally ``aht`` and ``patience`` in seconds (blank cells fall back to the
arguments) and ``queue`` (several queues in one table).
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np
import pandas as pd

from bposim import erlang
from bposim.errors import InputError, Problem
from bposim.scenario.fields import MAX_NUMBER, Context
from bposim.scenario.forecast import forecast_rows

COLUMNS = ("queue", "interval_start", "volume", "aht", "patience")
REQUIRED = ("interval_start", "volume")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")
# scheduled = ceil(raw / (1 - shrinkage)), ignoring floating-point noise below this
# (14 / 0.7 is 20.000000000000004 in binary arithmetic but needs 20 people).
_ROUNDING_SLACK = 1e-9


# ------------------------------------------------------------------ reading
def read_forecast(path) -> pd.DataFrame:
    """Read and check a forecast CSV; InputError (file, line, column) when it is bad.

    Blank lines and lines starting with ``#`` are skipped.  Columns are
    ``interval_start`` and ``volume`` plus optional ``aht``, ``patience`` and
    ``queue``; any other column is rejected so that a typo is not ignored.  The cells
    are checked by :func:`bposim.scenario.forecast.forecast_rows`, as in a scenario.
    """
    file = str(path)
    ctx, rows, columns = Context(file), [], {}
    seen = forecast_rows(ctx, file, "", None, lambda row, add: rows.append(row), staff=True,
                         positions=columns, max_problems=1)
    if ctx.problems:
        problem = ctx.problems[0]
        raise InputError(str(problem) if problem.line is not None else problem.message)
    if not seen:
        raise InputError(f"{file}: the forecast has a header but no rows")
    starts = [r.start if isinstance(r.when, int) else r.when for r in rows]
    if not isinstance(rows[0].when, int):
        try:
            starts = pd.to_datetime(starts)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{file}: interval_start: cannot mix these date-times ({exc})") \
                from None
    frame = pd.DataFrame({"queue": [r.queue for r in rows], "interval_start": starts,
                          "volume": [r.volume for r in rows], "aht": [r.aht for r in rows],
                          "patience": [r.patience for r in rows]})
    frame = frame[[c for c in COLUMNS if c in columns]]
    line_of = [r.line for r in rows]
    _check_unique(frame, lambda i, v: str(Problem(file, "interval_start",
                                                  f"{v} appears twice", line_of[i])))
    frame.attrs["source"] = {"file": file, "lines": line_of, "columns": columns}
    return frame


# ---------------------------------------------------------------- intervals
def _start_seconds(starts: pd.Series) -> np.ndarray:
    """Seconds of each interval start, relative to the earliest."""
    if pd.api.types.is_datetime64_any_dtype(starts):
        return (starts - starts.min()).dt.total_seconds().to_numpy()
    out = []
    for value in starts:
        if isinstance(value, pd.Timestamp):
            out.append(value.value / 1e9)
            continue
        m = _CLOCK.match(str(value).strip())
        if m:
            out.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0))
            continue
        try:
            out.append(pd.Timestamp(value).value / 1e9)
        except (ValueError, TypeError):
            raise InputError(f"interval_start {value!r} is not a date-time or a time like 09:30") \
                from None
    arr = np.asarray(out, dtype=float)
    return arr - arr.min()


def _groups(frame: pd.DataFrame) -> list[np.ndarray]:
    if "queue" not in frame.columns:
        return [np.arange(len(frame))]
    codes = pd.factorize(frame["queue"].astype(str))[0]
    return [np.nonzero(codes == k)[0] for k in range(codes.max() + 1)]


def _check_unique(frame: pd.DataFrame, where) -> None:
    secs = _start_seconds(frame["interval_start"])
    for rows in _groups(frame):
        seen = {}
        for i in rows:
            if secs[i] in seen:
                raise InputError(where(i, frame["interval_start"].iloc[i]))
            seen[secs[i]] = i


def infer_interval_minutes(frame: pd.DataFrame) -> float:
    """Interval length: the smallest gap between consecutive starts (per queue)."""
    secs = _start_seconds(frame["interval_start"])
    gaps = [np.diff(np.unique(secs[rows])) for rows in _groups(frame)]
    gaps = np.concatenate(gaps) if gaps else np.array([])
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        raise InputError("cannot infer the interval length from a single interval start; "
                         "give interval_minutes")
    return float(gaps.min()) / 60.0


# ------------------------------------------------------------- requirements
def _row_values(frame: pd.DataFrame, column: str, default) -> np.ndarray:
    """Per-row values from ``column``, blanks filled with ``default``."""
    n = len(frame)
    if column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        fill = math.nan if default is None else float(default)
        values = np.where(np.isnan(values), fill, values)
    else:
        values = np.full(n, math.nan if default is None else float(default))
    return values


def _check_args(aht, answer_within, target, shrinkage, max_occupancy, patience, max_abandon,
                interval_minutes) -> None:
    def check(name, value, ok, need):
        if value is not None and not (isinstance(value, numbers.Real) and ok(float(value))):
            raise InputError(f"{name} must be {need}, got {value!r}")

    check("aht", aht, lambda v: 0 < v < math.inf, "a positive number of seconds")
    check("answer_within", answer_within, lambda v: 0 <= v < math.inf, "zero or more seconds")
    check("target", target, lambda v: 0 < v < 1, "between 0 and 1 (exclusive), e.g. 0.8")
    check("shrinkage", shrinkage, lambda v: 0 <= v < 1, "at least 0 and below 1, e.g. 0.33")
    check("max_occupancy", max_occupancy, lambda v: 0 < v <= 1, "above 0 and at most 1")
    check("patience", patience, lambda v: v > 0, "a positive number of seconds (or inf)")
    check("max_abandon", max_abandon, lambda v: 0 < v <= 1, "above 0 and at most 1")
    check("interval_minutes", interval_minutes, lambda v: 0 < v < math.inf, "positive")
    if answer_within is None or target is None:
        raise InputError("answer_within and target are required")


def _where(forecast: pd.DataFrame, i: int, column: str) -> str:
    """``file:line:column:`` of row ``i`` of a forecast read by :func:`read_forecast`,
    else ``forecast row N:`` (counting from 1)."""
    src = forecast.attrs.get("source") or {}
    lines = src.get("lines") or []
    if i < len(lines):
        col = (src.get("columns") or {}).get(column)
        return f"{src.get('file')}:{lines[i]}" + (f":{col}" if col else "") + ":"
    return f"forecast row {i + 1}:"


def requirements(forecast: pd.DataFrame, *, aht=None, answer_within=20, target=0.8,
                 shrinkage=0.0, max_occupancy=None, patience=None, max_abandon=None,
                 interval_minutes=None) -> pd.DataFrame:
    """Agents needed per interval to answer ``target`` of contacts within ``answer_within`` s.

    Erlang C, or Erlang A when a patience (argument or column) is given, in
    which case ``max_abandon`` may also cap P(abandon) and the service level
    is answered-within-threshold over offered.  ``agents`` is the raw count on
    the phones; ``scheduled`` = ceil(agents / (1 - shrinkage)).  Intervals
    with no volume need 0 agents.  Other columns of ``forecast`` are ignored.
    """
    _check_args(aht, answer_within, target, shrinkage, max_occupancy, patience, max_abandon,
                interval_minutes)
    if not isinstance(forecast, pd.DataFrame):
        raise InputError("forecast must be a pandas DataFrame")
    missing = [c for c in REQUIRED if c not in forecast.columns]
    if missing:
        raise InputError("forecast is missing column(s) " + ", ".join(missing))
    if len(forecast) == 0:
        raise InputError("forecast has no rows")
    frame = forecast.reset_index(drop=True)
    volume = pd.to_numeric(frame["volume"], errors="coerce").to_numpy(dtype=float)
    ahts = _row_values(frame, "aht", aht)
    pats = _row_values(frame, "patience", patience)
    use_a = not np.isnan(pats).all()
    pats = np.where(np.isnan(pats), math.inf, pats)
    for name, values, ok in (("volume", volume, lambda v: (v >= 0) & (v <= MAX_NUMBER)),
                             ("aht", ahts, lambda v: (v > 0) & (v <= MAX_NUMBER)),
                             ("patience", pats, lambda v: v > 0)):
        bad = np.nonzero(~ok(values))[0]
        if bad.size:
            i = bad[0]
            hint = (" (give the handle time: --aht SECONDS for bposim staff, aht= from Python, "
                    "or an aht value in every row)" if name == "aht" and np.isnan(values[i]) else "")
            what = "no aht" if name == "aht" and np.isnan(values[i]) else f"{name} {values[i]:g} is invalid"
            raise InputError(f"{_where(forecast, i, name)} {what}{hint}")
    if max_abandon is not None and not use_a:
        raise InputError("max_abandon needs a patience (argument or column): "
                         "Erlang C has no abandonment")
    _check_unique(frame, lambda i, v: f"{_where(forecast, i, 'interval_start')} interval_start {v} "
                                      "appears twice")
    minutes = float(interval_minutes) if interval_minutes is not None \
        else infer_interval_minutes(frame)
    load = volume * ahts / (minutes * 60.0)
    big = np.nonzero(load > erlang.MAX_LOAD)[0]
    if big.size:
        i = big[0]
        raise InputError(f"{_where(forecast, i, 'volume')} volume {volume[i]:g} with aht "
                         f"{ahts[i]:g} s is an offered load of {load[i]:g} Erlangs, more than the "
                         f"{erlang.MAX_LOAD:g} Erlangs bposim's Erlang formulas handle")
    if use_a:
        agents = erlang.required_agents_erlang_a(load, ahts, pats, answer_within, target,
                                                 max_abandon=max_abandon,
                                                 max_occupancy=max_occupancy)
        res = erlang.erlang_a(load, agents, ahts, pats, answer_within)
        sl, wait, occ, p_ab = res.service_level, res.asa, res.occupancy, res.p_abandon
    else:
        agents = erlang.required_agents(load, ahts, answer_within, target,
                                        max_occupancy=max_occupancy)
        sl = erlang.service_level(load, agents, ahts, answer_within)
        wait = erlang.asa(load, agents, ahts)
        occ = erlang.occupancy(load, agents)
        p_ab = np.zeros(len(frame))
    scheduled = np.ceil(agents / (1.0 - float(shrinkage)) - _ROUNDING_SLACK).astype(np.int64)
    out = pd.DataFrame({"interval_start": frame["interval_start"], "volume": volume,
                        "aht": ahts, "load_erlangs": load, "agents": agents,
                        "scheduled": scheduled, "service_level": sl, "asa": wait,
                        "occupancy": occ, "p_abandon": p_ab})
    if use_a:
        out.insert(3, "patience", pats)
    if "queue" in frame.columns:
        out.insert(0, "queue", frame["queue"])
    out.attrs["interval_minutes"] = minutes
    out.attrs["model"] = "Erlang A" if use_a else "Erlang C"
    return out

