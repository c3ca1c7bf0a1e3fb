"""Backtest: a log bposim generated, calibrated on its first days and replayed on the
others, is reproduced to within sampling noise; the observed figures are independent
counts from the log; Erlang A stands beside it; outputs and errors."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

import bposim
from bposim.calibration.backtest import erlang_patience
from bposim.calibration.logs import read_log
from bposim.calibration.synthetic import generate_log
from bposim.cli import main
from bposim.distributions import DistributionSpec, exponential
from test_calibrate import truth_scenario


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bt")
    log = folder / "log.csv"
    generate_log(truth_scenario(days=4), log, seed=5)
    bposim.calibrate(log, train_days="1-2", out=folder / "cal.yaml")
    bt = bposim.backtest(folder / "cal.yaml", log, days="3-4", replications=6)
    return folder, log, bt


def test_calibrated_model_error_is_at_the_level_of_sampling_noise(replay):
    _, _, bt = replay
    s = bt.summary[(bt.summary["level"] == "interval") & (bt.summary["model"] == "simulation")]
    assert set(s["metric"]) == {"sl", "abandon", "asa"}
    for row in s.itertuples():
        assert row.n >= 30
        # a right model's MAE is noise_mae on average; 1.5x allows for the MAE's own
        # spread over ~36 intervals and the sd estimated from 6 replications
        assert row.mae <= 1.5 * row.noise_mae, row
        assert row.correlation > 0.2, row
    erl = bt.summary[bt.summary["model"] == "Erlang A"]
    assert erl["mae"].notna().all() and (erl["n"] > 0).all()


def test_observed_figures_are_counts_from_the_log(replay):
    _, log, bt = replay
    f = read_log(log).frame
    days = sorted(f["day"].unique())[2:]
    for day, row in zip(days, bt.days.itertuples()):
        d = f[f["day"] == day]
        answered = d["outcome"] == "answered"
        assert row.offered == len(d)
        assert row.obs_abandon == pytest.approx((~answered).mean())
        assert row.obs_sl == pytest.approx((answered & (d["wait"] <= 20)).mean())
        assert row.obs_asa == pytest.approx(d.loc[answered, "wait"].mean())
    # per interval, offered adds up to the day
    per_day = bt.intervals.groupby("day")["offered"].sum()
    assert list(per_day) == list(bt.days["offered"])


def test_erlang_a_gets_the_interval_inputs(replay):
    _, _, bt = replay
    open_ = bt.intervals[(bt.intervals["queue"] == "sales") & (bt.intervals["offered"] >= 10)]
    # the 4 agents serve sales and tech; sales gets most of their time
    assert open_["erlang_agents"].between(2, 4).all()
    assert open_["erlang_sl"].between(0, 1).all() and open_["erlang_abandon"].between(0, 1).all()


def test_erlang_patience_is_exact_for_exponential_and_finite_otherwise():
    assert erlang_patience(exponential(90.0)) == 90.0
    assert erlang_patience(None) == math.inf
    heavy = erlang_patience(DistributionSpec("lognormal", mean=3000.0, cv=8.0))
    # the mean of a heavy tail is set by waits nobody had; the hazard early on is not
    assert 300 < heavy < 3000
    # an exponential sampled through the same route gives its mean back (within 1 %)
    assert erlang_patience(DistributionSpec("gamma", mean=90.0, cv=1.0)) == pytest.approx(90.0, rel=0.01)


def test_cli_writes_tables_and_figure_and_keeps_them(replay):
    folder, log, _ = replay
    out = folder / "out"
    args = ["backtest", str(folder / "cal.yaml"), str(log), "--days", "4", "-n", "2", "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "noise_mae" in r.output and "Erlang A" in r.output
    assert (out / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("intervals", "days", "summary"):
        assert (out / f"backtest_{name}.csv").stat().st_size > 0
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_bad_days_and_unknown_queues_are_clear_errors(replay, tmp_path):
    folder, log, _ = replay
    r = CliRunner().invoke(main, ["backtest", str(folder / "cal.yaml"), str(log), "--days", "9"])
    assert r.exit_code == 2 and "day 9 is outside 1-4" in r.output
    other = tmp_path / "other.csv"
    text = log.read_text().replace(",tech,", ",billing,", 1)
    other.write_text(text)
    r = CliRunner().invoke(main, ["backtest", str(folder / "cal.yaml"), str(other), "--days", "1-4"])
    assert r.exit_code == 2 and "queue 'billing' is not in the scenario" in r.output
    assert "other.csv:" in r.output and "Traceback" not in r.output


def test_two_contacts_a_day_calibrate_and_backtest(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("arrival,queue,answer,end,agent,outcome\n"
                   "2026-01-05 09:00:00,q,2026-01-05 09:00:10,2026-01-05 09:03:00,ann,answered\n"
                   "2026-01-05 09:01:00,q,,2026-01-05 09:01:30,,abandoned\n"
                   "2026-01-06 10:00:00,q,2026-01-06 10:00:00,2026-01-06 10:04:00,ann,answered\n"
                   "2026-01-06 14:00:00,q,2026-01-06 14:00:20,2026-01-06 14:02:00,bob,answered\n")
    cal = bposim.calibrate(log, out=tmp_path / "s.yaml")
    # one abandon: exponential patience only, mean = time at risk / abandons = (10 + 30 + 0 + 20) / 1
    assert cal.queues["q"].patience.chosen == "exponential"
    assert cal.queues["q"].patience.spec.mean == pytest.approx(60.0)
    bt = bposim.backtest(tmp_path / "s.yaml", log, days="1-2", replications=3, min_offered=1)
    assert list(bt.days["offered"]) == [2, 2]
    assert list(bt.days["obs_abandon"]) == [0.5, 0.0] and list(bt.days["obs_sl"]) == [0.5, 1.0]
    # a short session still staffs the interval it answered in: nobody is left unserved
    day2 = bt.intervals[(bt.intervals["day"].astype(str) == "2026-01-06") & (bt.intervals["offered"] > 0)]
    assert (day2["erlang_agents"] >= 1).all() and (day2["sim_abandon"] < 0.5).all()


def test_same_seed_same_backtest_whatever_the_workers(replay):
    folder, log, _ = replay
    one = bposim.backtest(folder / "cal.yaml", log, days="4", replications=2, seed=3, workers=1)
    two = bposim.backtest(folder / "cal.yaml", log, days="4", replications=2, seed=3, workers=2)
    import pandas.testing as pdt

    pdt.assert_frame_equal(one.intervals, two.intervals)
    pdt.assert_frame_equal(one.summary, two.summary)


def test_outputs_and_seed_are_checked_before_the_work(replay, tmp_path, monkeypatch):
    """--out with a file in the way, or a seed out of range, is refused at once (exit 2,
    one line), not after the whole backtest has run."""
    import bposim.calibration

    folder, log, _ = replay

    def never(*args, **kwargs):
        raise AssertionError("the backtest ran before its options were checked")

    monkeypatch.setattr(bposim.calibration, "backtest", never)
    mine = tmp_path / "myfile.txt"
    mine.write_text("mine")
    base = ["backtest", str(folder / "cal.yaml"), str(log), "--days", "4", "-n", "2"]
    for extra, expected in ((["--out", str(mine)], "myfile.txt is a file, not a folder"),
                            (["--out", str(mine / "sub"), "--force"], "myfile.txt is a file, not a folder"),
                            (["--seed", "-1"], "--seed"), (["--seed", str(2**63)], "--seed")):
        r = CliRunner().invoke(main, base + extra)
        assert r.exit_code == 2, r.output
        assert expected in r.output and "Traceback" not in r.output
    assert mine.read_text() == "mine"
    (tmp_path / "out" / "backtest.png").mkdir(parents=True)
    r = CliRunner().invoke(main, base + ["--out", str(tmp_path / "out"), "--force"])
    assert r.exit_code == 2 and "backtest.png is a folder" in r.output
    monkeypatch.undo()
    with pytest.raises(bposim.InputError, match="seed must be an integer from 0"):
        bposim.backtest(folder / "cal.yaml", log, days="4", replications=2, seed=-1)
