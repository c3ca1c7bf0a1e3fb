"""The research experiments (experiments/NN_*.py) at --quick size: each one's scientific
claim, asserted with tolerances, and a smoke test that each script writes its tables
and figures.

The experiments use fixed seeds, so these checks are deterministic; the tolerances
say how far the claim may be from the numbers before it is considered broken.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
sys.path.insert(0, str(EXPERIMENTS))

import common  # noqa: E402

from bposim import erlang  # noqa: E402

exp1 = common.load_experiment("01_erlang_validation")
exp2 = common.load_experiment("02_square_root_staffing")
exp3 = common.load_experiment("03_sme_escalation")
exp4 = common.load_experiment("04_sourcing_mix")
exp5 = common.load_experiment("05_anonymous_bank")
exp6 = common.load_experiment("06_calibrate_backtest")

WORKERS = 2
PNG = b"\x89PNG\r\n\x1a\n"


# --- 1: simulation vs Erlang C / A; Erlang C over-staffs with abandonment ----------------


@pytest.fixture(scope="module")
def erlang_runs():
    sims = exp1.simulations(exp1.QUICK, exp1.SEED, WORKERS)
    return (exp1.validation_table(True, exp1.SEED, WORKERS, sims),
            exp1.staffing_table(True, exp1.SEED, WORKERS, sims))


def test_simulation_matches_erlang_c_and_a_within_99_9_percent(erlang_runs):
    table, _ = erlang_runs
    assert set(table["model"]) == {"Erlang C", "Erlang A"}
    assert set(table["metric"]) == {"p_wait", "sl_offered", "asa", "abandon_rate"}
    # no bias allowance needed: warm-up and run length scale with the relaxation time
    bad = table[~table["within_999"]]
    assert bad.empty, bad.to_string()
    assert (table["replications"] >= 8).all()


def test_erlang_c_needs_at_least_as_many_agents_as_erlang_a():
    t = exp1.analytic_staffing()
    finite = t[np.isfinite(t["patience"])]
    assert (finite["n_erlang_c"] >= finite["n_erlang_a"]).all()
    assert (finite["n_erlang_c"] > finite["n_erlang_a"]).any()
    # strictly more at every load here, and more the less patient the callers
    assert (finite["n_erlang_c"] > finite["n_erlang_a"]).all()
    for _load, g in finite.groupby("load"):
        assert g.sort_values("patience")["n_erlang_a"].is_monotonic_increasing
    # Erlang A at patience inf is Erlang C
    inf = t[~np.isfinite(t["patience"])]
    assert (inf["n_erlang_c"] == inf["n_erlang_a"]).all()
    # the documented example: 120 s patience at 100 Erlangs, 11 agents (11 %) fewer
    row = finite[(finite["load"] == 100) & (finite["patience"] == 120)].iloc[0]
    assert (row["n_erlang_c"], row["n_erlang_a"]) == (107, 96)


def test_simulation_based_staffing_agrees_with_erlang_a_within_one_agent(erlang_runs):
    _, staffing = erlang_runs
    assert len(staffing) >= 2
    assert ((staffing["n_simulation"] - staffing["n_erlang_a"]).abs() <= 1).all(), staffing.to_string()
    # the defining property of the simulated requirement
    assert (staffing["sl_sim"] >= exp1.TARGET).all()
    assert (staffing["sl_sim_below"] < exp1.TARGET).all()
    assert (staffing["n_erlang_c"] > staffing["n_simulation"]).all()


# --- 2: square-root staffing -----------------------------------------------------------


def test_square_root_rule_is_within_two_agents_and_exact_is_never_worse():
    t = exp2.analytic_table()
    moderate = t[(t["load"] >= exp2.MODERATE[0]) & (t["load"] <= exp2.MODERATE[1])]
    assert len(moderate) >= 8
    assert (moderate["gap_sr_hw"].abs() <= 2).all(), moderate.to_string()
    # exact staffing meets the target, one agent fewer does not: no rule can do better
    assert (t["sl_exact"] >= exp2.TARGET).all()
    one_less = erlang.service_level(t["load"].to_numpy(), t["n_exact"].to_numpy() - 1, exp2.AHT, exp2.T)
    assert (one_less < exp2.TARGET).all()
    for rule in ("sr_hw", "sr_fixed"):
        under = t[t[f"n_{rule}"] < t["n_exact"]]
        assert (under[f"sl_{rule}"] < exp2.TARGET).all()
    # the fixed beta (P(wait) = 20 %) ignores T and over-staffs more and more with load
    assert t["beta_fixed"].iloc[0] == pytest.approx(1.0615, abs=1e-3)
    big = t[t["load"] >= 100]
    assert (big["gap_sr_fixed"] > 2).all() and big["gap_sr_fixed"].is_monotonic_increasing


def test_simulation_staffing_matches_exact_erlang_c():
    t = exp2.staffing_table(quick=True, workers=WORKERS)
    sim = t.dropna(subset=["n_simulation"])
    assert len(sim) == len(exp2.QUICK["sim_loads"])
    assert ((sim["n_simulation"] - sim["n_exact"]).abs() <= 1).all(), sim.to_string()
    n = exp2.QUICK["replications"]
    widen = stats.t.ppf(0.9995, n - 1) / stats.t.ppf(0.975, n - 1)  # 95 % -> 99.9 %
    half = (sim["sl_sim_exact"] - sim["sl_sim_exact_low"]) * widen
    assert ((sim["sl_sim_exact"] - sim["sl_exact"]).abs() <= half).all(), sim.to_string()


# --- 3: SME escalation -----------------------------------------------------------------


def test_sme_load_rises_and_service_falls_with_escalation():
    table = exp3.escalation_table(quick=True, workers=WORKERS)
    assert sorted(table["rate"].unique()) == list(exp3.RATES)

    def steps(quantity):
        f = table[(table["quantity"] == quantity) & table["step_mean"].notna()]
        assert len(f) == len(exp3.RATES) - 1
        return f

    util = steps("sme_utilisation")
    assert (util["step_ci_low"] > 0).all(), util.to_string()       # paired: up at every step
    sl = steps("sme_sl")
    assert (sl["step_ci_high"] < 0).all(), sl.to_string()          # paired: down at every step
    assert (steps("sme_asa")["step_mean"] > 0).all()
    assert (steps("e2e_sl")["step_mean"] < 0).all()
    # consults hold tier-1 agents: the front door suffers too, 5 % -> 25 %
    front = table[(table["quantity"] == "tier1_sl") & (table["rate"] == max(exp3.RATES))].iloc[0]
    assert front["diff_ci_high"] < 0
    # the end-to-end level is never above the front door's
    w = exp3.wide(table)
    assert (w["e2e_sl"] <= w["tier1_sl"] + 1e-12).all()


# --- 4: sourcing mix -------------------------------------------------------------------


def test_offshore_mix_costs_less_and_onshore_more_exactly():
    table = exp4.mix_table(quick=True, workers=WORKERS)
    cost = table[table["metric"] == "cost"].set_index("variant")
    assert list(cost.index) == ["sourcing_mix", "onshore_heavy", "offshore_heavy"]
    assert (cost["ci_low"] == cost["mean"]).all() and (cost["ci_high"] == cost["mean"]).all()
    assert cost.loc["offshore_heavy", "mean"] < cost.loc["sourcing_mix", "mean"] < cost.loc["onshore_heavy", "mean"]
    assert cost.loc["offshore_heavy", "diff_ci_high"] < 0 < cost.loc["onshore_heavy", "diff_ci_low"]
    # cost is the roster's paid hours x each site's rate, to the cent
    rates = exp4.site_rates(exp4.bposim.load_scenario(exp4.SCENARIO))
    for variant, c in cost["mean"].items():
        hours = table[(table["variant"] == variant) & (table["metric"] == "paid_hours")]
        by_site = dict(zip(hours["scope"].str[5:], hours["mean"]))
        assert c == pytest.approx(sum(rates[s] * h for s, h in by_site.items()), abs=0.01)
    # offshore's lower FCR brings more repeat contacts (paired)
    repeats = table[(table["metric"] == "repeats") & (table["variant"] == "offshore_heavy")].iloc[0]
    assert repeats["diff_ci_low"] > 0


# --- 5: Anonymous Bank -----------------------------------------------------------------


def test_anonymous_bank_abandonment_is_reproduced_with_effective_staffing():
    if exp5.data_path() is None:
        pytest.skip("Anonymous Bank data not found beside the repository (../shared/data)")
    day = exp5.bank_table(quick=True, workers=WORKERS)
    ab = day[day["quantity"] == "abandon"].set_index("staffing")
    observed = ab["observed"].iloc[0]
    assert 0.2 < observed < 0.3
    # staffing = PS work delivered: abandonment within 10 points and a factor 1.5
    busy = ab.loc["busy", "simulated"]
    assert abs(busy - observed) <= 0.10 and observed / 1.5 <= busy <= observed * 1.5
    # staffing = distinct agents seen per hour overstates capacity: far too few abandon
    assert ab.loc["servers", "simulated"] < observed / 2


# --- 6: calibrate on days 1-10, backtest on 11-15 ----------------------------------------


@pytest.fixture(scope="module")
def bank_backtest():
    if exp6.data_path() is None:
        pytest.skip("Anonymous Bank data not found beside the repository (../shared/data)")
    return exp6.run(quick=True, workers=WORKERS)


def test_calibrated_bank_reproduces_daily_abandonment_but_overstates_service(bank_backtest):
    cal, bt = bank_backtest
    assert len(cal.train_days) == 10 and list(bt.days["day"].astype(str)) == [
        "1999-08-11", "1999-08-12", "1999-08-13", "1999-08-14", "1999-08-15"]
    s = bt.summary.set_index(["level", "metric", "model"])
    # daily abandonment: the calibrated simulation within 6 points on average
    assert s.loc[("day", "abandon", "simulation"), "mae"] <= 0.06
    # service level: simulation and Erlang A both above the log on every day (no
    # priorities, no redials in the model), by 5 points or more on average
    d = bt.days
    assert (d["sim_sl"] > d["obs_sl"]).all() and (d["erlang_sl"] > d["obs_sl"]).all()
    assert s.loc[("day", "sl", "simulation"), "mae"] >= 0.05
    # the log shows what the engine cannot take yet: redials and priority overtaking
    assert cal.redials["probability"] > 0.3
    assert (cal.overtaking["share"] > 0).any()


# --- smoke: every script writes its outputs --------------------------------------------

OUTPUTS = {
    "01_erlang_validation": ["01_erlang_validation.csv", "01_erlang_staffing.csv",
                             "01_erlang_validation.png", "01_erlang_overstaffing.png"],
    "02_square_root_staffing": ["02_square_root_staffing.csv", "02_square_root_staffing.png"],
    "03_sme_escalation": ["03_sme_escalation.csv", "03_sme_escalation.png"],
    "04_sourcing_mix": ["04_sourcing_mix.csv", "04_sourcing_mix.png", "04_sourcing_mix_differences.png"],
    "05_anonymous_bank": ["05_anonymous_bank.csv", "05_anonymous_bank_hourly.csv", "05_anonymous_bank.png"],
    "06_calibrate_backtest": ["06_calibration.csv", "06_backtest_days.csv", "06_backtest_summary.csv",
                              "06_backtest_intervals.csv", "06_backtest.png", "06_patience.png"],
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_script_writes_its_tables_and_figures(name, tmp_path, capsys):
    module = common.load_experiment(name)
    key = module.main(["--quick", "--out", str(tmp_path), "--workers", str(WORKERS)])
    assert isinstance(key, dict)
    if key.get("skipped"):
        assert "skipping" in capsys.readouterr().out
        pytest.skip("Anonymous Bank data not found beside the repository")
    for file in OUTPUTS[name]:
        path = tmp_path / file
        assert path.is_file() and path.stat().st_size > 0, file
        if file.endswith(".png"):
            assert path.read_bytes()[:8] == PNG
        else:
            frame = pd.read_csv(path)
            assert len(frame) > 0 and not frame.columns.str.startswith("Unnamed").any()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUTS[name])


def test_bank_experiment_skips_cleanly_without_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(exp5, "data_path", lambda: None)
    assert exp5.bank_table(quick=True) is None
    assert exp5.main(["--quick", "--out", str(tmp_path)]) == {"skipped": True}
    assert "skipping experiment 5" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())


def test_calibration_experiment_skips_cleanly_without_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(exp6, "data_path", lambda: None)
    assert exp6.run(quick=True) is None
    assert exp6.main(["--quick", "--out", str(tmp_path)]) == {"skipped": True}
    assert "skipping experiment 6" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())


def test_every_experiment_has_quick_out_and_a_fixed_seed():
    for name in OUTPUTS:
        module = common.load_experiment(name)
        args = common.parser("x", module.SEED).parse_args(["--quick"])
        assert args.quick and args.out == common.RESULTS and args.seed == module.SEED
        assert math.isfinite(module.SEED)
