"""``bposim report``: one self-contained HTML page (and PNG figures) from a results directory."""

from __future__ import annotations

from pathlib import Path

import click

from bposim.cli.common import user_errors


@click.command("report")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (default: RESULTS_DIR/report.html); "
                   "the figures go to figures/*.png beside it.")
@click.option("--force", is_flag=True,
              help="Overwrite --out and its figures if they exist outside a results directory.")
@user_errors
def report_command(results_dir, out, force):
    """Write an HTML report of RESULTS_DIR (a directory written by `bposim run`; for
    `bposim compare` and `sweep` directories, every variant's service with CIs, the
    differences from the base and cost against service; for a `bposim plan` folder,
    planned staffing against the requirements and each target's attainment): the
    scenario, headline metrics with 95 % CIs, per-queue and per-pool tables beside the
    Erlang baseline, and figures. An interrupted run is reported as PARTIAL. An
    existing --out file (or figure) is never replaced without --force, except a
    report.html inside a results directory."""
    from bposim.report.experiment import experiment_kind, write_experiment_report
    from bposim.report.plan_page import is_plan_dir, write_plan_report

    if experiment_kind(results_dir) or is_plan_dir(results_dir):  # compare, sweep or plan
        write = write_plan_report if is_plan_dir(results_dir) else write_experiment_report
        path = write(results_dir, out, force=force)
        click.echo(f"Report written to {path} (figures in {path.parent / 'figures'}/)")
        return
    from bposim.report import load_results, reading, report_results

    with reading(results_dir):
        data = load_results(results_dir)
        path = report_results(data, out, force=force)
    if data.partial:
        click.echo(f"PARTIAL: {data.partial_reason}", err=True)
    click.echo(f"Report written to {path} (figures in {path.parent / 'figures'}/)")
