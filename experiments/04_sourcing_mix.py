"""Experiment 4: cost against service level for three sourcing mixes.

scenarios/sourcing_mix.yaml serves one client's voice support from Austin (onshore,
42 USD per paid hour), Bogota (nearshore, 22 USD) and Manila (offshore, 11 USD), with
per-site handle-time factors, first-contact resolution and escalation rates. Its base
is a balanced mix; its variants move tier-1 day-shift seats onshore (``onshore_heavy``)
or offshore (``offshore_heavy``). All three run with the same seed (common random
numbers: the same callers), and each variant's difference from the base is estimated
from paired per-replication differences (``bposim.compare``).

Cost is deterministic here (paid hours x the site's rate: no absenteeism, so every
replication pays the same hours), so its difference is exact; service levels are
random, with 95 % CIs on the paired differences. Service levels are each queue's own
definition (answered within T / offered: abandons count against); the front door
(``support``) is the only queue with arrivals, so its service level is also the
run-level ``sl_offered`` that the cost-service figure uses.

Run: python experiments/04_sourcing_mix.py [--quick] [--out DIR] [--workers 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import bposim  # noqa: E402
from bposim.report.figures import cost_service_figure, cost_service_frame  # noqa: E402

SEED = 20240604
SCENARIO = common.SCENARIOS / "sourcing_mix.yaml"
FULL = dict(replications=20)
QUICK = dict(replications=4)

ROWS = [  # (label, metric, scope)
    ("cost (USD)", "cost", "all"),
    ("cost per answered contact (USD)", "cost_per_contact", "all"),
    ("service level, front door (support, 80/30)", "service_level", "queue:support"),
    ("service level, tier 2 (80/120)", "service_level", "queue:tier2"),
    ("service level, SMEs (80/120)", "service_level", "queue:sme"),
    ("abandoned, support", "abandon_rate", "queue:support"),
    ("ASA support (s)", "asa", "queue:support"),
    ("repeat contacts, support", "repeats", "queue:support"),
    ("SME utilisation", "utilisation", "tier:sme"),
    ("paid hours Austin", "paid_hours", "site:austin"),
    ("paid hours Bogota", "paid_hours", "site:bogota"),
    ("paid hours Manila", "paid_hours", "site:manila"),
]


def run(quick: bool = False, seed: int = SEED, workers: int = 2):
    """Compare the base and its two variants; returns (table, comparison).

    The table has one row per variant × quantity: label, metric, scope, mean, ci_low,
    ci_high, diff_mean, diff_ci_low, diff_ci_high (paired, variant − base), n.
    """
    cfg = QUICK if quick else FULL
    scenarios = bposim.load_variants(SCENARIO)
    comparison = bposim.compare(scenarios, replications=cfg["replications"], seed=seed,
                                workers=workers)
    parts = []
    for label, metric, scope in ROWS:
        t = comparison.table
        f = t[(t["metric"] == metric) & (t["scope"] == scope)].copy()
        f.insert(1, "label", label)
        parts.append(f)
    table = pd.concat(parts, ignore_index=True)
    return table, comparison


def mix_table(quick: bool = False, seed: int = SEED, workers: int = 2) -> pd.DataFrame:
    """The long table of :func:`run`."""
    return run(quick, seed, workers)[0]


def site_rates(scenario) -> dict[str, float]:
    """Cost per paid hour of each site (the roster's price list)."""
    return {site.id: site.cost_per_hour for site in scenario.sites}


def summary_lines(table: pd.DataFrame) -> list[str]:
    base = table["variant"].iloc[0]
    lines = []
    for variant in dict.fromkeys(table["variant"]):
        if variant == base:
            continue
        g = table[table["variant"] == variant].set_index("label")
        cost = g.loc["cost (USD)"]
        parts = [f"{variant}: cost {cost['diff_mean']:+,.0f} USD "
                 f"({100 * cost['diff_mean'] / (cost['mean'] - cost['diff_mean']):+.1f} %, exact)"]
        for label, short, scale, unit in (
                ("service level, front door (support, 80/30)", "support SL", 100, " pp"),
                ("service level, tier 2 (80/120)", "tier-2 SL", 100, " pp"),
                ("service level, SMEs (80/120)", "SME SL", 100, " pp"),
                ("repeat contacts, support", "repeat contacts", 1, "")):
            r = g.loc[label]
            parts.append(f"{short} {scale * r['diff_mean']:+.2f}{unit} [{scale * r['diff_ci_low']:+.2f}, "
                         f"{scale * r['diff_ci_high']:+.2f}]")
        lines.append("; ".join(parts))
    return lines


def differences_figure(table: pd.DataFrame):
    """Paired differences from the base: cost (exact) against service level (95 % CI)."""
    fig, axes = common.figure(1, 1, title="Sourcing mixes: difference from the balanced base "
                              "(same callers; 95 % CI of paired differences)", size=(9, 5))
    ax = axes[0, 0]
    base = table["variant"].iloc[0]
    colours = common.colours(dict.fromkeys(table["variant"]))
    for variant in dict.fromkeys(table["variant"]):
        if variant == base:
            continue
        g = table[table["variant"] == variant].set_index("label")
        cost = g.loc["cost (USD)"]
        for label, short, marker in (("service level, front door (support, 80/30)",
                                      "front-door SL (support, 80/30)", "o"),
                                     ("service level, tier 2 (80/120)", "tier-2 SL (80/120)", "s")):
            s = g.loc[label]
            ax.errorbar([100 * s["diff_mean"]], [cost["diff_mean"]],
                        xerr=[[100 * (s["diff_mean"] - s["diff_ci_low"])],
                              [100 * (s["diff_ci_high"] - s["diff_mean"])]],
                        fmt=marker, ms=7, capsize=4, color=colours[variant],
                        label=f"{variant}: {short}")
        ax.annotate(variant, (100 * g.loc["service level, front door (support, 80/30)", "diff_mean"],
                              cost["diff_mean"]), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("service level minus base (percentage points)")
    ax.set_ylabel("cost minus base over the 2-day horizon (USD)")
    ax.legend(fontsize=8)
    return fig


def main(argv=None) -> dict:
    args, out, clock = common.start(__doc__, SEED, argv)
    table, comparison = run(args.quick, args.seed, args.workers)
    common.write_csv(table, out / "04_sourcing_mix.csv")
    frame = cost_service_frame({k: r.summary for k, r in comparison.results.items()})
    common.save(cost_service_figure(frame, cost_label="cost over the 2-day horizon (USD)"),
                out / "04_sourcing_mix.png")
    common.save(differences_figure(table), out / "04_sourcing_mix_differences.png")
    show = table[["variant", "label", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
                  "diff_ci_high"]]
    print(common.show(show, floatfmt=".5g"))
    lines = summary_lines(table)
    print("\n" + "\n".join(lines))
    costs = table[table["metric"] == "cost"].set_index("variant")["mean"].to_dict()
    key = {"cost": costs, "summary": lines, "seconds": round(clock(), 1)}
    print(f"\nwrote {out}/04_sourcing_mix*.csv/.png in {key['seconds']} s")
    return key


if __name__ == "__main__":
    main()
