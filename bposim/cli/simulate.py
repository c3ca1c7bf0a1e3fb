"""``bposim run``: simulate a scenario, print the summary, write a results directory."""

from __future__ import annotations

from pathlib import Path

import click

import bposim
from bposim.cli.common import ProgressBar, engine_notes, engine_option, fail, user_errors
from bposim.cli.tables import cell, fmt, heading, render, summary_row
from bposim.numfmt import CI_NOTE


def summary_tables(results, baseline) -> str:
    """The run summary as text: queues with the Erlang baseline beside them, then pools
    (tables with nothing to show, such as queues in an outbound-only centre, are left out).
    Headings and formats come from the metric registry (:mod:`bposim.metric_registry`)."""
    from bposim.cli.columns import fit
    from bposim.metric_registry import in_scope, scope_key, shown
    from bposim.metrics import sl_threshold_metrics

    s = results.summary
    scenario = results.scenario
    base = baseline.set_index("queue") if len(baseline) else None
    extra = sl_threshold_metrics(s.loc[in_scope(s["scope"], "queue"), "metric"])
    q_more, p_more = shown(s, "queue"), shown(s, "pool")  # the registry's show=True figures
    q_rows = []
    for q in scenario.queues:
        scope = scope_key("queue", q.id)
        sl = q.service_level
        b = base.loc[q.id] if base is not None and q.id in base.index else {}
        q_rows.append([
            q.id,
            cell(s, "offered", scope, ci=False),
            # a deferrable queue's target: the share closed within its due time
            f"{sl.definition} {sl.target:.0%}/{q.due_within_hours:g}h due" if q.deferrable
            else f"{sl.definition} {sl.target:.0%}/{sl.answer_within:g}s",
            cell(s, "service_level", scope),
            fmt(b.get("erlang_service_level", float("nan")), "pct"),
            *(cell(s, m, scope) for m in extra),
            cell(s, "asa", scope),
            fmt(b.get("erlang_asa", float("nan"))),
            cell(s, "abandon_rate", scope),
            cell(s, "wait_p90", scope, ci=False),
            fmt(b.get("erlang_required_agents_peak", float("nan")), "int"),
            *(cell(s, m, scope) for m in q_more),
        ])
    queues = "Queues\n" + fit(
        ["queue", heading("offered", "queue"), "target", heading("service_level", "queue"), "Erlang SL",
         *(heading(m, "queue") for m in extra), heading("asa", "queue"), "Erlang ASA",
         heading("abandon_rate", "queue"), heading("wait_p90", "queue"), "Erlang peak agents",
         *(heading(m, "queue") for m in q_more)],
        q_rows, hint="widen the terminal or set COLUMNS")
    inbound = any(p.skills for p in scenario.pools)  # else no pool handles contacts
    p_rows = []
    for p in scenario.pools:
        scope = scope_key("pool", p.id)
        handled = ([cell(s, "handled", scope, ci=False), cell(s, "escalations_taken", scope, ci=False)]
                   if p.skills else ["- (outbound)", "-"])
        p_rows.append([
            p.id, p.tier,
            cell(s, "occupancy", scope),
            cell(s, "utilisation", scope),
            *(handled if inbound else []),
            cell(s, "paid_hours", scope, ci=False),
            *(cell(s, m, scope) for m in p_more),
        ])
    pools = render(["pool", "tier", heading("occupancy", "pool"), heading("utilisation", "pool"),
                    *([heading("handled", "pool"), heading("escalations_taken", "pool")] if inbound else []),
                    heading("paid_hours", "pool"), *(heading(m, "pool") for m in p_more)],
                   p_rows, title="Pools")
    backlogs = [q.id for q in scenario.queues if q.deferrable]
    if q_rows and backlogs:
        queues += (f"\n{', '.join(backlogs)}: a backlog with a due time: no Erlang figures (Erlang "
                   "formulas need a waiting customer); service level = share closed within the due time, "
                   "items still open at the end counting as late even when due after it (see "
                   f"'{heading('open_not_due', 'queue')}')")
    if q_rows and any(q.channel == "chat" for q in scenario.queues):
        from bposim.baseline import CHAT_ERLANG_NOTE

        queues += "\n" + CHAT_ERLANG_NOTE
    if any(p.qa_review is not None for p in scenario.pools):
        pools += (f"\n{heading('qa_within_due_rate', 'pool')}: reviews done within their due time / sampled; "
                  "reviews still open at the end count as late even when due after it (a horizon "
                  "shorter than the due time understates the share; see "
                  f"'{heading('qa_open_not_due', 'pool')}')")
    lines = ([queues, ""] if q_rows else []) + [pools]
    run = scope_key("run")
    sme = summary_row(s, "sme_utilisation", run)
    if sme[0] == sme[0]:
        lines += ["", f"{heading('sme_utilisation', run)}: {cell(s, 'sme_utilisation', run)}"]
    cost = summary_row(s, "cost", run)
    if cost[0] > 0:
        cur = scenario.currency
        site_rows = [[site.id, site.kind, cell(s, "paid_hours", scope_key("site", site.id), ci=False),
                      cell(s, "cost", scope_key("site", site.id)),
                      cell(s, "utilisation", scope_key("site", site.id))]
                     for site in scenario.sites]
        if site_rows:
            lines += ["", render(["site", "kind", heading("paid_hours", "site"), heading("cost", "site", cur),
                                  heading("utilisation", "site")], site_rows, title="Sites")]
        per = summary_row(s, "cost_per_contact", run)
        per_text = (f"; per answered contact {cell(s, 'cost_per_contact', run)} {cur}" if per[0] == per[0]
                    else "")
        lines += ["", f"Cost: {cell(s, 'cost', run)} {cur}{per_text}"]
    if scenario.campaigns:
        lines += ["", _campaign_table(s, scenario)]
    return "\n".join(lines)


def _campaign_table(s, scenario) -> str:
    """Outbound results beside the regulatory abandoned-call cap."""
    from bposim.abandon_caps import CAP_MEASURE, cap_warnings
    from bposim.metric_registry import scope_key

    shown = ("dials", "connected", "right_party", "abandon_rate", "max_daily_abandon_rate", None,
             "right_party_per_agent_hour", "talk_minutes_per_agent_hour", "list_penetration")
    plain = {"dials", "connected", "right_party", "list_penetration"}  # without their CI
    rows = []
    for c in scenario.campaigns:
        scope = scope_key("campaign", c.id)
        rows.append([c.id, c.mode, *(f"{c.abandon_target:.0%}" if m is None else cell(s, m, scope, m not in plain)
                                     for m in shown)])
    table = render(["campaign", "mode", *("cap" if m is None else heading(m, "campaign") for m in shown)],
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
