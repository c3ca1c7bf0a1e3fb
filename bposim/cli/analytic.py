"""``bposim erlang`` and ``bposim staff``: Erlang staffing from the command line."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import click

from bposim.cli.common import SHARE, fail, user_errors

MAX_ROWS = 1000
_TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


# ------------------------------------------------------------------ parsing
def parse_target(text: str) -> tuple[float, float]:
    """'80/20' -> (0.80, 20.0): percent answered within seconds."""
    m = _TARGET.match(text or "")
    if not m:
        fail(f"--target must look like 80/20 (percent answered / seconds), got {text!r}")
    percent, seconds = float(m.group(1)), float(m.group(2))
    if not 0 < percent < 100:
        fail(f"--target percent must be above 0 and below 100, got {m.group(1)}")
    return percent / 100.0, seconds


def _number(option: str, text: str | None, *, low: float = 0.0, strict: bool = True,
            high: float | None = None, allow_inf: bool = False) -> float | None:
    """Parse a numeric option with a one-line error (click's own errors print usage)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        fail(f"{option} must be a number, got {text!r}")
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        fail(f"{option} must be a finite number, got {text!r}")
    too_low = value <= low if strict else value < low
    if too_low or (high is not None and value > high):
        rng = f"{'above' if strict else 'at least'} {low:g}"
        rng += "" if high is None else f" and at most {high:g}"
        fail(f"{option} must be {rng}, got {text}")
    return value


def _agent_range(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not m:
        fail(f"--agents must be a count or a range like 10-18, got {text!r}")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if hi < lo:
        fail(f"--agents range {text!r} runs backwards")
    if hi - lo + 1 > MAX_ROWS:
        fail(f"--agents range {text!r} has more than {MAX_ROWS} counts")
    return lo, hi


# ----------------------------------------------------------------- printing
def _pct(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _secs(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.1f}"


def _table(header: list[str], rows: list[list[str]], notes: list[str] | None = None) -> str:
    """Right-aligned text table; ``notes`` (one per row, may be '') go after the last column."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    for k, row in enumerate(rows):
        line = "  ".join(c.rjust(w) for c, w in zip(row, widths))
        if notes and notes[k]:
            line += "  " + notes[k]
        lines.append(line)
    return "\n".join(lines)


def _write_csv_atomic(frame, path: str, force: bool = False) -> None:
    """Write a CSV through a temporary file in the same folder, then rename it; an
    existing file is replaced only with ``force``."""
    from bposim.outputs import atomic_write_frame

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        fail(f"{path}: folder {folder} does not exist")
    try:
        atomic_write_frame(frame, Path(path), overwrite=force)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")


# ------------------------------------------------------------------ erlang
@click.command("erlang")
@click.option("--calls", required=True, metavar="N", help="Contacts offered in the period.")
@click.option("--period", default="3600", show_default=True, metavar="SECONDS",
              help="Length of the period.")
@click.option("--aht", required=True, metavar="SECONDS", help="Average handle time.")
@click.option("--target", default="80/20", show_default=True, metavar="PCT/SECONDS",
              help="Service-level target: PCT percent answered within SECONDS.")
@click.option("--patience", default=None, metavar="SECONDS",
              help="Mean caller patience: use Erlang A (with abandonment) instead of Erlang C.")
@click.option("--agents", "agents_text", default=None, metavar="LO-HI",
              help="Agent counts to show (default: around the requirement).")
@click.option("--max-occupancy", default=None, type=SHARE, metavar="SHARE",
              help="Also keep occupancy at or below this, e.g. 0.85 or 85%.")
@click.option("--max-abandon", default=None, type=SHARE, metavar="SHARE",
              help="Also keep abandonment at or below this (needs --patience), e.g. 0.05 or 5%.")
@user_errors
def erlang_command(calls, period, aht, target, patience, agents_text, max_occupancy,
                   max_abandon):
    """Service level, ASA, occupancy and abandonment for a range of agent counts."""
    import numpy as np  # imported here, not at start-up: `bposim --help` stays fast

    from bposim import erlang

    calls = _number("--calls", calls, strict=False)
    period = _number("--period", period)
    aht = _number("--aht", aht)
    patience = _number("--patience", patience, allow_inf=True)
    max_occupancy = _number("--max-occupancy", max_occupancy, high=1.0)
    max_abandon = _number("--max-abandon", max_abandon, high=1.0)
    sl_target, seconds = parse_target(target)
    if max_abandon is not None and patience is None:
        fail("--max-abandon needs --patience (Erlang C has no abandonment)")
    load = erlang.offered_load(calls, period, aht)
    if load > erlang.MAX_LOAD:
        fail(f"--calls {calls:g} with --aht {aht:g} over --period {period:g} s is an offered "
             f"load of {load:g} Erlangs, more than the {erlang.MAX_LOAD:g} Erlangs bposim's "
             "Erlang formulas handle")
    if patience is None:
        need = erlang.required_agents(load, aht, seconds, sl_target, max_occupancy=max_occupancy)
    else:
        need = erlang.required_agents_erlang_a(load, aht, patience, seconds, sl_target,
                                               max_abandon=max_abandon,
                                               max_occupancy=max_occupancy)
    lo, hi = _agent_range(agents_text) if agents_text else (
        (max(1, need - 4), need + 3) if need else (0, 3))
    n = np.arange(lo, hi + 1)
    if patience is None:
        res = erlang.erlang_a(load, n, aht, np.inf, seconds)
        model = "Erlang C (no abandonment)"
    else:
        res = erlang.erlang_a(load, n, aht, patience, seconds)
        model = (f"Erlang A, mean patience {patience:g} s; service level counts abandons "
                 "against it; ASA is the mean wait of answered contacts")
    extra = "".join([f", occupancy <= {_pct(max_occupancy)}" if max_occupancy else "",
                     f", abandonment <= {_pct(max_abandon)}" if max_abandon else ""])
    label = f"{100 * sl_target:g}/{seconds:g}{extra}"
    click.echo(f"Offered load: {load:.2f} Erlangs ({calls:g} contacts in {period:g} s, "
               f"AHT {aht:g} s)")
    click.echo(f"Model: {model}")
    click.echo(f"Target: {100 * sl_target:g}% answered within {seconds:g} s{extra}")
    click.echo("")
    rows = [[str(k), _pct(res.p_wait[i]), _pct(res.service_level[i]), _secs(res.asa[i]),
             _pct(res.occupancy[i]), _pct(res.p_abandon[i]) if patience is not None else "-"]
            for i, k in enumerate(n)]
    notes = [f"<- meets {label}" if k == need else "" for k in n]
    click.echo(_table(["agents", "P(wait)", "service level", "ASA s", "occupancy", "abandoned"],
                      rows, notes))
    click.echo("")
    if lo <= need <= hi:
        click.echo(f"{need} agents is the smallest count that meets the target.")
    else:
        click.echo(f"No count shown meets the target; {need} agents is the smallest that does.")


# ------------------------------------------------------------------- staff
@click.command("staff")
@click.argument("forecast_path", metavar="FORECAST.csv")
@click.option("--aht", default=None, metavar="SECONDS",
              help="Average handle time for rows without an aht column value.")
@click.option("--target", default="80/20", show_default=True, metavar="PCT/SECONDS",
              help="Service-level target: PCT percent answered within SECONDS.")
@click.option("--shrinkage", default="0", show_default=True, type=SHARE, metavar="SHARE",
              help="Share of paid time not available for contacts, e.g. 0.33 or 33%.")
@click.option("--patience", default=None, metavar="SECONDS",
              help="Mean caller patience: use Erlang A (with abandonment).")
@click.option("--max-abandon", default=None, type=SHARE, metavar="SHARE",
              help="Also keep abandonment at or below this (needs a patience), e.g. 0.05 or 5%.")
@click.option("--max-occupancy", default=None, type=SHARE, metavar="SHARE",
              help="Also keep occupancy at or below this, e.g. 0.85 or 85%.")
@click.option("--interval-minutes", default=None, metavar="MINUTES",
              help="Interval length (default: inferred from the interval starts).")
@click.option("--out", "out_path", default=None, metavar="FILE.csv",
              help="Also write the table to this CSV file; a scenario pool reads it with "
                   "staffing: {per_interval_csv: FILE.csv}.")
@click.option("--force", is_flag=True, help="Overwrite the --out file if it already exists.")
@user_errors
def staff_command(forecast_path, aht, target, shrinkage, patience, max_abandon, max_occupancy,
                  interval_minutes, out_path, force):
    """Agents needed per interval of a forecast (Erlang C, or Erlang A with --patience)."""
    from bposim import staffing
    from bposim.outputs import refuse_existing

    sl_target, seconds = parse_target(target)
    if out_path and not os.path.isdir(os.path.dirname(os.path.abspath(out_path))):
        fail(f"{out_path}: folder {os.path.dirname(os.path.abspath(out_path))} does not exist")
    if out_path:
        refuse_existing([Path(out_path)], force)  # before any work, and again when writing
    table = staffing.requirements(
        staffing.read_forecast(forecast_path),
        aht=_number("--aht", aht),
        answer_within=seconds,
        target=sl_target,
        shrinkage=_number("--shrinkage", shrinkage, strict=False),
        max_occupancy=_number("--max-occupancy", max_occupancy, high=1.0),
        patience=_number("--patience", patience, allow_inf=True),
        max_abandon=_number("--max-abandon", max_abandon, high=1.0),
        interval_minutes=_number("--interval-minutes", interval_minutes),
    )
    with_queue = "queue" in table.columns
    erlang_a = table.attrs["model"] == "Erlang A"
    header = (["queue"] if with_queue else []) + [
        "interval", "volume", "AHT s", "load", "agents", "scheduled", "SL", "ASA s", "occupancy"]
    header += ["abandoned"] if erlang_a else []
    rows = []
    for rec in table.itertuples(index=False):
        row = ([str(rec.queue)] if with_queue else []) + [
            str(rec.interval_start), f"{rec.volume:g}", f"{rec.aht:g}", f"{rec.load_erlangs:.2f}",
            str(rec.agents), str(rec.scheduled), _pct(rec.service_level), _secs(rec.asa),
            _pct(rec.occupancy)]
        rows.append(row + ([_pct(rec.p_abandon)] if erlang_a else []))
    hours = table.attrs["interval_minutes"] / 60.0
    click.echo(f"{table.attrs['model']}; target {100 * sl_target:g}% answered within {seconds:g} s;"
               f" {table.attrs['interval_minutes']:g}-minute intervals")
    click.echo("")
    click.echo(_table(header, rows))
    click.echo("")
    peak = int(table["agents"].idxmax())
    volume = table["volume"].sum()
    answered_sl = (table["service_level"] * table["volume"]).sum() / volume if volume else 1.0
    click.echo(f"Total {volume:g} contacts; {table['agents'].sum() * hours:g} agent-hours on the "
               f"phones, {table['scheduled'].sum() * hours:g} scheduled; peak "
               f"{table['agents'].iloc[peak]} agents ({table['scheduled'].iloc[peak]} scheduled) "
               f"at {table['interval_start'].iloc[peak]}; volume-weighted SL {_pct(answered_sl)}")
    if out_path:
        _write_csv_atomic(staffing_file(table), out_path, force)
        click.echo(f"Wrote {out_path}")


def staffing_file(table):
    """The ``--out`` table in the form a scenario reads (``staffing: {per_interval_csv}``).

    ``agents`` is the headcount to schedule (the table's ``scheduled``: shrinkage
    included) and ``erlang_agents`` the agents Erlang needs on the phones; with a
    ``queue`` column, ``pool`` repeats it (one dedicated pool per queue, named after it).
    """
    out = table.rename(columns={"agents": "erlang_agents", "scheduled": "agents"})
    first = ["interval_start", "agents"]
    if "queue" in out.columns:
        out["pool"] = out["queue"]
        first.insert(1, "pool")
    return out[first + [c for c in out.columns if c not in first]]
