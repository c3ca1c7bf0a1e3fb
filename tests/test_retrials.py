"""Retrials after abandonment (queue ``retrial``): against independent counts.

- no ``retrial``, or a probability of 0, records exactly what the engine records today;
- offered = fresh contacts + retrials per interval, counted again from the contact log,
  where every retrial's parent is an abandoned contact of the same queue that hung up
  before the retrial came;
- retrials ≈ probability × abandonments (exact binomial test over replications);
- two arrivals a day with nobody on duty: each customer calls again every
  patience + delay seconds until the horizon ends (hand-checkable);
- the engine invariants hold after every event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from helpers import MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing
from invariants import run_checked
from scipy import stats

from bposim.distributions import deterministic, exponential
from bposim.engine.core import Engine
from bposim.engine.model import compile_scenario
from bposim.engine.recorder import CONTACT_COLUMNS
from bposim.rng import Streams
from bposim.scenario.schema import Retrial, Shift

COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within",
          "unanswered_at_end", "escalated", "repeats", "unresolved", "wait_answered", "wait_all")


def _centre(retrial=None, hours=6, agents=5, keep_contacts=False) -> Scenario:
    """One voice queue, 60 an hour for ``hours`` (then none), AHT 300 s, patience 90 s."""
    vol = tuple([30.0] * (2 * hours) + [0.0] * (48 - 2 * hours))
    q = Queue(id="q", handle_time=exponential(300), arrivals=Arrivals(volumes=vol),
              patience=exponential(90), retrial=retrial)
    return Scenario(name="retrials", horizon=Horizon(start=MONDAY, days=1),
                    queues=(q,), pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=agents)),),
                    simulation=SimulationSettings(keep_contacts=keep_contacts))


def _record(sc, seed):
    return Engine(compile_scenario(sc), Streams(seed)).run()


def _same(a, b) -> None:
    for qa, qb in zip(a.queues, b.queues):
        for name in COUNTS:
            assert getattr(qa, name) == getattr(qb, name), name
        assert [list(w) for w in qa.waits] == [list(w) for w in qb.waits]
        assert qa.queue_area == qb.queue_area
    for pa, pb in zip(a.pools, b.pools):
        assert pa.time == pb.time and pa.handled == pb.handled
    assert a.contacts == b.contacts


def test_probability_zero_records_what_no_retrial_records():
    for seed in (1, 2):
        today = _record(_centre(keep_contacts=True), seed)
        zero = _record(_centre(Retrial(0.0, exponential(60)), keep_contacts=True), seed)
        assert sum(today.queues[0].abandoned) > 20  # there were abandonments to retry
        _same(today, zero)
        assert not any(zero.queues[0].retrials)


def test_offered_is_fresh_plus_retrials_counted_from_the_log():
    rec = _record(_centre(Retrial(0.5, exponential(120)), keep_contacts=True), 3)
    st = rec.queues[0]
    log = [dict(zip(CONTACT_COLUMNS, row)) for row in rec.contacts]
    by_id = {r["contact_id"]: r for r in log}
    fresh = np.zeros(st.n, dtype=int)
    retrials = np.zeros(st.n, dtype=int)
    for r in log:
        i = int(r["arrival"] // 1800)
        if r["origin"] == "retrial":
            retrials[i] += 1
            parent = by_id[r["parent_id"]]
            assert parent["outcome"] == "abandoned" and parent["queue"] == r["queue"]
            assert parent["end"] < r["arrival"]
        else:
            assert r["origin"] == "arrival"
            fresh[i] += 1
    assert retrials.sum() > 20
    assert list(retrials) == st.retrials
    assert list(fresh + retrials) == st.offered
    # every abandoned customer retries at most once per abandonment
    parents = [r["parent_id"] for r in log if r["origin"] == "retrial"]
    assert len(parents) == len(set(parents))


def test_retrials_are_a_binomial_share_of_abandonments():
    p = 0.3
    sc = _centre(Retrial(p, exponential(60)))  # arrivals end 18 h before the horizon: none cut off
    abandoned = retried = 0
    for seed in range(6):
        st = _record(sc, seed).queues[0]
        abandoned += sum(st.abandoned)
        retried += sum(st.retrials)
    assert abandoned > 300
    assert stats.binomtest(retried, abandoned, p).pvalue > 1e-3
    # and the test can fail: the count is far from another probability
    assert stats.binomtest(retried, abandoned, p + 0.1).pvalue < 1e-3


def test_two_arrivals_a_day_retry_until_the_horizon_ends():
    """Nobody on duty (the only shift starts at 23:00 and takes no one from the night),
    patience 100 s, retrial probability 1 after 500 s: a customer arriving at t calls
    at t, t + 600, t + 1200, ... until a call reaches 23:00, when the agent answers it."""
    vol = tuple([1.0] * 2 + [0.0] * 46)  # two a day on average, between 00:00 and 01:00
    q = Queue(id="q", handle_time=deterministic(60), arrivals=Arrivals(volumes=vol),
              patience=deterministic(100), retrial=Retrial(1.0, deterministic(500)))
    pool = Pool(id="p", skills=(Skill("q"),),
                staffing=Staffing(shifts=(Shift(start=dt.time(23), hours=1, agents=1),)))
    sc = Scenario(name="two", horizon=Horizon(start=MONDAY, days=1), queues=(q,), pools=(pool,),
                  simulation=SimulationSettings(keep_contacts=True))
    open_at, end = 23 * 3600.0, 24 * 3600.0
    seen = 0
    for seed in range(1, 6):
        rec = _record(sc, seed)
        log = [dict(zip(CONTACT_COLUMNS, row)) for row in rec.contacts]
        firsts = sorted(r["arrival"] for r in log if r["origin"] == "arrival")
        expected_calls = []
        for t in firsts:
            k = 0
            expected_calls.append((t, 0))
            # call k was abandoned (it ended before anyone came on) and call k + 1 is in the horizon
            while t + 600 * k + 100 < open_at and t + 600 * (k + 1) < end:
                k += 1
                expected_calls.append((t, k))
        calls = sorted(r["arrival"] for r in log)
        assert len(calls) == len(expected_calls) == sum(rec.queues[0].offered)
        np.testing.assert_allclose(calls, sorted(t + 600 * k for t, k in expected_calls), rtol=0, atol=1e-6)
        for r in log:  # abandoned before 23:00, answered at once after it (one agent, 60 s calls)
            if r["arrival"] + 100 <= open_at:
                assert r["outcome"] == "abandoned" and r["end"] == r["arrival"] + 100
        assert sum(rec.queues[0].retrials) == len(calls) - len(firsts)
        seen += len(firsts)
    assert seen >= 4


def test_invariants_with_retrials_after_every_event():
    rec, events = run_checked(_centre(Retrial(0.6, exponential(200)), hours=3, agents=4), seed=5)
    assert sum(rec.queues[0].retrials) > 10 and events > 500


def test_retrials_only_on_the_queue_that_has_them():
    """Two queues, only one with retrials: the other never gets one."""
    sc = _centre(Retrial(0.5, exponential(60)), hours=1, agents=4)
    other = dataclasses.replace(sc.queues[0], id="r", retrial=None)
    sc = dataclasses.replace(sc, queues=(sc.queues[0], other),
                             pools=(Pool(id="p", skills=(Skill("q"), Skill("r")), staffing=Staffing(agents=4)),))
    rec, _ = run_checked(sc, seed=2)
    assert sum(rec.queues[0].retrials) > 0 and sum(rec.queues[1].retrials) == 0
    assert sum(rec.queues[1].abandoned) > 0


def test_frames_report_fresh_contacts_and_retrials_apart():
    """offered_fresh + retrials = offered per interval; offered_fresh totals the log's
    first attempts; a queue without retrial has neither column."""
    from bposim.metrics import replication_metrics

    sc = _centre(Retrial(0.5, exponential(120)), keep_contacts=True)
    model = compile_scenario(sc)
    rec = Engine(model, Streams(4)).run()
    r = replication_metrics(model, rec)
    q = r.intervals
    np.testing.assert_array_equal(q["offered_fresh"] + q["retrials"], q["offered"])
    t = r.totals.set_index(["metric", "scope"])["value"]
    origins = [row[CONTACT_COLUMNS.index("origin")] for row in rec.contacts]
    assert t[("offered_fresh", "queue:q")] == origins.count("arrival")
    assert t[("retrials", "queue:q")] == origins.count("retrial") > 0
    plain = compile_scenario(_centre())
    frame = replication_metrics(plain, Engine(plain, Streams(4)).run()).intervals
    assert "retrials" not in frame.columns and "offered_fresh" not in frame.columns


def test_fresh_contacts_are_the_forecast_and_retrials_come_on_top():
    """offered_fresh is the Poisson arrivals alone: its replication mean holds the
    forecast volume (t-interval), while offered exceeds it by the retrials."""
    from helpers import assert_matches

    sc = _centre(Retrial(0.5, exponential(120)), hours=3, agents=4)
    volume = sum(sc.queues[0].arrivals.volumes)
    fresh, offered = [], []
    for seed in range(10):
        st = _record(sc, seed).queues[0]
        fresh.append(sum(st.offered) - sum(st.retrials))
        offered.append(sum(st.offered))
    assert_matches(np.asarray(fresh, float), volume, label="fresh contacts")
    assert min(np.asarray(offered) - np.asarray(fresh)) > 0.1 * volume


def test_the_work_estimate_counts_retrials_and_refuses_a_retrial_loop():
    """Every attempt abandoning is the worst case: contacts × 1/(1 − p) (geometric series),
    and no more attempts than patience + delay cycles fit in the horizon; a certain retrial
    after a millisecond of patience and delay would otherwise run for hours (found by review)."""
    from bposim.workload import WorkloadError, check_workload, estimate_workload

    plain = estimate_workload(_centre(), 1).contacts
    assert plain == 360.0  # 30 per half hour for 6 hours
    half = _centre(Retrial(0.5, exponential(600)))
    assert estimate_workload(half, 1).contacts == 2 * plain
    loop = dataclasses.replace(half, queues=(dataclasses.replace(
        half.queues[0], patience=exponential(0.001), retrial=Retrial(1.0, exponential(0.001))),))
    assert estimate_workload(loop, 1).contacts >= plain * 86400 / 0.002
    with pytest.raises(WorkloadError, match="contacts per replication"):
        check_workload(loop)
