"""Which metrics compare and sweep print, and tables that fit the terminal.

``--metric NAME@SCOPE`` (repeatable) picks the columns, e.g. ``service_level@queue:sme``
or ``utilisation@pool:experts``; a bare ``NAME`` means scope ``all``. Without it, every
queue's service level and every pool's utilisation (SME pools included) are shown,
then the overall service level and the cost when the scenario has costs. Tables wider
than the terminal are wrapped into blocks of columns, each repeating the first column.
"""

from __future__ import annotations

import os
import shutil
import textwrap

from bposim.cli.tables import render
from bposim.errors import InputError
from bposim.numfmt import metric_kind, with_ci

#: used when the output is not a terminal (a pipe or file) and COLUMNS is unset
DEFAULT_WIDTH = 120


def parse_metric(text: str) -> tuple[str, str]:
    """``"service_level@queue:sme"`` → ``("service_level", "queue:sme")``; no ``@``: ``all``."""
    name, _, scope = str(text).partition("@")
    name, scope = name.strip(), scope.strip() or "all"
    if not name or (scope != "all" and ":" not in scope):
        raise InputError(f"--metric {text!r}: give NAME@SCOPE, e.g. service_level@queue:calls, "
                         "utilisation@pool:agents or sl_offered@all")
    return name, scope


def check_metrics(pairs: list[tuple[str, str]], summary) -> None:
    """Raise an InputError naming the valid metric names (or scopes) for any pair the
    summary does not have."""
    present = set(zip(summary["metric"].astype(str), summary["scope"].astype(str)))
    names = sorted(set(summary["metric"].astype(str)))
    for metric, scope in pairs:
        if (metric, scope) in present:
            continue
        if metric not in names:
            raise InputError(f"--metric {metric}@{scope}: no metric {metric!r}; valid names: "
                             f"{', '.join(names)}")
        scopes = sorted(s for m, s in present if m == metric)
        raise InputError(f"--metric {metric}@{scope}: {metric} has no scope {scope!r}; "
                         f"its scopes: {', '.join(scopes)}")


def default_metrics(summary) -> list[tuple[str, str]]:
    """Every queue's service level, every pool's utilisation, overall SL and cost."""
    from bposim.notebook import key_metrics

    return key_metrics(summary)


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` if set), else :data:`DEFAULT_WIDTH`."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def fit(headers: list[str], rows: list[list[str]], width: int | None = None, keep: int = 1,
        hint: str = "choose columns with --metric") -> str:
    """``render`` the table, wrapped into blocks of columns that fit ``width`` (each block
    repeats the first ``keep`` columns), with a note (ending in ``hint``) when it had to wrap."""
    width = width or terminal_width()
    text = render(headers, rows)
    if max(len(line) for line in text.splitlines()) <= width or len(headers) <= keep + 1:
        return text
    col_width = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    fixed = sum(col_width[:keep]) + 2 * keep
    blocks, current, used = [], [], fixed
    for j in range(keep, len(headers)):
        if current and used + col_width[j] + 2 > width:
            blocks.append(current)
            current, used = [], fixed
        current.append(j)
        used += col_width[j] + 2
    blocks.append(current)
    parts = []
    for cols in blocks:
        idx = list(range(keep)) + cols
        parts.append(render([headers[j] for j in idx], [[r[j] for j in idx] for r in rows]))
    note = (f"(the table is wider than {width} columns: shown in {len(blocks)} parts; "
            f"{hint})")
    return "\n\n".join(parts) + "\n" + textwrap.fill(note, max(width, 20))


def sweep_text(table, paths: list[str], pairs: list[tuple[str, str]] | None = None,
               width: int | None = None) -> str:
    """One row per sweep point: the settings that vary, then each metric ± its CI.
    Settings with one value at every point are stated once above the table."""
    points = table.drop_duplicates("point").set_index("point")
    varying = [p for p in paths if points[p].astype(str).nunique() > 1]
    constant = [p for p in paths if p not in varying]
    pairs = pairs or default_metrics(table[table["point"] == table["point"].iloc[0]])
    check_metrics(pairs, table)
    idx = table.set_index(["point", "metric", "scope"])
    rows = []
    for k, point in points.iterrows():
        row = [str(k)] + [str(point[p]) for p in varying]
        for metric, scope in pairs:
            if (k, metric, scope) in idx.index:
                r = idx.loc[(k, metric, scope)]
                row.append(with_ci(r["mean"], r["ci_low"], r["ci_high"], metric_kind(metric),
                                   missing="-"))
            else:
                row.append("-")
        rows.append(row)
    head = "".join(f"{p} = {points[p].iloc[0]} at every point\n" for p in constant)
    return head + fit(["point", *varying, *(f"{m}@{s}" for m, s in pairs)], rows, width,
                      keep=1 + len(varying))
