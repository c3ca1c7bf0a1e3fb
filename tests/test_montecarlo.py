"""Reproducibility, executors, confidence intervals, results directories and resuming."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from helpers import Staffing, single_queue

import bposim
from bposim.montecarlo import t_interval
from bposim.errors import InputError
from bposim.outputs import ResultsDir, read_manifest


@pytest.fixture(scope="module")
def small():
    return single_queue(120, 180, 8, patience=90, hours=6)


def test_same_seed_same_summary_different_seed_different(small):
    a = bposim.run(small, replications=3, seed=5, executor="serial").summary
    b = bposim.run(small, replications=3, seed=5, executor="serial").summary
    c = bposim.run(small, replications=3, seed=6, executor="serial").summary
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["mean"].fillna(0), c["mean"].fillna(0))


def test_executors_and_worker_counts_give_identical_results(small):
    serial = bposim.run(small, replications=4, seed=21, executor="serial")
    procs = bposim.run(small, replications=4, seed=21, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.summary, procs.summary)
    pd.testing.assert_frame_equal(serial.intervals, procs.intervals)


def test_dask_local_cluster_gives_identical_results(small):
    pytest.importorskip("dask.distributed")
    serial = bposim.run(small, replications=3, seed=4, executor="serial")
    dask = bposim.run(small, replications=3, seed=4, executor="dask", workers=2)
    pd.testing.assert_frame_equal(serial.summary, dask.summary)


def test_replication_streams_do_not_depend_on_the_batch_size(small):
    three = bposim.run(small, replications=3, seed=8, executor="serial").totals
    five = bposim.run(small, replications=5, seed=8, executor="serial").totals
    pd.testing.assert_frame_equal(three, five[five["replication"] < 3].reset_index(drop=True))


def test_common_random_numbers_staffing_change_keeps_the_customers(small):
    more = replace(small, pools=(replace(small.pools[0], staffing=Staffing(agents=9)),))
    a = bposim.simulate(small, seed=3, keep_contacts=True).contacts
    b = bposim.simulate(more, seed=3, keep_contacts=True).contacts
    # the same customers arrive at the same moments, whatever the staffing
    np.testing.assert_array_equal(np.sort(a["arrival"]), np.sort(b["arrival"]))


def test_t_interval_matches_textbook():
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    mean, lo, hi = t_interval(v)
    # t(0.975, 4) = 2.776445; s = 1.581139; half = 2.776445 * 1.581139 / sqrt(5)
    assert mean == 3.0
    assert hi - mean == pytest.approx(1.963243, abs=1e-5)
    assert lo == pytest.approx(mean - (hi - mean))


def test_summary_is_tidy_with_ci_and_n(small):
    res = bposim.run(small, replications=4, seed=1, executor="serial")
    s = res.summary
    assert list(s.columns) == ["metric", "scope", "mean", "ci_low", "ci_high", "n"]
    row = res.metric("service_level", "queue:q")
    assert row["n"] == 4 and row["ci_low"] <= row["mean"] <= row["ci_high"]
    per_rep = res.totals.query("metric == 'service_level' and scope == 'queue:q'")["value"]
    assert row["mean"] == pytest.approx(per_rep.mean())


def test_results_directory_is_complete_and_resumable(small, tmp_path):
    out = tmp_path / "res"
    first = bposim.run_to_directory(small, out, replications=2, seed=3, executor="serial")
    manifest = read_manifest(out)
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 2
    for name in ("summary.csv", "intervals.parquet", "pools.parquet", "scenario.yaml",
                 "baseline.csv", "totals.parquet"):
        assert (out / name).is_file(), name
    # asking for more replications resumes: the first two are kept, not rerun
    (out / "replications" / "rep-00000" / "marker").write_text("kept")
    more = bposim.run_to_directory(small, out, replications=4, seed=3, executor="serial")
    assert more.resumed == 2
    assert (out / "replications" / "rep-00000" / "marker").exists()
    direct = bposim.run(small, replications=4, seed=3, executor="serial")
    pd.testing.assert_frame_equal(more.results.summary, direct.summary)
    assert json.loads((out / "manifest.json").read_text())["replications_completed"] == 4
    assert first.results is not None


def test_results_directory_refuses_another_scenario(small, tmp_path):
    out = tmp_path / "res"
    bposim.run_to_directory(small, out, replications=1, seed=3, executor="serial")
    other = replace(small, name="other")
    with pytest.raises(InputError, match="another scenario"):
        ResultsDir(out, other, 3, 1)
    with pytest.raises(InputError, match="another scenario or seed"):
        ResultsDir(out, small, 4, 1)


def test_interrupted_batch_keeps_finished_replications(small, tmp_path, monkeypatch):
    import bposim.batch as batch

    calls = {"n": 0}
    real = batch.run_replications

    def interrupt_after_two(scenario, reps, seed, **kw):
        def on_result(r):
            kw_on(r)
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt

        kw_on = kw.pop("on_result")
        return real(scenario, reps, seed, on_result=on_result, **kw)

    monkeypatch.setattr(batch, "run_replications", interrupt_after_two)
    out = tmp_path / "res"
    outcome = batch.run_to_directory(small, out, replications=5, seed=2, executor="serial")
    assert outcome.interrupted
    assert read_manifest(out)["status"] == "partial"
    assert len(outcome.results.replications) == 2


def test_run_to_precision_stops_at_the_first_batch_meeting_the_rule(small, tmp_path):
    rule = bposim.Precision.parse("service_level@queue:q=0.015")
    a = bposim.run_to_precision(small, tmp_path / "a", rule, seed=9, executor="serial")
    n = len(a.results.replications)
    assert n % 4 == 0 and 4 <= n < 200
    row = a.results.metric("service_level", "queue:q")
    assert (row["ci_high"] - row["ci_low"]) / 2 <= 0.015
    if n > 4:  # one batch fewer would not have met it
        fewer = bposim.run(small, replications=n - 4, seed=9, executor="serial")
        r = fewer.metric("service_level", "queue:q")
        assert (r["ci_high"] - r["ci_low"]) / 2 > 0.015
    # the stopping point depends on the seed and the rule, not on the workers
    b = bposim.run_to_precision(small, tmp_path / "b", rule, seed=9, workers=2)
    pd.testing.assert_frame_equal(a.results.summary, b.results.summary)


def test_precision_rule_errors_are_clear():
    with pytest.raises(InputError, match="METRIC@SCOPE=HALF_WIDTH"):
        bposim.Precision.parse("service_level=0.01")
    with pytest.raises(InputError, match="half-width > 0"):
        bposim.Precision.parse("service_level@queue:q=0")
