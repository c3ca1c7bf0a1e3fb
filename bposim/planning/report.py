"""A plan's summary as text: cost, paid hours, attainment with CIs, rounds, timings,
and the Erlang C reference beside it."""

from __future__ import annotations

import math


def _ci(value, low, high, pct=True) -> str:
    from bposim.cli.tables import with_ci

    return with_ci(value, low, high, kind="pct" if pct else "num")


def summary_text(plan) -> str:
    """The summary printed by ``bposim plan`` and written to summary.txt."""
    from bposim.cli.tables import fmt, render

    ref = plan.reference
    cur = plan.scenario.currency
    lines = [f"{plan.label}: cost {fmt(plan.cost, 'int')} {cur}, {fmt(plan.paid_hours, 'int')} paid hours"
             f" over the horizon; targets {'met' if plan.met else 'NOT all met'} "
             f"(constraints not missed with 95 % confidence)."]
    if ref is not None:
        saving = (ref.cost - plan.cost) / ref.cost if ref.cost else math.nan
        than = (f"; the {plan.label} costs {fmt(abs(saving), 'pct')} "
                f"{'less' if saving >= 0 else 'more'}") if saving == saving else ""
        lines.append(f"{ref.label} through the same scheduler: cost {fmt(ref.cost, 'int')} {cur}, "
                     f"{fmt(ref.paid_hours, 'int')} paid hours{than}.")
    rows = []
    ref_att = ref.queue_attainment().set_index(["queue", "metric"]) if ref is not None else None
    for r in plan.queue_attainment().itertuples(index=False):
        cells = [r.queue, r.metric.replace("_", " "), fmt(r.target, "pct"),
                 _ci(r.value, r.ci_low, r.ci_high), "yes" if r.met else "no"]
        if ref_att is not None and (r.queue, r.metric) in ref_att.index:
            x = ref_att.loc[(r.queue, r.metric)]
            cells.append(_ci(x["value"], x["ci_low"], x["ci_high"]))
        rows.append(cells)
    headers = ["queue", "metric", "target", "simulated (95 % CI)", "met"]
    if ref_att is not None:
        headers.append("Erlang C plan")
    lines += ["", render(headers, rows, title="Attainment over the horizon")]
    per = plan.attainment[plan.attainment["scope"] != "all"]
    if len(per):
        missed = per[per["constraint"] & per["missed_with_confidence"]]
        lines.append(f"Intervals and days checked: {len(per)}; missed with confidence: {len(missed)}")
    sched = plan.schedule
    if len(sched):
        by = sched.groupby(["site", "pool"], sort=False).agg(shifts=("count", "sum"),
                                                            paid_hours=("paid_hours", "sum"),
                                                            cost=("cost", "sum")).reset_index()
        rows = [[r.site or "-", r.pool, fmt(r.shifts, "int"), fmt(r.paid_hours, "int"), fmt(r.cost, "int")]
                for r in by.itertuples(index=False)]
        lines += ["", render(["site", "pool", "agent-shifts", "paid hours", f"cost ({cur})"], rows,
                             title="Schedule")]
    rows = [[str(r.round), fmt(r.cost, "int"), fmt(r.paid_hours, "int"), str(r.intervals_missed),
             str(r.days_missed), "yes" if r.met else "no"] for r in plan.rounds.itertuples(index=False)]
    lines += ["", render(["round", f"cost ({cur})", "paid hours", "intervals missed", "days missed", "met"],
                         rows, title="Closed-loop rounds")]
    if plan.timings:
        lines += ["", "Time per stage: " + ", ".join(f"{k.replace('_', ' ')} {v:.1f} s"
                                                     for k, v in plan.timings.items())]
    return "\n".join(lines)
