"""Experiment 2: the square-root staffing rule against exact Erlang C staffing and
simulation-based staffing, for offered loads from 1 to 1000 Erlangs.

The rule staffs n = ceil(R + beta * sqrt(R)) agents for an offered load of R Erlangs.
Two choices of beta are compared, both for the 80/20 target with AHT 180 s:

- Halfin-Whitt beta (``n_sr_hw``): in the Halfin-Whitt (QED) regime the probability of
  waiting of M/M/n with n = R + beta sqrt(R) tends to
  alpha(beta) = 1 / (1 + beta Phi(beta) / phi(beta)), and a waiting contact waits longer
  than T with probability exp(-(n - R) T / AHT) = exp(-beta sqrt(R) T / AHT). So beta
  solves 1 - alpha(beta) exp(-beta sqrt(R) T / AHT) = 0.8, load by load.
- Fixed beta (``n_sr_fixed``): one beta for every load, from alpha(beta) = 0.2, i.e.
  at most 20 % of contacts wait at all (beta = 1.058); it ignores T, so it is
  conservative for 80/20.

Exact staffing (``n_exact``) is the smallest n whose Erlang C service level reaches
80 %. Simulation-based staffing (``n_simulation``) is the smallest n whose simulated
service level of the M/M/n queue (no abandonment; mean over replications, the same
customers for every n) reaches 80 % while n - 1's does not.

Run: python experiments/02_square_root_staffing.py [--quick] [--out DIR] [--workers 2]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bposim import erlang  # noqa: E402

AHT = 180.0
T = 20.0
TARGET = 0.8
SEED = 20240602
INF = math.inf

ANALYTIC_LOADS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000)
FULL = dict(sim_loads=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), replications=10,
            contacts=5000, least_hours=1.0, warmup_minutes=60.0, relax_measure=5.0,
            relax_warmup=3.0)
QUICK = dict(sim_loads=(5, 50), replications=8, contacts=2000, least_hours=0.5,
             warmup_minutes=45.0, relax_measure=3.0, relax_warmup=1.5)
MODERATE = (10, 500)  # "moderate loads" for the +-2 agents claim, Erlangs inclusive


def alpha(beta: float) -> float:
    """Halfin-Whitt limit of P(wait) for n = R + beta sqrt(R)."""
    return 1.0 / (1.0 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta))


def beta_fixed(p_wait: float = 1 - TARGET) -> float:
    """The beta whose Halfin-Whitt P(wait) is ``p_wait``."""
    return float(optimize.brentq(lambda b: alpha(b) - p_wait, 1e-9, 10.0))


def beta_halfin_whitt(load: float, target: float = TARGET, t: float = T, aht: float = AHT) -> float:
    """The beta meeting ``target`` within ``t`` by the Halfin-Whitt approximation."""
    root = math.sqrt(load)

    def gap(b):
        return 1.0 - alpha(b) * math.exp(-b * root * t / aht) - target

    return float(optimize.brentq(gap, 1e-9, 20.0))


def square_root(load: float, beta: float) -> int:
    return int(math.ceil(load + beta * math.sqrt(load) - 1e-9))


def analytic_table(loads=ANALYTIC_LOADS) -> pd.DataFrame:
    """Per load: exact Erlang C staffing and both square-root rules, with the Erlang C
    service level each staffing gives and its gap to exact (rule − exact)."""
    b_fix = beta_fixed()
    rows = []
    for load in loads:
        n_exact = int(erlang.required_agents(load, AHT, T, TARGET))
        b_hw = beta_halfin_whitt(load)
        n_hw, n_fix = square_root(load, b_hw), square_root(load, b_fix)
        rows.append(dict(
            load=float(load), n_exact=n_exact, sl_exact=float(erlang.service_level(load, n_exact, AHT, T)),
            beta_hw=b_hw, n_sr_hw=n_hw, sl_sr_hw=float(erlang.service_level(load, n_hw, AHT, T)),
            gap_sr_hw=n_hw - n_exact, beta_fixed=b_fix, n_sr_fixed=n_fix,
            sl_sr_fixed=float(erlang.service_level(load, n_fix, AHT, T)), gap_sr_fixed=n_fix - n_exact,
            beta_exact=(n_exact - load) / math.sqrt(load)))
    return pd.DataFrame(rows)


def staffing_table(quick: bool = False, seed: int = SEED, workers: int = 2) -> pd.DataFrame:
    """The analytic table with simulation-based staffing at the simulated loads:
    n_simulation, its simulated SL (sl_sim, 95 % CI) and n_simulation − 1's
    (sl_sim_below, 95 % CI), and the simulated SL at the exact staffing (sl_sim_exact)."""
    cfg = dict(QUICK if quick else FULL)
    table = analytic_table(ANALYTIC_LOADS if not quick else tuple(sorted(set(ANALYTIC_LOADS)
                                                                          | set(cfg["sim_loads"]))))
    exact = dict(zip(table["load"], table["n_exact"]))
    sims = common.SteadyState(cfg, seed, workers, aht=AHT, answer_within=T, target=TARGET,
                              slowest=lambda load: exact[float(load)] - 1)
    starts = {(float(load), INF): exact[float(load)] for load in cfg["sim_loads"]}
    found = sims.requirement(starts)
    sim_rows = []
    for (load, _p), n_sim in found.items():
        at = common.interval(sims.values((load, INF, n_sim), "sl_offered"))
        below = common.interval(sims.values((load, INF, n_sim - 1), "sl_offered"))
        sims.ensure([(load, INF, exact[load])])
        at_exact = common.interval(sims.values((load, INF, exact[load]), "sl_offered"))
        offered = sims.values((load, INF, n_sim), "offered").mean()
        sim_rows.append(dict(load=load, n_simulation=n_sim, sl_sim=at[0], sl_sim_low=at[1],
                             sl_sim_high=at[2], sl_sim_below=below[0], sl_sim_below_low=below[1],
                             sl_sim_below_high=below[2], sl_sim_exact=at_exact[0],
                             sl_sim_exact_low=at_exact[1], sl_sim_exact_high=at_exact[2],
                             contacts_per_replication=offered,
                             replications=cfg["replications"]))
    table = table.merge(pd.DataFrame(sim_rows), on="load", how="left")
    table["gap_simulation"] = table["n_simulation"] - table["n_exact"]
    return table


def figure(table: pd.DataFrame):
    fig, axes = common.figure(2, 1, title="Square-root staffing vs exact Erlang C vs simulation "
                              "(80/20, AHT 180 s, no abandonment)", size=(10, 8), sharex=True)
    top, bottom = axes[:, 0]
    x = table["load"].to_numpy()
    root = np.sqrt(x)
    series = [("n_exact", "exact Erlang C", "C0", "-", "o"),
              ("n_sr_hw", "square root, Halfin-Whitt beta per load", "C1", "--", "s"),
              ("n_sr_fixed", f"square root, fixed beta = {table['beta_fixed'].iloc[0]:.3f} "
                             "(P(wait) = 20 %)", "C2", ":", "^")]
    for column, label, colour, ls, marker in series:
        top.plot(x, (table[column] - x) / root, ls=ls, marker=marker, ms=4, color=colour, label=label)
    sim = table.dropna(subset=["n_simulation"])
    top.plot(sim["load"], (sim["n_simulation"] - sim["load"]) / np.sqrt(sim["load"]), "kD", ms=6,
             mfc="none", label="simulation (smallest n with simulated SL >= 80 %)")
    top.set_ylabel("safety staffing (n - R) / sqrt(R)")
    top.set_title("Staffing above the load, in units of sqrt(load) (the square-root rule's beta)",
                  loc="left", fontsize=10)
    top.legend(fontsize=8)
    for column, label, colour, ls, marker in series[1:]:
        bottom.plot(x, table[column.replace("n_", "gap_")], ls=ls, marker=marker, ms=4,
                    color=colour, label=label)
    bottom.plot(sim["load"], sim["gap_simulation"], "kD", ms=6, mfc="none", label="simulation")
    bottom.axhline(0, color="C0", lw=1)
    bottom.axhspan(-2, 2, color="0.9", zorder=0, label="within 2 agents")
    bottom.set_ylabel("agents minus exact Erlang C (agents)")
    bottom.set_xlabel("offered load R (Erlangs, log scale)")
    bottom.set_xscale("log")
    bottom.set_title("Gap to the exact answer (negative: misses 80/20)", loc="left", fontsize=10)
    bottom.legend(fontsize=8)
    return fig


def main(argv=None) -> dict:
    args, out, clock = common.start(__doc__, SEED, argv)
    table = staffing_table(args.quick, args.seed, args.workers)
    common.write_csv(table, out / "02_square_root_staffing.csv")
    common.save(figure(table), out / "02_square_root_staffing.png")
    moderate = table[(table["load"] >= MODERATE[0]) & (table["load"] <= MODERATE[1])]
    sim = table.dropna(subset=["n_simulation"])
    key = {
        "beta_fixed": round(float(table["beta_fixed"].iloc[0]), 4),
        "max_abs_gap_hw_moderate": int(moderate["gap_sr_hw"].abs().max()),
        "max_abs_gap_fixed_moderate": int(moderate["gap_sr_fixed"].abs().max()),
        "max_abs_gap_simulation": int(sim["gap_simulation"].abs().max()) if len(sim) else None,
        "seconds": round(clock(), 1),
    }
    print(common.show(table, ["load", "n_exact", "sl_exact", "beta_hw", "n_sr_hw", "gap_sr_hw",
                              "sl_sr_hw", "n_sr_fixed", "gap_sr_fixed", "sl_sr_fixed", "n_simulation",
                              "sl_sim", "sl_sim_below", "sl_sim_exact"]))
    print(f"\n{key}\nwrote {out}/02_square_root_staffing.csv and .png")
    return key


if __name__ == "__main__":
    main()
