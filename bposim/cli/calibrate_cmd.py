"""``bposim calibrate`` and ``bposim backtest``: a scenario from a contact log, and how
well it reproduces the logged days. pandas and scipy are imported inside the commands
so that ``bposim --help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import click

from bposim.cli.common import SHARE, fail, user_errors

_LOG_OPTIONS = [
    click.option("--columns", "columns", type=click.Path(path_type=Path), default=None,
                 help="YAML mapping of log fields to CSV columns (default: columns named "
                      "arrival, queue, answer, end, agent, ...)."),
    click.option("--preset", type=click.Choice(["generic", "anonymous_bank"]), default=None,
                 help="A known log layout instead of --columns."),
    click.option("--session-gap", "session_gap", type=click.FloatRange(min=0, min_open=True),
                 default=15.0, show_default=True,
                 help="Minutes: an agent's services closer than this are one work session."),
    click.option("--min-share", "min_share", type=SHARE, default=0.10, show_default=True,
                 help="A queue is an agent's skill when it is at least this share of the agent's "
                      "services (0.1 or 10%)."),
]


def _log_options(func):
    for option in reversed(_LOG_OPTIONS):
        func = option(func)
    return func


def _check_share(min_share: float) -> None:
    if not 0 < min_share <= 1:
        fail(f"--min-share must be above 0 and at most 1 (100%), got {min_share:g}")


def _table(frame, columns, title: str) -> str:
    from bposim.cli.tables import render

    def cell(v):
        if isinstance(v, float):
            return "-" if v != v else f"{v:.4g}"
        return str(v)

    return render(list(columns), [[cell(v) for v in row] for row in frame[list(columns)].itertuples(index=False)],
                  title)


@click.command("calibrate")
@click.argument("log", type=click.Path(path_type=Path))
@_log_options
@click.option("--train-days", "train_days", default=None,
              help="Days to fit on: day numbers of the log (1 = first) or ISO dates, e.g. 1-10 "
                   "or 2026-01-05..2026-01-09 (default: every day).")
@click.option("--interval-minutes", "interval_minutes", type=click.Choice(["15", "30", "60"]),
              default="30", show_default=True, help="Planning interval of the scenario.")
@click.option("--redial-window", "redial_window", type=click.FloatRange(min=0, min_open=True),
              default=24.0, show_default=True,
              help="Hours: a call from the same customer within this time of abandoning is a redial.")
@click.option("--answer-within", "answer_within", type=click.FloatRange(min=0), default=20.0,
              show_default=True, help="Service-level threshold T (seconds) written into the scenario.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="The scenario YAML to write.")
@click.option("--report", "report", type=click.Path(path_type=Path), default=None,
              help="Directory for the calibration report (default: OUT without .yaml, plus -calibration).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@user_errors
def calibrate_command(log, columns, preset, session_gap, min_share, train_days, interval_minutes,
                      redial_window, answer_within, out, report, force) -> None:
    """Fit a scenario to the contact LOG (CSV, one row per contact) and write it with a report."""
    from bposim.calibration import calibrate

    _check_share(min_share)
    report = report or out.with_name(out.stem + "-calibration")
    cal = calibrate(log, columns=columns, preset=preset, train_days=train_days,
                    interval_minutes=int(interval_minutes), session_gap_minutes=session_gap,
                    min_share=min_share, redial_window_hours=redial_window, answer_within=answer_within,
                    out=out, report=report, force=force)
    for warning in cal.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(_table(cal.parameters(), ["queue", "parameter", "estimate", "ci_low", "ci_high"],
                      f"Calibrated on {len(cal.train_days)} day(s) of {log} (95 % intervals)"))
    for q, f in cal.queues.items():
        click.echo(f"{q}: handle time {f.handle.reason}")
        if f.patience is not None:
            click.echo(f"{q}: patience {f.patience.reason}")
    if cal.redials:
        r = cal.redials
        click.echo(f"Redials (not simulated yet): {r['probability']:.1%} of abandoning customers called again "
                   f"within {r['window_hours']:g} h, median delay {r['delay_median']:.0f} s")
    for r in cal.overtaking.to_dict("records"):
        click.echo(f"{r['queue']}: priority (not simulated yet): {r['share']:.0%} of high-priority contacts "
                   f"overtook earlier regular ones; head start median {r['head_start_median']:.0f} s")
    g = cal.staffing.gap_effect
    click.echo("Session gap (min) -> agent-hours, occupancy: " + "; ".join(
        f"{r.gap_minutes:g} -> {r.agent_hours:.1f} h, {r.occupancy:.1%}" for r in g.itertuples()))
    click.echo(f"Wrote {out} and {report}/ (calibration.html and figures)")


@click.command("backtest")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.argument("log", type=click.Path(path_type=Path))
@click.option("--days", "days", required=True,
              help="Days to replay: day numbers of the log (1 = first) or ISO dates, e.g. 11-15.")
@_log_options
@click.option("-n", "--replications", type=click.IntRange(min=2), default=10, show_default=True,
              help="Replications per day.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None,
              help="Seed (default: the scenario's).")
@click.option("--min-offered", "min_offered", type=click.IntRange(min=1), default=10, show_default=True,
              help="Intervals with fewer observed contacts are left out of the error summary.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes running replications (same results for any number).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Directory for the tables (CSV) and the figure (PNG).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@user_errors
def backtest_command(scenario, log, days, columns, preset, session_gap, min_share, replications, seed,
                     min_offered, workers, out, force) -> None:
    """Replay DAYS of LOG through SCENARIO with their observed volumes and inferred staffing;
    compare simulated and Erlang A service level, abandonment and ASA with what happened."""
    from bposim.calibration import backtest

    _check_share(min_share)
    if out is not None:  # before the work: a file in the way is refused at once
        from bposim.calibration.backtest import check_outputs

        check_outputs(out, force)
    bt = backtest(scenario, log, days, columns=columns, preset=preset, replications=replications,
                  seed=seed, session_gap_minutes=session_gap, min_share=min_share,
                  min_offered=min_offered, workers=workers)
    click.echo(_table(bt.days, ["day", "offered", "obs_sl", "sim_sl", "erlang_sl", "obs_abandon",
                                "sim_abandon", "erlang_abandon", "obs_asa", "sim_asa", "erlang_asa"],
                      "Per day: observed (obs), simulated mean (sim), Erlang A"))
    click.echo(_table(bt.summary, ["level", "metric", "model", "n", "mae", "correlation", "noise_mae"],
                      f"Errors (intervals with >= {min_offered} contacts); noise_mae: the error sampling "
                      "noise alone gives"))
    if out is not None:
        bt.write(out, force=force)
        click.echo(f"Wrote {out}/ (backtest_*.csv, backtest.png)")
