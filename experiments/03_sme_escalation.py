"""Experiment 3: how the rate of escalation to subject-matter experts (SMEs) loads the
SMEs and degrades service, at fixed staffing.

The centre is scenarios/tech_support_tiers.yaml (tier 1 -> tier 2 -> SMEs, three days,
shift staffing with shrinkage). Its tier-1 -> SME escalation is a *consult*: the
tier-1 agent holds the customer while an SME works the consult, both busy. Here that
probability goes from 5 % (the file's value) to 25 % in steps of 5 points; everything
else stays as in the file (tier-1 -> tier-2 transfers 18 %, tier-2 -> SME transfers
25 %, the same agents and shifts).

Every rate runs with the same seed: the same customers, handle times and escalation
draws (common random numbers; a contact that consults at 10 % also consults at 15 %),
so the step from one rate to the next is estimated from paired per-replication
differences.

Reported per rate, mean over replications with 95 % CIs: SME utilisation (busy share
of paid time, shrinkage included) and occupancy (busy share of available time); the
SME queue's service level (answered within 60 s / offered), ASA and abandonment; the
tier-1 queue's service level (60 s); and the end-to-end service level: the share of
tier-1 callers whose whole journey (tier 1, then any tier-2 transfer, SME transfer or
SME consult) had every leg answered, with at most 60 s of waiting in all queues
together (waiting on hold for a consult included).

Run: python experiments/03_sme_escalation.py [--quick] [--out DIR] [--workers 2]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import bposim  # noqa: E402

SEED = 20240603
RATES = (0.05, 0.10, 0.15, 0.20, 0.25)
E2E_WITHIN = 60.0
FULL = dict(replications=20, days=None)
QUICK = dict(replications=6, days=1)

# (column, metric, scope) read from the run summaries
METRICS = [
    ("sme_utilisation", "utilisation", "tier:sme"),
    ("sme_occupancy", "occupancy", "tier:sme"),
    ("sme_sl", "service_level", "queue:sme"),
    ("sme_asa", "asa", "queue:sme"),
    ("sme_abandon", "abandon_rate", "queue:sme"),
    ("sme_offered", "offered", "queue:sme"),
    ("tier1_sl", "service_level", "queue:support"),
    ("tier1_abandon", "abandon_rate", "queue:support"),
    ("tier1_occupancy", "occupancy", "tier:tier1"),
    ("tier2_sl", "service_level", "queue:tier2"),
]


def scenario_at(base, rate: float, days: int | None = None):
    """``base`` with the tier-1 -> SME escalation probability set to ``rate``."""
    queues = []
    for q in base.queues:
        if q.id == "support":
            q = replace(q, escalations=tuple(replace(e, probability=rate) if e.to == "sme" else e
                                             for e in q.escalations))
        queues.append(q)
    sc = replace(base, queues=tuple(queues), name=f"{base.name} [SME escalation {rate:.0%}]",
                 simulation=replace(base.simulation, keep_contacts=True))
    if days is not None:
        sc = replace(sc, horizon=replace(sc.horizon, days=days))
    return sc


def end_to_end(contacts: pd.DataFrame, within: float = E2E_WITHIN) -> pd.Series:
    """Per replication: the share of tier-1 arrivals whose journey had every leg answered
    and at most ``within`` seconds of waiting in total."""
    c = contacts[["replication", "contact_id", "parent_id", "queue", "origin", "wait", "outcome"]].copy()
    c["root"] = c["contact_id"]
    parent = c.set_index(["replication", "contact_id"])["parent_id"]
    todo = c["parent_id"].notna()
    roots = c["parent_id"].where(todo)
    # walk up the parent chain (tier 1 -> tier 2 -> SME is two steps)
    for _ in range(10):
        if not todo.any():
            break
        c.loc[todo, "root"] = roots[todo]
        idx = pd.MultiIndex.from_arrays([c.loc[todo, "replication"], roots[todo].astype(int)])
        up = parent.reindex(idx).to_numpy()
        roots = roots.copy()
        roots.loc[todo] = up
        todo = todo & roots.notna()
    c["root"] = c["root"].astype(int)
    c["served"] = c["outcome"].eq("answered")
    legs = c.groupby(["replication", "root"]).agg(wait=("wait", "sum"), served=("served", "all"))
    first = c[(c["origin"] == "arrival") & (c["queue"] == "support")].set_index(["replication", "contact_id"])
    legs = legs.reindex(first.index)
    ok = legs["served"].astype(bool) & (legs["wait"] <= within)
    return ok.groupby(level=0).mean()


def run(quick: bool = False, seed: int = SEED, workers: int = 2, rates=RATES):
    """Run every rate with the same seed; returns (summary table, per-replication values).

    The summary has one row per rate and quantity (``quantity``, ``mean``, ``ci_low``,
    ``ci_high``) plus the paired step from the previous rate (``step_mean``,
    ``step_ci_low``, ``step_ci_high``) and from the first rate (``diff_mean``, ...).
    """
    cfg = QUICK if quick else FULL
    base = bposim.load_scenario(common.SCENARIOS / "tech_support_tiers.yaml")
    scenarios = {f"{r:.2f}": scenario_at(base, r, cfg["days"]) for r in rates}
    comparison = bposim.compare(scenarios, replications=cfg["replications"], seed=seed,
                                workers=workers)
    per_rep = {}
    for name, res in comparison.results.items():
        cols = {col: common.per_replication(res, metric, scope) for col, metric, scope in METRICS}
        cols["e2e_sl"] = end_to_end(res.contacts).sort_index().to_numpy()
        per_rep[float(name)] = pd.DataFrame(cols)
    rows = []
    names = list(per_rep)
    for k, rate in enumerate(names):
        for col in per_rep[rate].columns:
            v = per_rep[rate][col].to_numpy()
            m, lo, hi = common.interval(v)
            step = (common.interval(v - per_rep[names[k - 1]][col].to_numpy()) if k else (np.nan,) * 3)
            diff = common.interval(v - per_rep[names[0]][col].to_numpy()) if k else (np.nan,) * 3
            rows.append(dict(rate=rate, quantity=col, mean=m, ci_low=lo, ci_high=hi,
                             step_mean=step[0], step_ci_low=step[1], step_ci_high=step[2],
                             diff_mean=diff[0], diff_ci_low=diff[1], diff_ci_high=diff[2],
                             replications=len(v)))
    return pd.DataFrame(rows), per_rep


def escalation_table(quick: bool = False, seed: int = SEED, workers: int = 2) -> pd.DataFrame:
    """The long summary table of :func:`run` (one row per rate × quantity)."""
    return run(quick, seed, workers)[0]


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per rate: each quantity's mean and CI as columns."""
    w = table.pivot(index="rate", columns="quantity", values=["mean", "ci_low", "ci_high"])
    w.columns = [f"{q}" if s == "mean" else f"{q}_{s}" for s, q in w.columns]
    return w.reset_index()


