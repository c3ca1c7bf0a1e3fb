"""``bposim run``: simulate a scenario, print the summary, write a results directory."""

from __future__ import annotations

from pathlib import Path

import click

import bposim
from bposim.cli.common import ProgressBar, engine_notes, engine_option, fail, user_errors
from bposim.cli.tables import fmt, render, with_ci
from bposim.numfmt import CI_NOTE


def _row(summary, metric, scope):
    s = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
    if s.empty:
        return float("nan"), float("nan"), float("nan")
    r = s.iloc[0]
    return r["mean"], r["ci_low"], r["ci_high"]


def summary_tables(results, baseline) -> str:
    """The run summary as text: queues with the Erlang baseline beside them, then pools
    (tables with nothing to show, such as queues in an outbound-only centre, are left out)."""
    from bposim.cli.columns import fit
    from bposim.metrics import sl_threshold_label, sl_threshold_metrics

    s = results.summary
    scenario = results.scenario
    base = baseline.set_index("queue") if len(baseline) else None
    extra = sl_threshold_metrics(s.loc[s["scope"].astype(str).str.startswith("queue:"), "metric"])
    q_rows = []
    for q in scenario.queues:
        scope = f"queue:{q.id}"
        sl = q.service_level
        b = base.loc[q.id] if base is not None and q.id in base.index else {}
        q_rows.append([
            q.id,
            fmt(_row(s, "offered", scope)[0], "int"),
            f"{sl.definition} {sl.target:.0%}/{sl.answer_within:g}s",
            with_ci(*_row(s, "service_level", scope), kind="pct"),
            fmt(b.get("erlang_service_level", float("nan")), "pct"),
            *(with_ci(*_row(s, m, scope), kind="pct") for m in extra),
            with_ci(*_row(s, "asa", scope)),
            fmt(b.get("erlang_asa", float("nan"))),
            with_ci(*_row(s, "abandon_rate", scope), kind="pct"),
            fmt(_row(s, "wait_p90", scope)[0]),
            fmt(b.get("erlang_required_agents_peak", float("nan")), "int"),
        ])
    queues = "Queues\n" + fit(
        ["queue", "offered", "target", "service level", "Erlang SL",
         *(sl_threshold_label(m) for m in extra), "ASA (s)", "Erlang ASA",
         "abandoned", "p90 wait (s)", "Erlang peak agents"],
        q_rows, hint="widen the terminal or set COLUMNS")
    inbound = any(p.skills for p in scenario.pools)  # else no pool handles contacts
    p_rows = []
    for p in scenario.pools:
        scope = f"pool:{p.id}"
        handled = ([fmt(_row(s, "handled", scope)[0], "int"),
                    fmt(_row(s, "escalations_taken", scope)[0], "int")] if p.skills
                   else ["- (outbound)", "-"])
        p_rows.append([
            p.id, p.tier,
            with_ci(*_row(s, "occupancy", scope), kind="pct"),
            with_ci(*_row(s, "utilisation", scope), kind="pct"),
            *(handled if inbound else []),
            fmt(_row(s, "paid_hours", scope)[0], "int"),
        ])
    pools = render(["pool", "tier", "occupancy", "utilisation",
                    *(["handled", "escalations taken"] if inbound else []), "paid hours"],
                   p_rows, title="Pools")
    lines = ([queues, ""] if q_rows else []) + [pools]
    sme = _row(s, "sme_utilisation", "all")
    if sme[0] == sme[0]:
        lines += ["", f"SME utilisation: {with_ci(*sme, kind='pct')}"]
    cost = _row(s, "cost", "all")
    if cost[0] > 0:
        cur = scenario.currency
        site_rows = [[site.id, site.kind, fmt(_row(s, "paid_hours", f"site:{site.id}")[0], "int"),
                      with_ci(*_row(s, "cost", f"site:{site.id}"), kind="int"),
                      with_ci(*_row(s, "utilisation", f"site:{site.id}"), kind="pct")]
                     for site in scenario.sites]
        if site_rows:
            lines += ["", render(["site", "kind", "paid hours", f"cost ({cur})", "utilisation"],
                                 site_rows, title="Sites")]
        per = _row(s, "cost_per_contact", "all")
        per_text = (f"; per answered contact {with_ci(*per, digits=2)} {cur}" if per[0] == per[0] else "")
        lines += ["", f"Cost: {with_ci(*cost, kind='int')} {cur}{per_text}"]
    if scenario.campaigns:
        lines += ["", _campaign_table(s, scenario)]
    return "\n".join(lines)


