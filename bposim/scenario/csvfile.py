"""Read the CSV files a scenario names (forecasts, contact lists), row by row.

Shared by the forecast and contact-list readers: opening the file relative to the
scenario, checking the header names the required columns, skipping blank rows,
and reporting every problem with the CSV file and its row (the header is row 1),
at most ``max_problems`` of them followed by one line saying how many more.
Files are refused unless regular, and capped in size, line length and rows.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from bposim.errors import InputError
from bposim.scenario.fields import Context

RowHandler = Callable[[int, dict, Callable[[int, str], None]], None]

# Limits that keep a hostile or mistaken file (/dev/zero, a 10-million-row export) from
# taking unbounded memory or time; read at call time, so tests can lower them.
MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000  # data rows; a ten-year horizon of 15-minute intervals has 350 400
MAX_LINE_CHARS = 64 * 1024
MAX_PROBLEMS = 20  # per file; the rest are counted in one last problem


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def check_regular_file(path: str | os.PathLike, limit: int, what: str) -> None:
    """Refuse what is not a regular file (a device such as /dev/zero, a FIFO, a socket)
    or is larger than ``limit`` bytes, with :class:`InputError`; a directory raises
    :class:`IsADirectoryError` and a missing file :class:`FileNotFoundError`."""
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path} is not a regular file (a device, pipe or socket); "
                         "give a file")
    if info.st_size > limit:
        raise InputError(f"{what} {path} is {_size_text(info.st_size)}, more than the limit of "
                         f"{_size_text(limit)}")


def read_regular_file(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, refused beyond ``limit`` bytes
    (see :func:`check_regular_file`)."""
    check_regular_file(path, limit, what)
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew since it was checked
        raise InputError(f"{what} {path} is more than the limit of {_size_text(limit)}")
    return data


@contextmanager
def csv_lines(path: str | os.PathLike, what: str,
              max_bytes: int | None = None) -> Iterator[Iterator[str]]:
    """Open the CSV file ``path`` for :func:`csv.reader`: a regular file of at most
    ``max_bytes`` (default :data:`MAX_CSV_BYTES`), lines of at most :data:`MAX_LINE_CHARS`
    characters (a longer line raises :class:`InputError` naming its line)."""
    check_regular_file(path, MAX_CSV_BYTES if max_bytes is None else max_bytes, what)
    limit = MAX_LINE_CHARS
    with open(path, newline="", encoding="utf-8-sig") as fh:
        def lines() -> Iterator[str]:
            number = 0
            while line := fh.readline(limit + 1):
                number += 1
                if len(line) > limit:
                    raise InputError(f"{what} {path}: line {number} is longer than {limit} "
                                     "characters")
                yield line
        yield lines()


def read_rows(ctx: Context, name: str, path: str, base_dir: Path | None, what: str,
              columns: tuple[str, ...], handle: RowHandler, max_problems: int | None = None,
              optional: tuple[str, ...] = (), strict: bool = False,
              positions: dict[str, int] | None = None) -> bool:
    """Call ``handle(line, {column: text}, add)`` for each data row of the CSV ``name``.

    ``path`` is the scenario field naming the file; ``what`` names the file in messages
    ("forecast CSV"). Columns in ``optional`` are passed too when the header names them.
    ``strict`` also skips ``#`` comment lines and refuses other or repeated columns and rows
    longer than the header. ``positions`` (if given) receives each column's position (from 1).
    Returns True when the file was read and every row was clean.
    """
    file = Path(name).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = Path(base_dir) / file
    shown = str(file)
    max_problems = MAX_PROBLEMS if max_problems is None else max_problems
    count, hidden = [0], []  # problems found; line of the first one not shown
    stopped = None  # the line where reading stopped at MAX_ROWS, if it did

    def add(line: int, message: str) -> None:
        count[0] += 1
        if count[0] <= max_problems:
            ctx.add(path, message, file=shown, line=line)
        elif not hidden:
            hidden.append(line)

    try:
        with csv_lines(file, what) as lines:
            reader = csv.reader(lines)
            try:
                stopped = _rows(reader, columns, handle, add, optional, strict, positions)
            except csv.Error as exc:
                add(reader.line_num, f"is not valid CSV: {exc}")
    except InputError as exc:
        ctx.add(path, str(exc))
        return False
    except FileNotFoundError:
        ctx.add(path, f"{what} {shown} not found")
        return False
    except IsADirectoryError:
        ctx.add(path, f"{what} {shown} is a directory")
        return False
    except UnicodeDecodeError:
        ctx.add(path, f"{what} {shown} is not UTF-8 text")
        return False
    except OSError as exc:
        ctx.add(path, f"cannot read {what} {shown}: {exc.strerror or exc}")
        return False
    if hidden:
        more = "" if stopped is None else " and maybe more after it"
        ctx.add(path, f"{count[0] - max_problems} more rows with problems, from this row on, "
                f"not shown{more}", file=shown, line=hidden[0])
    if stopped is not None:  # always said, even past max_problems: the count above is partial
        ctx.add(path, f"has more than {MAX_ROWS} data rows, the most bposim reads; reading "
                "stopped at this row (the limit); split the file or aggregate it to fewer rows",
                file=shown, line=stopped)
    return count[0] == 0 and stopped is None


def _rows(reader, columns: tuple[str, ...], handle: RowHandler, add,
          optional: tuple[str, ...] = (), strict: bool = False,
          positions: dict[str, int] | None = None) -> int | None:
    """Hand each data row to ``handle``; the line where reading stopped at
    :data:`MAX_ROWS` data rows, or None when the whole file was read."""
    def skip(row: list[str]) -> bool:
        return not any(c.strip() for c in row) or (strict and row[0].lstrip().startswith("#"))

    header = next((row for row in reader if not skip(row)), None) if strict else next(reader, None)
    if header is None:
        add(1, f"is empty; expected a header row: {','.join(columns)}")
        return
    head = reader.line_num
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    others = [h for h in names if h not in (*columns, *optional)] if strict else []
    if missing or others or (strict and len(set(names)) < len(names)):
        parts = [f"missing {', '.join(missing)}"] if missing else []
        if others:
            parts.append("unknown column(s) " + ", ".join(map(repr, others)))
        if strict and len(set(names)) < len(names):
            parts.append("repeated column names")
        add(head, f"header must name the columns {' and '.join(columns)}; " + "; ".join(parts)
            + (f" (allowed: {', '.join((*columns, *optional))})" if strict else ""))
        return
    index = {c: names.index(c) for c in (*columns, *optional) if c in names}
    if positions is not None:
        positions.update({c: i + 1 for c, i in index.items()})
    last = len(names) - 1 if strict else max(index.values())
    rows = 0
    for row in reader:
        line = reader.line_num
        if skip(row):
            continue
        rows += 1
        if rows > MAX_ROWS:
            return line
        if len(row) <= last or (strict and len(row) > len(names)):
            add(line, f"has {len(row)} columns; the header has {len(names)}")
            continue
        handle(line, {c: row[i].strip() for c, i in index.items()}, add)


def data_rows_problem(ctx: Context, path: str, name: str, base_dir: Path | None) -> None:
    """Report a file that had a header but no data rows."""
    file = Path(name).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = Path(base_dir) / file
    ctx.add(path, "has no data rows", file=str(file), line=1)
