"""Read a per-contact log (one row per contact) into one tidy frame.

A column mapping says which CSV column holds each field; presets name the mappings
of known layouts. Every row's problems are reported with the file and its line
(the header is line 1); nothing is guessed silently. The result, :class:`ContactLog`,
has one row per contact that reached a queue, with times in seconds after midnight
of its ``day``:

``line, day, queue, arrival, answer, end, agent, outcome, wait, handle, priority,
transfer_to, customer, id, parent``

``outcome`` is ``answered`` or ``abandoned``; ``wait`` is the time to answer or to
abandon; ``handle`` the time from answer to end (NaN when abandoned).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bposim.errors import InputError, Problem

FIELDS = ("arrival", "queue", "answer", "end", "agent", "outcome", "date", "priority",
          "transfer_to", "customer", "id", "parent")
REQUIRED = ("arrival", "queue", "answer", "end", "agent")
OPTIONS = ("outcomes", "high_priority", "date_format")
DEFAULT_OUTCOMES = {"answered": ["answered"], "abandoned": ["abandoned"], "ignore": []}
MAX_SHOWN = 20
MAX_ROWS = 5_000_000  # bounded memory: a log larger than this is refused, not half-read
MAX_LOG_BYTES = 1024 * 1024 * 1024  # 5 million rows of about 200 bytes
HALF_DAY = 43200.0
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
SKEW = 5.0  # seconds of clock skew tolerated in the anonymous_bank preset


@dataclass
class ContactLog:
    """The contacts of a log that reached a queue, and what was left out and why."""

    frame: pd.DataFrame
    file: str
    notes: dict[str, int] = field(default_factory=dict)  # rows left out or corrected, and why
    high_priority: tuple[str, ...] = ()
    preset: str | None = None

    @property
    def days(self) -> list[dt.date]:
        return sorted(self.frame["day"].unique())

    def subset(self, days) -> "ContactLog":
        """The contacts of the given days only."""
        keep = self.frame["day"].isin(list(days))
        return ContactLog(self.frame[keep].reset_index(drop=True), self.file, dict(self.notes),
                          self.high_priority, self.preset)

    def first_line(self, day: dt.date) -> int:
        """Line of the first row of ``day`` in the file (for messages)."""
        return int(self.frame.loc[self.frame["day"] == day, "line"].min())


class _Problems:
    """Collects row problems; raises them all at once as one :class:`InputError`."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []
        self.count = 0

    def add(self, line: int | None, column: str, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_SHOWN:
            self.items.append(Problem(self.file, column, message, line))

    def rows(self, lines: np.ndarray, column: str, message: str, values=None) -> None:
        for k, line in enumerate(np.asarray(lines)[:MAX_SHOWN]):
            shown = f" (got {values[k]!r})" if values is not None else ""
            self.add(int(line), column, message + shown)
        self.count += max(len(lines) - MAX_SHOWN, 0)

    def raise_if_any(self) -> None:
        if self.count:
            text = "\n".join(str(p) for p in self.items)
            if self.count > len(self.items):
                text += f"\n... and {self.count - len(self.items)} more problems"
            raise InputError(text)


# --- presets -------------------------------------------------------------------------

PRESETS = ("generic", "anonymous_bank")


def read_mapping(path: str | Path) -> dict:
    """A column-mapping YAML file (field: column name, plus ``outcomes``, ...)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: column mapping file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the column mapping: {exc}") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: a column mapping must be a mapping of field: column")
    unknown = [k for k in data if k not in FIELDS + OPTIONS]
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r}; expected fields "
                         f"{', '.join(FIELDS)} or options {', '.join(OPTIONS)}")
    return dict(data)


def read_log(path: str | Path, columns: Mapping | str | Path | None = None,
             preset: str | None = None) -> ContactLog:
    """Read the contact log at ``path``.

    ``columns``: a mapping (or a YAML file of one) from field to column name; fields
    left out use their own name as the column (``arrival``, ``queue``, ...).
    ``preset``: ``anonymous_bank`` for the Technion SEE-Center's bank log layout.
    Raises :class:`InputError` listing every problem with file and line.
    """
    if preset not in (None, "generic", "anonymous_bank"):
        raise InputError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if isinstance(columns, (str, Path)):
        columns = read_mapping(columns)
    file = str(path)
    header, lines, rows = _read_csv(file)
    if preset == "anonymous_bank":
        if columns:
            raise InputError("give either --preset anonymous_bank or a column mapping, not both")
        return _anonymous_bank(file, header, lines, rows)
    return _generic(file, header, lines, rows, dict(columns or {}))


def _read_csv(file: str) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    """(header, line of each data row, the rows as text). A streaming pass of the csv
    module checks every row's width and notes its line (quoted fields may span lines);
    pandas' C parser then reads the text into compact string columns."""
    try:
        lines = _row_lines(file)
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, skip_blank_lines=True,
                            encoding="utf-8-sig", nrows=MAX_ROWS + 1, engine="c")
    except FileNotFoundError:
        raise InputError(f"{file}: contact log not found") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, not a contact log") from None
    except UnicodeDecodeError:
        raise InputError(f"{file}: is not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{file}:1: the log is empty; expected a header row") from None
    except (pd.errors.ParserError, csv.Error, ValueError, OSError) as exc:
        raise InputError(f"{file}: is not a readable CSV log: {str(exc).strip()}") from None
    blank = (frame.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    frame = frame[~blank].reset_index(drop=True)
    if len(frame) != len(lines):
        raise InputError(f"{file}: is not a readable CSV log (rows could not be matched to lines)")
    if frame.empty:
        raise InputError(f"{file}:1: the log has a header but no data rows")
    return [str(h).strip() for h in frame.columns], lines, frame


def _row_lines(file: str) -> np.ndarray:
    """The line of each non-blank data row; a row narrower or wider than the header,
    or more rows than :data:`MAX_ROWS`, is an error with its line."""
    from bposim.scenario.csvfile import csv_lines

    lines = []
    # a regular file (not /dev/zero or a FIFO, refused before opening), size and line capped
    with csv_lines(file, "contact log", MAX_LOG_BYTES) as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{file}:1: the log is empty; expected a header row")
        width = len(header)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise InputError(f"{file}:{reader.line_num}: has {len(row)} columns; the header has {width}")
            lines.append(reader.line_num)
            if len(lines) > MAX_ROWS:
                raise InputError(f"{file}:{reader.line_num}: more than {MAX_ROWS} rows; split the log by period")
    return np.asarray(lines, dtype=np.int64)


def _columns(file: str, header: list[str], rows: pd.DataFrame, wanted: dict[str, str], required) -> dict:
    """Column text (as a numpy array of str) per field; missing columns are errors."""
    index = {h: i for i, h in enumerate(header)}
    missing = [f"{f} (column {c!r})" for f, c in wanted.items() if c not in index and f in required]
    if missing:
        raise InputError(f"{file}:1: the header has no column for {', '.join(missing)}; "
                         f"columns present: {', '.join(header)}. Map fields to columns with "
                         "--columns MAP.yaml")
    return {f: rows.iloc[:, index[c]].str.strip().to_numpy(dtype=str) for f, c in wanted.items()
            if c in index}


def _clock(text: np.ndarray) -> np.ndarray:
    """Seconds after midnight from "H:MM:SS" / "H:MM" or plain seconds; NaN if neither."""
    s = pd.Series(text, dtype="string")
    out = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, copy=True, na_value=np.nan)
    todo = np.isnan(out) & s.str.fullmatch(_CLOCK).fillna(False).to_numpy(dtype=bool)
    if todo.any():  # strictly H:MM[:SS[.fff]]: pandas alone would read "10:0O:40" as 10:00:40
        part = s[todo]
        part = part.where(part.str.count(":") != 1, part + ":00")  # H:MM -> H:MM:00
        out[todo] = pd.to_timedelta(part.astype(object), errors="coerce").dt.total_seconds().to_numpy(dtype=float)
    out[(out < 0) | ~np.isfinite(out)] = np.nan
    return out


