"""``bposim plan``: requirements, a least-cost shift schedule and its simulated attainment."""

from __future__ import annotations

from pathlib import Path

import click

import bposim
from bposim.cli.common import engine_notes, engine_option, user_errors


@click.command("plan")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: plans/<scenario file name>).")
@click.option("-n", "--replications", type=click.IntRange(min=2),
              help="Replications per simulation (default: planning.replications, else the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed (default: the scenario's).")
@click.option("--rounds", type=click.IntRange(min=0),
              help="Closed-loop rounds after the first schedule (default: planning.rounds, 3).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores).")
@click.option("--scheduler", help="Dask scheduler address (tcp://host:port) for the simulations.")
@click.option("--force", is_flag=True, help="Write into an existing folder that is not this plan's.")
@click.option("--allow-large", is_flag=True,
              help="Run even when all the plan's simulations together exceed the work limits.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@engine_option
@user_errors
@engine_notes
def plan_command(scenario, out, replications, seed, rounds, workers, scheduler, force, allow_large,
                 quiet, engine):
    """Plan SCENARIO's staffing from its planning: section: agents needed per interval
    (Erlang A, then simulation), the least-cost shifts (integer program), checked and
    corrected by simulation; beside the Erlang C plan through the same scheduler.

    Writes requirements.csv, schedule.csv, planned.yaml and summary.txt into --out;
    rerunning an interrupted plan with the same --out resumes it."""
    from bposim.engine.select import choose_engine
    from bposim.planning.report import summary_text

    sc = bposim.load_scenario(scenario)
    if sc.planning is None:
        raise bposim.InputError(f"{scenario}: the scenario has no planning section; see docs/planning.md")
    engine = choose_engine(sc, engine)  # its notes print before the progress bar
    out = out or Path("plans") / scenario.stem
    spec = sc.planning
    steps = (spec.iterations + (spec.rounds if rounds is None else rounds) + 2)
    bar = None if quiet else click.progressbar(length=steps, label="planning", show_pos=False,
                                               file=click.get_text_stream("stderr"))

    def progress(message: str) -> None:
        if bar is not None:
            bar.label = message
            bar.update(1)

    if bar is not None:
        bar.__enter__()
    try:
        result = bposim.plan(sc, replications=replications, seed=seed, workers=workers,
                             scheduler=scheduler, rounds=rounds, out=out, progress=progress, force=force,
                             allow_large=allow_large, engine=engine)
    except KeyboardInterrupt:
        click.echo(f"\nInterrupted: finished stages are kept in {out}; run the same command again "
                   "to resume.", err=True)
        raise SystemExit(130) from None
    finally:
        if bar is not None:
            bar.update(steps)
            bar.__exit__(None, None, None)
    click.echo("")
    click.echo(summary_text(result))
    click.echo(f"\nPlan written to {out}/ (planned.yaml runs with: bposim run {out / 'planned.yaml'})")
