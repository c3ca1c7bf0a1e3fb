"""``bposim validate``: check scenario files and list every problem, file:line: path: message."""

from __future__ import annotations

from pathlib import Path

import click

import bposim
from bposim.cli.common import fail, user_errors


def _over(scenario: bposim.Scenario) -> bool:
    from bposim.workload import WorkloadError, check_workload

    try:
        check_workload(scenario)
    except WorkloadError:
        return True
    return False


def summary(scenario: bposim.Scenario) -> str:
    """One line describing a scenario's size: queues, pools, horizon, replications."""
    h = scenario.horizon
    days = f"{h.days} day{'s' if h.days != 1 else ''}"
    return (
        f"{len(scenario.queues)} queue{'s' if len(scenario.queues) != 1 else ''}, "
        f"{len(scenario.pools)} pool{'s' if len(scenario.pools) != 1 else ''}, "
        f"{days} of {h.interval_minutes}-min intervals from {h.start:%a %Y-%m-%d} ({h.timezone}), "
        f"{scenario.simulation.replications} replications"
    )


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@user_errors
def validate_command(files: tuple[Path, ...]) -> None:
    """Check scenario FILES; print OK or every problem found (exit status 2 if any)."""
    from bposim.scenario.variants import load_variants  # no simulation, pandas or scipy needed
    from bposim.workload import estimate_workload, is_large

    invalid = 0
    for file in files:
        try:
            scenarios = load_variants(file)  # the base, then each variant, all checked
            scenario = next(iter(scenarios.values()))
        except bposim.ScenarioError as exc:
            invalid += 1
            for problem in exc.problems:
                click.echo(str(problem))
            continue
        extra = f"; variants: {', '.join(list(scenarios)[1:])}" if len(scenarios) > 1 else ""
        click.echo(f"OK  {file} ({summary(scenario)}{extra})")
        work = [estimate_workload(sc) for sc in scenarios.values()]
        largest = max(work, key=lambda w: (w.total_seconds, w.memory_bytes))
        if is_large(largest):
            limits = "beyond the limits: run needs --allow-large" if any(
                _over(sc) for sc in scenarios.values()) else "within the limits"
            click.echo(f"    note: a large run ({limits}): {largest.summary()}")
    if invalid:
        fail(f"{invalid} of {len(files)} scenario file{'s' if len(files) != 1 else ''} "
             f"{'has' if invalid == 1 else 'have'} problems")
