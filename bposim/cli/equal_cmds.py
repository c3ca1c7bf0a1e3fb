"""``bposim compare --at-service-level``: the equal-service comparison on the command line."""

from __future__ import annotations

from pathlib import Path

import click

from bposim.cli.tables import render, with_ci
from bposim.numfmt import CI_NOTE


def equal_service_text(outcome) -> str:
    """One row per variant: how it was staffed, the factor, cost and each level's service."""
    summary = outcome.summary()
    headers = ["variant", "staffed by", "factor", "simulations", "paid hours", "cost"]
    headers += [f"{q} SL (target {100 * level:g}%)" for q, level in outcome.levels.items()]
    rows = []
    for r in summary.to_dict("records"):
        row = [r["variant"], r["method"], "-" if r["scale"] is None else f"× {r['scale']:.3f}",
               "-" if r["trials"] is None or r["trials"] != r["trials"] else str(int(r["trials"])),
               f"{r['paid_hours']:,.1f}",
               with_ci(r["cost"], r["cost_ci_low"], r["cost_ci_high"], kind="int")
               if "cost" in r else "-"]
        for q in outcome.levels:
            row.append(with_ci(r[f"{q}_service_level"], r[f"{q}_ci_low"], r[f"{q}_ci_high"],
                               kind="pct") + ("" if r[f"{q}_met"] else " (not met)"))
        rows.append(row)
    return render(headers, rows)


def run_equal_service(named: dict, levels_text: tuple[str, ...], stem: str, reps: int, seed,
                      workers, executor, out: Path | None, force: bool, quiet: bool,
                      allow_large: bool = False) -> None:
    """Staff each variant to the least that meets the levels, compare, print and write."""
    from bposim.cli.compare_cmds import comparison_text
    from bposim.equal_service import compare_at_service, parse_levels

    levels = parse_levels(levels_text)
    out = out or Path("results") / f"compare-{stem}-equal-service"
    say = (lambda _m: None) if quiet else (lambda m: click.echo(m, err=True))
    try:
        outcome = compare_at_service(named, levels, reps, seed, workers=workers, executor=executor,
                                     out_dir=out, force=force, progress=say,
                                     allow_large=allow_large)
    except KeyboardInterrupt:
        click.echo("\nInterrupted: nothing written.", err=True)
        raise SystemExit(130) from None
    comparison = outcome.comparison
    shown = ", ".join(f"{q} {100 * v:g}%" for q, v in levels.items())
    click.echo(f"\nAt equal service ({shown}): each variant staffed to the least that meets the "
               f"level (mean of {comparison.replications} replications, common seed "
               f"{comparison.seed}).\n")
    click.echo(equal_service_text(outcome))
    click.echo(f"\n{CI_NOTE}; Δ is the variant minus the base, with the CI of the "
               "paired differences (pp: percentage points).\n")
    click.echo(comparison_text(comparison))
    click.echo(f"\nWritten to {out / 'comparison.csv'} and {out / 'equal_service.csv'}")