def _campaign_table(s, scenario) -> str:
    """Outbound results beside the regulatory abandoned-call cap."""
    from bposim.abandon_caps import CAP_MEASURE, cap_warnings

    rows = []
    for c in scenario.campaigns:
        scope = f"campaign:{c.id}"
        rows.append([
            c.id, c.mode,
            fmt(_row(s, "dials", scope)[0], "int"),
            fmt(_row(s, "connected", scope)[0], "int"),
            fmt(_row(s, "right_party", scope)[0], "int"),
            with_ci(*_row(s, "abandon_rate", scope), kind="pct"),
            with_ci(*_row(s, "max_daily_abandon_rate", scope), kind="pct"),
            f"{c.abandon_target:.0%}",
            with_ci(*_row(s, "right_party_per_agent_hour", scope)),
            with_ci(*_row(s, "talk_minutes_per_agent_hour", scope)),
            fmt(_row(s, "list_penetration", scope)[0], "pct"),
        ])
    table = render(["campaign", "mode", "dials", "connects", "right party", "abandoned/live",
                    "worst day (incl. AMD)", "cap", "RPC/agent h", "talk min/agent h", "list reached"],
                   rows, title="Outbound campaigns")
    lines = [table, f"cap: the campaign's abandon_target, on {CAP_MEASURE}."]
    lines += [f"Warning: {w}." for w in cap_warnings(s, {c.id: c.abandon_target
                                                        for c in scenario.campaigns})]
    return "\n".join(lines)


@click.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-n", "--replications", type=click.IntRange(min=1), help="Replications (default: the scenario's).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed (default: the scenario's).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores).")
@click.option("--executor", type=click.Choice(["processes", "serial", "dask"]), default="processes",
              show_default=True, help="Where replications run.")
@click.option("--scheduler", help="Dask scheduler address (tcp://host:port); implies --executor dask.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Results directory (default: results/<scenario file name>).")
@click.option("--force", is_flag=True,
              help="Write into OUT even if it holds other files or another run's results "
                   "(replacing them).")
@click.option("--keep-contacts", is_flag=True, help="Also keep every contact record (contacts.parquet).")
@click.option("--precision", metavar="METRIC@SCOPE=HALF_WIDTH",
              help="Add replications (4 at a time) until this CI half-width is reached, e.g. "
                   "service_level@queue:support=0.01; -n then sets the maximum (default 200).")
@click.option("--report", "make_report", is_flag=True,
              help="Also write report.html (figures and tables) into the results directory.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--allow-large", is_flag=True,
              help="Run even when the work estimate exceeds the limits (contacts, agents, "
                   "memory, time).")
@engine_option
@user_errors
@engine_notes
def run_command(scenario, replications, seed, workers, executor, scheduler, out, force,
                keep_contacts, precision, make_report, quiet, allow_large, engine):
    """Simulate SCENARIO and print service level, waits, abandonment and utilisation
    with 95 % confidence intervals and the Erlang baseline; write a results directory.

    Rerunning an interrupted run with the same --out resumes it."""
    sc = bposim.load_scenario(scenario)
    if keep_contacts:
        sc = bposim.with_settings(sc, keep_contacts=True)
    if scheduler:
        executor = "dask"
    out = out or Path("results") / scenario.stem
    rule = bposim.Precision.parse(precision) if precision else None
    reps = (replications or 200) if rule else (replications or sc.simulation.replications)
    with ProgressBar("replications", reps, quiet, show_eta=rule is None) as progress:
        if rule:
            outcome = bposim.run_to_precision(sc, out, rule, seed=seed, max_replications=reps,
                                              workers=workers, executor=executor,
                                              scheduler=scheduler, progress=progress, force=force,
                                              allow_large=allow_large, engine=engine)
        else:
            outcome = bposim.run_to_directory(sc, out, replications=replications, seed=seed,
                                              workers=workers, executor=executor,
                                              scheduler=scheduler, progress=progress, force=force,
                                              allow_large=allow_large, engine=engine)
    if outcome.results is None:
        fail(f"interrupted before any replication finished; nothing written to {out}")
    res = outcome.results
    n = len(res.replications)
    click.echo(f"\n{sc.name}: {n} replication(s), seed {res.seed}; {CI_NOTE}.")
    if outcome.resumed:
        click.echo(f"(resumed: {outcome.resumed} replication(s) were already in {out})")
    click.echo(summary_tables(res, bposim.run_baseline(bposim.compile_scenario(sc))))
    if rule:
        row = res.metric(rule.metric, rule.scope)
        half = (row["ci_high"] - row["ci_low"]) / 2
        met = "met" if half <= rule.half_width else f"NOT met within {reps} replications"
        click.echo(f"\nPrecision: {rule.metric} for {rule.scope} ± {half:.4g} after {n} replications "
                   f"(asked ± {rule.half_width:g}): {met}.")
    click.echo(f"\nResults written to {out}/")
    if make_report:
        click.echo(f"Report: {bposim.write_report(out)}")
    if outcome.interrupted:
        click.echo(f"Interrupted: {n} of {reps} replications kept; run the same command again to resume.",
                   err=True)
        raise SystemExit(130)
