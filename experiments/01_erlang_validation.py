"""Experiment 1: the simulator against Erlang C and Erlang A, and how much Erlang C
over-staffs when customers abandon.

Part A (validation). Single M/M/n queues (Poisson arrivals, exponential handle time
of mean 180 s) at loads of 5, 20, 100 and 300 Erlangs, each with the Erlang C
requirement for 80/20 and one agent either side; without abandonment (Erlang C) and
with exponential patience of mean 120 s (Erlang A). For each: simulated P(wait),
service level, ASA and P(abandon) with 95 % confidence intervals beside the formula.

Part B (staffing). For each load, the agents needed for 80/20 by Erlang C (nobody
abandons), by Erlang A with mean patience 60, 120 and 300 s, and by simulation of the
queue with that patience: the smallest agent count whose simulated service level meets
80 %. Every service level here is the *offered* definition, the one Erlang A's
``service_level`` uses: contacts answered within 20 s / contacts offered, abandons
counting against it (with no abandonment every definition coincides). Over-staffing
is (Erlang C agents − other agents) / other agents.

Steady state: each replication starts empty, runs an hour of warm-up (not measured),
measures the contacts arriving after it, and lets the queue drain, so that no contact
is cut off by the end of the horizon. Agent counts of one load share their customers
(the same seed: common random numbers).

Run: python experiments/01_erlang_validation.py [--quick] [--out DIR] [--workers 2]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bposim import erlang  # noqa: E402

AHT = 180.0
T = 20.0
TARGET = 0.8
INF = math.inf
SEED = 20240601

FULL = dict(loads=(5, 20, 100, 300), offsets=(-1, 0, 1), validation_patience=(INF, 120.0),
            staffing_patience=(INF, 60.0, 120.0, 300.0), replications=16, contacts=6000,
            least_hours=1.0, warmup_minutes=60.0, relax_measure=12.0, relax_warmup=3.0)
QUICK = dict(loads=(20, 100), offsets=(0,), validation_patience=(INF, 120.0),
             staffing_patience=(120.0,), replications=8, contacts=2000, least_hours=0.5,
             warmup_minutes=45.0, relax_measure=4.0, relax_warmup=1.5)
ANALYTIC_PATIENCE = (60.0, 120.0, 300.0, INF)

# simulated metric -> how the formulas name it
METRICS = {"p_wait": "P(wait)", "sl_offered": "service level (offered)", "asa": "ASA (s)",
           "abandon_rate": "P(abandon)"}


def _config(quick: bool) -> dict:
    return dict(QUICK if quick else FULL)


def theory(load: float, agents: int, patience: float) -> dict[str, float]:
    """Erlang C (patience inf) or Erlang A figures, keyed like the simulator's metrics."""
    if math.isinf(patience):
        return {"p_wait": float(erlang.erlang_c(load, agents)),
                "sl_offered": float(erlang.service_level(load, agents, AHT, T)),
                "asa": float(erlang.asa(load, agents, AHT)), "abandon_rate": 0.0}
    r = erlang.erlang_a(load, agents, AHT, patience, T)
    return {"p_wait": r.p_wait, "sl_offered": r.service_level, "asa": r.asa,
            "abandon_rate": r.p_abandon}


def required(load: float, patience: float) -> int:
    """Agents for 80/20 (offered definition) by Erlang C (inf) or Erlang A."""
    if math.isinf(patience):
        return int(erlang.required_agents(load, AHT, T, TARGET))
    return int(erlang.required_agents_erlang_a(load, AHT, patience, T, TARGET))


def simulations(cfg: dict, seed: int, workers: int) -> common.SteadyState:
    """The cache of simulated points. Without abandonment, warm-up and run length are
    multiples of the relaxation time at the Erlang C requirement minus one agent."""
    return common.SteadyState(cfg, seed, workers, aht=AHT, answer_within=T, target=TARGET,
                              slowest=lambda load: required(load, INF) - 1)


def validation_table(quick: bool = False, seed: int = SEED, workers: int = 2,
                     sims: common.SteadyState | None = None) -> pd.DataFrame:
    """Part A: one row per load × patience × agents × metric, simulated vs formula.

    Columns: load, patience (inf = Erlang C), agents, model, metric, simulated, ci_low,
    ci_high (95 %), half_width_999 (99.9 % half-width), theory, z (difference over its
    standard error), within_95, within_999, replications, contacts (measured, per
    replication, mean).
    """
    cfg = _config(quick)
    sims = sims or simulations(cfg, seed, workers)
    keys = []
    for load in cfg["loads"]:
        base = required(load, INF)
        for patience in cfg["validation_patience"]:
            keys += [(float(load), patience, base + d) for d in cfg["offsets"]]
    sims.ensure(keys)
    rows = []
    for load, patience, agents in keys:
        th = theory(load, agents, patience)
        offered = sims.values((load, patience, agents), "offered").mean()
        for metric in METRICS:
            v = sims.values((load, patience, agents), metric)
            mean, low, high = common.interval(v)
            _m, low999, _h = common.interval(v, 0.999)
            se = v.std(ddof=1) / math.sqrt(v.size)
            diff = mean - th[metric]
            z = 0.0 if se == 0 and diff == 0 else (diff / se if se > 0 else math.inf)
            rows.append(dict(load=load, patience=patience, agents=agents,
                             model="Erlang C" if math.isinf(patience) else "Erlang A",
                             metric=metric, simulated=mean, ci_low=low if se > 0 else mean,
                             ci_high=high if se > 0 else mean,
                             half_width_999=(mean - low999) if se > 0 else 0.0,
                             theory=th[metric], z=z, within_95=abs(diff) <= (mean - low if se > 0 else 0),
                             within_999=abs(diff) <= ((mean - low999) if se > 0 else 0),
                             replications=v.size, contacts=offered))
    return pd.DataFrame(rows)