def _timestamps(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(date, seconds after that date's midnight) of ISO date-times; NaT/NaN if unparseable."""
    ts = pd.to_datetime(pd.Series(text), errors="coerce", format="ISO8601")
    day = ts.dt.normalize()
    return day.to_numpy(), (ts - day).dt.total_seconds().to_numpy(dtype=float)


def _later(start: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Times of day that are more than 12 h before ``start`` belong to the next day."""
    return np.where(t < start - HALF_DAY, t + 86400.0, t)


def _generic(file: str, header, lines, rows, mapping: dict) -> ContactLog:
    outcomes = mapping.pop("outcomes", None) or DEFAULT_OUTCOMES
    high = mapping.pop("high_priority", None)
    date_format = mapping.pop("date_format", None)
    wanted = {f: str(mapping.get(f, f)) for f in FIELDS}
    explicit = set(mapping)
    required = set(REQUIRED) | {f for f in explicit if f in FIELDS}
    cols = _columns(file, header, rows, wanted, required)
    problems = _Problems(file)
    empty = {f: cols[f] == "" for f in cols}
    for f in ("arrival", "queue"):
        bad = np.flatnonzero(empty[f])
        problems.rows(lines[bad], wanted[f], f"{f} is empty")
    n = len(rows)
    if "date" in cols:
        days = pd.to_datetime(pd.Series(cols["date"]), errors="coerce",
                              format=date_format or "ISO8601").dt.normalize().to_numpy()
        bad = np.flatnonzero(pd.isna(days))
        problems.rows(lines[bad], wanted["date"], "unparseable date", cols["date"][bad])
        times = {f: _clock(cols[f]) for f in ("arrival", "answer", "end")}
        expect = "a time of day H:MM:SS or seconds after midnight"
    else:
        days, arrival = _timestamps(cols["arrival"])
        times = {"arrival": arrival}
        for f in ("answer", "end"):
            d, t = _timestamps(cols[f])
            with np.errstate(invalid="ignore"):
                times[f] = t + (d - days) / np.timedelta64(1, "s")
        expect = "an ISO date-time such as 2026-01-05 08:30:00 (or map a date column)"
    for f in ("arrival", "answer", "end"):
        bad = np.flatnonzero(np.isnan(times[f]) & ~empty[f])
        problems.rows(lines[bad], wanted[f], f"unparseable {f} time; expected {expect}", cols[f][bad])
    if "date" in cols:
        times["answer"] = _later(times["arrival"], times["answer"])
        times["end"] = _later(np.where(np.isnan(times["answer"]), times["arrival"], times["answer"]),
                              times["end"])
    if "outcome" in cols:
        value_of = {}
        for kind in ("answered", "abandoned", "ignore"):
            vals = outcomes.get(kind, [])
            for v in ([vals] if isinstance(vals, str) else vals):
                value_of[str(v)] = kind
        kind = np.array([value_of.get(v, "") for v in cols["outcome"]], dtype=object)
        bad = np.flatnonzero(kind == "")
        problems.rows(lines[bad], wanted["outcome"], "unknown outcome; map it under outcomes "
                      "(answered / abandoned / ignore)", cols["outcome"][bad])
    else:
        kind = np.where(empty["answer"], "abandoned", "answered").astype(object)
    frame = pd.DataFrame({
        "line": lines, "day": days, "queue": cols["queue"], "arrival": times["arrival"],
        "answer": times["answer"], "end": times["end"],
        "agent": np.where(empty["agent"], None, cols["agent"]), "outcome": kind,
        "priority": (pd.to_numeric(pd.Series(cols["priority"]), errors="coerce").to_numpy()
                     if "priority" in cols else np.full(n, np.nan)),
        "transfer_to": (np.where(cols["transfer_to"] == "", None, cols["transfer_to"])
                        if "transfer_to" in cols else np.full(n, None)),
        "customer": (np.where(cols["customer"] == "", None, cols["customer"])
                     if "customer" in cols else np.full(n, None)),
        "id": cols["id"] if "id" in cols else np.full(n, None),
        "parent": (np.where(cols["parent"] == "", None, cols["parent"])
                   if "parent" in cols else np.full(n, None)),
    })
    problems.raise_if_any()
    ignored = frame["outcome"] == "ignore"
    frame = frame[~ignored]
    levels = (tuple(str(v) for v in ([high] if not isinstance(high, list) else high))
              if high is not None else ())
    log = ContactLog(frame.reset_index(drop=True), file,
                     {"left out: outcome mapped to ignore": int(ignored.sum())}, levels)
    return _finish(log, wanted, problems)


def _anonymous_bank(file: str, header, lines, rows) -> ContactLog:
    """The Technion SEE-Center bank log: times of day plus a YYMMDD ``date``; q_start
    0:00:00 when the call never queued; PHANTOM records; NO_SERVER when unserved."""
    need = ("type", "date", "q_start", "q_exit", "ser_start", "ser_exit", "outcome",
            "server", "priority", "customer_id", "call_id")
    cols = _columns(file, header, rows, {c: c for c in need}, need)
    problems = _Problems(file)
    day = pd.to_datetime(pd.Series(cols["date"]), format="%y%m%d", errors="coerce").to_numpy()
    bad = np.flatnonzero(pd.isna(day))
    problems.rows(lines[bad], "date", "unparseable date; expected YYMMDD", cols["date"][bad])
    t = {c: _clock(cols[c]) for c in ("q_start", "q_exit", "ser_start", "ser_exit")}
    for c, v in t.items():
        bad = np.flatnonzero(np.isnan(v))
        problems.rows(lines[bad], c, "unparseable time; expected H:MM:SS", cols[c][bad])
    outcome = cols["outcome"]
    bad = np.flatnonzero(~np.isin(outcome, ["AGENT", "HANG", "PHANTOM"]))
    problems.rows(lines[bad], "outcome", "unknown outcome; expected AGENT, HANG or PHANTOM",
                  outcome[bad])
    problems.raise_if_any()
    queued = cols["q_start"] != "0:00:00"
    served = outcome == "AGENT"
    phantom = outcome == "PHANTOM"
    in_vru = (outcome == "HANG") & ~queued
    no_record = served & (cols["ser_start"] == "0:00:00")
    no_server = served & ~no_record & (cols["server"] == "NO_SERVER")
    keep = ~phantom & ~in_vru & ~no_record & ~no_server
    arrival = np.where(queued, t["q_start"], t["ser_start"])
    answer = np.where(served, _later(arrival, t["ser_start"]), np.nan)
    # the queue and the agents' systems disagree by a second or two: clip that skew
    skew = served & (answer < arrival) & (answer >= arrival - SKEW)
    answer = np.where(skew, arrival, answer)
    end = np.where(served, _later(arrival, t["ser_exit"]), _later(arrival, t["q_exit"]))
    end = np.where(served, _later(answer, end), end)
    customer = np.where(np.isin(cols["customer_id"], ["", "0"]), None, cols["customer_id"])
    frame = pd.DataFrame({
        "line": lines, "day": day, "queue": cols["type"], "arrival": arrival, "answer": answer,
        "end": end, "agent": np.where(served & (cols["server"] != "NO_SERVER"), cols["server"], None),
        "outcome": np.where(served, "answered", "abandoned").astype(object),
        "priority": pd.to_numeric(pd.Series(cols["priority"]), errors="coerce").to_numpy(),
        "transfer_to": None, "customer": customer, "id": cols["call_id"], "parent": None,
    })[keep].reset_index(drop=True)
    notes = {"left out: PHANTOM records": int(phantom.sum()),
             "left out: hung up in the voice-response unit (never queued)": int(in_vru.sum()),
             "left out: AGENT without a service record (ser_start 0:00:00)": int(no_record.sum()),
             "left out: AGENT served by NO_SERVER": int(no_server.sum()),
             f"corrected: answer up to {SKEW:g} s before queue entry (clock skew), set to it":
                 int((skew & keep).sum())}
    log = ContactLog(frame, file, notes,
                     ("2",), "anonymous_bank")
    names = {"arrival": "q_start", "answer": "ser_start", "end": "ser_exit", "agent": "server",
             "queue": "type"}
    return _finish(log, names, problems)


def _finish(log: ContactLog, names: Mapping[str, str], problems: _Problems) -> ContactLog:
    """Check the order of times, add ``wait`` and ``handle``; every problem with its line."""
    f = log.frame
    answered = f["outcome"] == "answered"
    lines = f["line"].to_numpy()
    for mask, column, message in (
        (answered & f["answer"].isna(), names["answer"], "an answered contact needs an answer time"),
        (answered & f["end"].isna(), names["end"], "an answered contact needs an end time"),
        (~answered & f["end"].isna(), names["end"],
         "an abandoned contact needs an end time (when the customer hung up)"),
        (answered & (f["answer"] < f["arrival"]), names["answer"], "answer before arrival"),
        (answered & (f["end"] < f["answer"]), names["end"], "end before answer"),
        (~answered & (f["end"] < f["arrival"]), names["end"], "end before arrival"),
        (answered & f["agent"].isna(), names["agent"], "an answered contact needs an agent"),
    ):
        problems.rows(lines[mask.to_numpy()], column, message)
    problems.raise_if_any()
    f = f.copy()
    f["day"] = pd.to_datetime(f["day"]).dt.date
    f["wait"] = np.where(answered, f["answer"] - f["arrival"], f["end"] - f["arrival"])
    f["handle"] = np.where(answered, f["end"] - f["answer"], np.nan)
    f["priority"] = f["priority"].astype(float)
    log.frame = f.sort_values(["day", "arrival", "line"], kind="stable").reset_index(drop=True)
    if log.frame.empty:
        raise InputError(f"{log.file}: no contact in the log reached a queue")
    return log


def parse_days(spec: str | None, days: list[dt.date], file: str = "log") -> list[dt.date]:
    """Days chosen by ``spec``: day numbers in the log (1 = its first day) or ISO dates,
    as a comma list of single days and ranges ``1-10`` / ``2026-01-05..2026-01-09``."""
    if spec is None or str(spec).strip() == "":
        return list(days)
    chosen: list[dt.date] = []
    for part in str(spec).split(","):
        part = part.strip()
        try:
            if ".." in part or (part.count("-") == 1 and part.replace("-", "").isdigit()):
                a, b = part.split("..") if ".." in part else part.split("-")
                lo, hi = _day(a, days), _day(b, days)
                chosen += [d for d in days if lo <= d <= hi]
            else:
                chosen.append(_day(part, days))
        except ValueError as exc:
            raise InputError(f"days {spec!r}: {exc}") from None
    missing = [d for d in chosen if d not in days]
    if missing:
        raise InputError(f"days {spec!r}: {missing[0]} has no contacts in {file} "
                         f"(it covers {days[0]} to {days[-1]})")
    if not chosen:
        raise InputError(f"days {spec!r} selects no day of {file}")
    return sorted(set(chosen))


def _day(text: str, days: list[dt.date]) -> dt.date:
    text = text.strip()
    if text.isdigit():
        k = int(text)
        if not 1 <= k <= len(days):
            raise ValueError(f"day {k} is outside 1-{len(days)} (the log has {len(days)} days)")
        return days[k - 1]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a day number nor an ISO date") from None
