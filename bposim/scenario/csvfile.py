"""Read the CSV files a scenario names (forecasts, contact lists), row by row.

Shared by the forecast and contact-list readers: opening the file relative to the
scenario, checking the header names the required columns, skipping blank rows,
and reporting every problem with the CSV file and its row (the header is row 1),
at most ``max_problems`` of them followed by one line saying how many more.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

from bposim.scenario.fields import Context

RowHandler = Callable[[int, dict, Callable[[int, str], None]], None]


def read_rows(ctx: Context, name: str, path: str, base_dir: Path | None, what: str,
              columns: tuple[str, ...], handle: RowHandler, max_problems: int | None = None,
              optional: tuple[str, ...] = ()) -> bool:
    """Call ``handle(line, {column: text}, add)`` for each data row of the CSV ``name``.

    ``path`` is the scenario field naming the file; ``what`` names the file in messages
    ("forecast CSV"). Columns in ``optional`` are passed too when the header names them.
    Returns True when the file was read and every row was clean.
    """
    file = Path(name).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = Path(base_dir) / file
    shown = str(file)
    count, hidden = [0], []

    def add(line: int, message: str) -> None:
        count[0] += 1
        if max_problems is None or count[0] <= max_problems:
            ctx.add(path, message, file=shown, line=line)
        else:
            hidden.append(line)

    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                _rows(reader, columns, handle, add, optional)
            except csv.Error as exc:
                add(reader.line_num, f"is not valid CSV: {exc}")
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
        ctx.add(path, f"{len(hidden)} more rows with problems, from this row on, not shown",
                file=shown, line=hidden[0])
    return count[0] == 0


def _rows(reader, columns: tuple[str, ...], handle: RowHandler, add,
          optional: tuple[str, ...] = ()) -> None:
    header = next(reader, None)
    if header is None:
        add(1, f"is empty; expected a header row: {','.join(columns)}")
        return
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        add(1, f"header must name the columns {' and '.join(columns)}; missing {', '.join(missing)}")
        return
    index = {c: names.index(c) for c in (*columns, *optional) if c in names}
    last = max(index.values())
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= last:
            add(line, f"has {len(row)} columns; the header has {len(names)}")
            continue
        handle(line, {c: row[i].strip() for c, i in index.items()}, add)


def data_rows_problem(ctx: Context, path: str, name: str, base_dir: Path | None) -> None:
    """Report a file that had a header but no data rows."""
    file = Path(name).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = Path(base_dir) / file
    ctx.add(path, "has no data rows", file=str(file), line=1)