def figure(table: pd.DataFrame):
    fig, axes = common.figure(1, 2, title="Escalation to SMEs (tier-1 consults) at fixed staffing: "
                              "tech_support_tiers, mean over replications with 95 % CI",
                              size=(12, 5))
    left, right = axes[0]

    def line(ax, quantity, label, colour, marker):
        f = table[table["quantity"] == quantity]
        x = f["rate"] * 100
        ax.errorbar(x, f["mean"], yerr=[f["mean"] - f["ci_low"], f["ci_high"] - f["mean"]],
                    marker=marker, capsize=3, color=colour, label=label)

    line(left, "sme_utilisation", "SME utilisation (busy / paid time)", "C3", "o")
    line(left, "sme_occupancy", "SME occupancy (busy / available time)", "C1", "s")
    line(left, "tier1_occupancy", "tier-1 occupancy (consult hold counts as busy)", "C0", "^")
    left.set_xlabel("tier-1 -> SME escalation (consult) rate (% of handled tier-1 contacts)")
    left.set_ylabel("share of agent time (%)")
    left.set_title("Agent load", loc="left", fontsize=10)
    line(right, "sme_sl", "SME queue: answered within 60 s / offered", "C3", "o")
    line(right, "tier1_sl", "tier-1 queue: answered within 60 s / offered", "C0", "^")
    line(right, "e2e_sl", "end to end: every leg answered, <= 60 s waiting in total", "C2", "D")
    right.axhline(0.8, color="black", ls="--", lw=1, label="80 % target")
    right.set_xlabel("tier-1 -> SME escalation (consult) rate (% of handled tier-1 contacts)")
    right.set_ylabel("service level (%)")
    right.set_title("Service", loc="left", fontsize=10)
    from matplotlib.ticker import PercentFormatter
    for ax in (left, right):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower left")
    return fig


def main(argv=None) -> dict:
    args, out, clock = common.start(__doc__, SEED, argv)
    table, _ = run(args.quick, args.seed, args.workers)
    common.write_csv(table, out / "03_sme_escalation.csv")
    common.save(figure(table), out / "03_sme_escalation.png")
    w = wide(table)
    cols = ["rate", "sme_utilisation", "sme_occupancy", "sme_sl", "sme_asa", "sme_abandon",
            "tier1_sl", "e2e_sl"]
    print(common.show(w[cols]))
    steps = table[table["quantity"].isin(["sme_utilisation", "sme_sl", "tier1_sl", "e2e_sl"])
                  & table["step_mean"].notna()]
    print("\nPaired steps from the previous rate (mean [95 % CI]):")
    for r in steps.itertuples():
        print(f"  {r.rate:.0%} {r.quantity:16s} {r.step_mean:+.4f} [{r.step_ci_low:+.4f}, {r.step_ci_high:+.4f}]")
    key = {"sme_utilisation": dict(zip(w["rate"], w["sme_utilisation"].round(4))),
           "sme_sl": dict(zip(w["rate"], w["sme_sl"].round(4))),
           "e2e_sl": dict(zip(w["rate"], w["e2e_sl"].round(4))),
           "seconds": round(clock(), 1)}
    print(f"\nwrote {out}/03_sme_escalation.csv and .png in {key['seconds']} s")
    return key


if __name__ == "__main__":
    main()