def analytic_staffing(loads=FULL["loads"], patience=ANALYTIC_PATIENCE) -> pd.DataFrame:
    """Erlang C vs Erlang A requirements (no simulation): load, patience, n_erlang_c,
    n_erlang_a, overstaff_pct (Erlang C's extra agents as % of Erlang A's), and what
    Erlang A predicts for a centre staffed by Erlang C (sl_at_erlang_c, abandon_at_erlang_c).
    Patience inf is Erlang C itself (over-staffing 0)."""
    rows = []
    for load in loads:
        n_c = required(load, INF)
        for p in patience:
            n_a = required(load, p)  # patience inf: Erlang A is Erlang C
            at_c = erlang.erlang_a(load, n_c, AHT, p, T)
            at_a = erlang.erlang_a(load, n_a, AHT, p, T)
            rows.append(dict(load=float(load), patience=p, n_erlang_c=n_c, n_erlang_a=n_a,
                             overstaff_pct=100.0 * (n_c - n_a) / n_a,
                             sl_erlang_a=at_a.service_level, abandon_erlang_a=at_a.p_abandon,
                             sl_at_erlang_c=at_c.service_level, abandon_at_erlang_c=at_c.p_abandon))
    return pd.DataFrame(rows)


def staffing_table(quick: bool = False, seed: int = SEED, workers: int = 2,
                   sims: common.SteadyState | None = None) -> pd.DataFrame:
    """Part B: agents for 80/20 by Erlang C, Erlang A and simulation, per load × patience.

    ``n_simulation`` is the smallest n whose simulated service level (offered
    definition, mean over replications) is at least 80 % while n − 1's is not, both
    with their 95 % CIs (``sl_sim``, ``sl_sim_below``); ``clear`` says whether both
    intervals lie on their side of 80 %. Searched outwards from Erlang A's answer.
    """
    cfg = _config(quick)
    sims = sims or simulations(cfg, seed, workers)
    found = sims.requirement({(float(load), p): required(load, p) for load in cfg["loads"]
                              for p in cfg["staffing_patience"]})
    rows = []
    for (load, p), n_sim in found.items():
        n_c, n_a = required(load, INF), required(load, p)
        sl = sims.values((load, p, n_sim), "sl_offered")
        below = sims.values((load, p, n_sim - 1), "sl_offered")
        m, lo, hi = common.interval(sl)
        mb, lob, hib = common.interval(below)
        ab = sims.values((load, p, n_sim), "abandon_rate")
        rows.append(dict(load=load, patience=p, n_erlang_c=n_c, n_erlang_a=n_a,
                         n_simulation=n_sim, sl_sim=m, sl_sim_low=lo, sl_sim_high=hi,
                         sl_sim_below=mb, sl_sim_below_low=lob, sl_sim_below_high=hib,
                         abandon_sim=common.interval(ab)[0], clear=bool(lo >= TARGET and hib < TARGET),
                         overstaff_vs_erlang_a_pct=100.0 * (n_c - n_a) / n_a,
                         overstaff_vs_simulation_pct=100.0 * (n_c - n_sim) / n_sim))
    return pd.DataFrame(rows).sort_values(["load", "patience"]).reset_index(drop=True)


# --- figures ---------------------------------------------------------------------------


def validation_figure(table: pd.DataFrame):
    fig, axes = common.figure(2, 2, title="Simulation minus formula (mean over replications, "
                              "95 % CI): Erlang C (no abandonment) and Erlang A (patience 120 s)",
                              size=(12, 7.5))
    points = table[["load", "agents"]].drop_duplicates().reset_index(drop=True)
    position = {(l, n): k for k, (l, n) in enumerate(points.itertuples(index=False))}
    units = {"p_wait": ("percentage points", 100), "sl_offered": ("percentage points", 100),
             "asa": ("seconds", 1), "abandon_rate": ("percentage points", 100)}
    for ax, metric in zip(axes.flat, METRICS):
        unit, scale = units[metric]
        f = table[table["metric"] == metric]
        for model, colour, shift in (("Erlang C", "C0", -0.15), ("Erlang A", "C1", 0.15)):
            g = f[f["model"] == model]
            if g.empty:
                continue
            x = np.array([position[(l, n)] for l, n in zip(g["load"], g["agents"])]) + shift
            d = (g["simulated"] - g["theory"]) * scale
            err = (g["simulated"] - g["ci_low"]) * scale
            label = model if model == "Erlang C" else f"{model}, patience 120 s"
            ax.errorbar(x, d, yerr=err, fmt="o", ms=4, capsize=3, color=colour, label=label)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(np.arange(len(points)),
                      [f"{l:g} E\n{n} ag" for l, n in points.itertuples(index=False)], fontsize=7)
        ax.set_title(METRICS[metric], loc="left", fontsize=10)
        ax.set_ylabel(f"simulated − formula ({unit})")
        ax.set_xlabel("offered load (Erlangs) and agents")
        ax.legend(fontsize=8)
    return fig


