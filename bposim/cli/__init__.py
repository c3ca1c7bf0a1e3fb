"""The ``bposim`` command line: a thin layer over the Python API."""

from __future__ import annotations

import click

from bposim import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bposim")
def main() -> None:
    """Contact-centre simulation and Erlang staffing."""


def _register() -> None:
    from bposim.cli.analytic import erlang_command, staff_command
    from bposim.cli.compare_cmds import compare_command, sweep_command
    from bposim.cli.new_cmd import new_command
    from bposim.cli.report_cmd import report_command
    from bposim.cli.scenario_cmds import validate_command
    from bposim.cli.serve_cmd import serve_command
    from bposim.cli.simulate import run_command

    for command in (new_command, validate_command, run_command, compare_command, sweep_command,
                    report_command, erlang_command, staff_command, serve_command):
        main.add_command(command)
    from bposim.cli.plan_cmd import plan_command
    main.add_command(plan_command)

    from bposim.cli.calibrate_cmd import backtest_command, calibrate_command
    main.add_command(calibrate_command), main.add_command(backtest_command)


_register()