def overstaffing_figure(analytic: pd.DataFrame, simulated: pd.DataFrame | None):
    fig, axes = common.figure(1, 1, title="How much Erlang C over-staffs when callers abandon "
                              "(80/20, offered definition, AHT 180 s)", size=(10, 5.2))
    ax = axes[0, 0]
    analytic = analytic[np.isfinite(analytic["patience"])]
    loads = sorted(analytic["load"].unique())
    pats = sorted(analytic["patience"].unique())
    colour = {f"{p:g}": c for p, c in zip(pats, ("C3", "C1", "C2", "C0"))}
    width = 0.8 / len(pats)
    for j, p in enumerate(pats):
        g = analytic[analytic["patience"] == p].set_index("load").loc[loads]
        x = np.arange(len(loads)) - 0.4 + width * (j + 0.5)
        ax.bar(x, g["overstaff_pct"], width=width * 0.95, color=colour[f"{p:g}"],
               label=f"vs Erlang A, mean patience {p:g} s")
        for xi, row in zip(x, g.itertuples()):
            ax.annotate(f"{row.n_erlang_c}/{row.n_erlang_a}", (xi, row.overstaff_pct),
                        textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
        if simulated is not None and len(simulated):
            s = simulated[simulated["patience"] == p].set_index("load")
            xs = [x[loads.index(l)] for l in s.index if l in loads]
            if xs:
                ax.plot(xs, s["overstaff_vs_simulation_pct"], "kD", ms=5,
                        label="vs simulation" if j == 0 else None)
    ax.set_xticks(np.arange(len(loads)), [f"{l:g}" for l in loads])
    ax.set_xlabel("offered load (Erlangs)   [labels: agents by Erlang C / by Erlang A]")
    ax.set_ylabel("Erlang C over-staffing (% more agents)")
    ax.legend(fontsize=8)
    return fig


# --- main ------------------------------------------------------------------------------


def main(argv=None) -> dict:
    args, out, clock = common.start(__doc__, SEED, argv)
    cfg = _config(args.quick)
    sims = simulations(cfg, args.seed, args.workers)
    validation = validation_table(args.quick, args.seed, args.workers, sims)
    simulated = staffing_table(args.quick, args.seed, args.workers, sims)
    analytic = analytic_staffing(cfg["loads"] if args.quick else FULL["loads"])
    staffing = analytic.merge(
        simulated[["load", "patience", "n_simulation", "sl_sim", "sl_sim_low", "sl_sim_high",
                   "sl_sim_below", "sl_sim_below_low", "sl_sim_below_high", "abandon_sim", "clear",
                   "overstaff_vs_simulation_pct"]],
        on=["load", "patience"], how="outer")
    common.write_csv(validation, out / "01_erlang_validation.csv")
    common.write_csv(staffing, out / "01_erlang_staffing.csv")
    common.save(validation_figure(validation), out / "01_erlang_validation.png")
    common.save(overstaffing_figure(analytic, simulated), out / "01_erlang_overstaffing.png")
    n = len(validation)
    key = {
        "checks": n,
        "within_95": int(validation["within_95"].sum()),
        "within_999": int(validation["within_999"].sum()),
        "max_abs_z": float(validation["z"].abs().replace(np.inf, np.nan).max()),
        "overstaff_pct_patience_120": analytic[analytic["patience"] == 120].set_index("load")
        ["overstaff_pct"].round(1).to_dict(),
        "seconds": round(clock(), 1),
    }
    print(f"Part A: {key['within_95']}/{n} simulated figures within the 95 % CI of the formula, "
          f"{key['within_999']}/{n} within 99.9 %; max |z| {key['max_abs_z']:.2f}")
    print(common.show(validation[["load", "patience", "agents", "metric", "simulated", "ci_low",
                                  "ci_high", "theory", "z"]]))
    print("\nPart B: agents for 80/20 (offered definition)")
    print(common.show(staffing, ["load", "patience", "n_erlang_c", "n_erlang_a", "n_simulation",
                                 "overstaff_pct", "overstaff_vs_simulation_pct", "sl_sim",
                                 "sl_sim_below", "clear", "sl_at_erlang_c", "abandon_at_erlang_c"]))
    print(f"\nwrote {out}/01_erlang_*.csv and .png in {key['seconds']} s")
    return key


if __name__ == "__main__":
    main()
