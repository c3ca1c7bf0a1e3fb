"""Callbacks (virtual hold, queue ``callback``): against theory and independent counts.

- with common random numbers, offering callbacks lowers abandonment (paired difference
  over replications: its t-interval lies below 0);
- accepted ≈ acceptance × offered callbacks, failed ≈ (1 − success)^attempts ×
  accepted (exact binomial tests); completed + failed + pending = accepted;
- the expected-wait estimator: with acceptance 0 nothing else changes, and a callback
  is offered exactly to the arrivals that found as many contacts waiting as the
  threshold implies (counted again from the contact log);
- a scheduled callback connects ``delay`` after the offer when an agent is free;
- two arrivals a night while only an overflow pool is on duty: hand-checkable times
  for success and for every attempt failing; with nobody on duty no callback is offered;
- the engine invariants hold after every event, in both modes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from helpers import MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing
from invariants import run_checked
from scipy import stats

from bposim.distributions import deterministic, exponential
from bposim.engine.callbacks import MISS_SECONDS
from bposim.engine.core import Engine
from bposim.engine.model import compile_scenario
from bposim.engine.recorder import CONTACT_COLUMNS, STATE_NAMES
from bposim.rng import Streams
from bposim.scenario.schema import Callback, Shift

COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within",
          "unanswered_at_end", "escalated", "repeats", "unresolved", "wait_answered", "wait_all")


def _centre(callback=None, hours=4, agents=9, rate=120.0, aht=240.0, keep_contacts=False) -> Scenario:
    """One voice queue, ``rate`` an hour for ``hours`` (then none), exponential handle
    times and patience of 120 s; 9 agents for 8 Erlangs by default."""
    vol = tuple([rate / 2] * (2 * hours) + [0.0] * (48 - 2 * hours))
    q = Queue(id="q", handle_time=exponential(aht), arrivals=Arrivals(volumes=vol),
              patience=exponential(120), callback=callback)
    return Scenario(name="callbacks", horizon=Horizon(start=MONDAY, days=1), queues=(q,),
                    pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=agents)),),
                    simulation=SimulationSettings(keep_contacts=keep_contacts))


def _record(sc, seed):
    return Engine(compile_scenario(sc), Streams(seed)).run()


def _log(rec) -> list[dict]:
    return [dict(zip(CONTACT_COLUMNS, row)) for row in rec.contacts]


def _total(rec, name) -> float:
    return float(sum(getattr(rec.queues[0], name)))


def test_callbacks_lower_abandonment_with_common_random_numbers():
    base = _centre()
    with_cb = _centre(Callback(offer_when_wait_over=30, acceptance=0.6))
    diffs = []
    for seed in range(8):
        a, b = _record(base, seed), _record(with_cb, seed)
        assert _total(a, "offered") == _total(b, "offered")  # the same customers arrive
        diffs.append(_total(b, "abandoned") / _total(b, "offered") - _total(a, "abandoned") / _total(a, "offered"))
    d = np.asarray(diffs)
    upper = d.mean() + stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert upper < 0, diffs


def test_accepted_and_failed_are_binomial_and_callbacks_are_conserved():
    acceptance, success, attempts = 0.4, 0.5, 2
    sc = _centre(Callback(offer_when_wait_over=30, acceptance=acceptance, success=success,
                          attempts=attempts, retry_minutes=5))
    n = {k: 0 for k in ("callbacks_offered", "callbacks_accepted", "callbacks_completed",
                        "callbacks_failed", "callbacks_pending")}
    for seed in range(4):
        rec = _record(sc, seed)
        st = rec.queues[0]
        for i in range(st.n):
            assert st.callbacks_accepted[i] == (st.callbacks_completed[i] + st.callbacks_failed[i]
                                                + st.callbacks_pending[i])
            assert st.offered[i] == (st.answered[i] + st.abandoned[i] + st.unanswered_at_end[i]
                                     + st.callbacks_failed[i])
        for k in n:
            n[k] += _total(rec, k)
    n = {k: int(v) for k, v in n.items()}
    assert n["callbacks_offered"] > 300 and n["callbacks_pending"] == 0  # arrivals end hours before the horizon
    assert stats.binomtest(n["callbacks_accepted"], n["callbacks_offered"], acceptance).pvalue > 1e-3
    p_fail = (1 - success) ** attempts
    assert stats.binomtest(n["callbacks_failed"], n["callbacks_accepted"], p_fail).pvalue > 1e-3
    assert stats.binomtest(n["callbacks_failed"], n["callbacks_accepted"], 1 - success).pvalue < 1e-3


def _waiting_at_arrival(log) -> list[int]:
    """For each contact (log order sorted by arrival), how many others were waiting
    when it arrived (arrived before it, answered or gone after it)."""
    rows = sorted(log, key=lambda r: r["arrival"])
    out = []
    for k, r in enumerate(rows):
        t = r["arrival"]
        out.append(sum(1 for o in rows[:k] if (o["answer"] if o["answer"] is not None else o["end"]) > t))
    return rows, out


def test_offers_follow_the_expected_wait_estimator_and_acceptance_zero_changes_nothing():
    """9 agents, AHT 240 s: a contact that must wait behind k others is told
    (k + 1) × 240 / 9 s; with a threshold of 70 s the offer goes to those behind 2 or
    more (3 × 26.7 = 80 > 70, 2 × 26.7 = 53 ≤ 70)."""
    base = _centre(keep_contacts=True, rate=140)
    never = _centre(Callback(offer_when_wait_over=70, acceptance=0.0), keep_contacts=True, rate=140)
    for seed in (1, 2):
        a, b = _record(base, seed), _record(never, seed)
        for name in COUNTS:
            assert getattr(a.queues[0], name) == getattr(b.queues[0], name), name
        assert a.contacts == b.contacts and a.pools[0].time == b.pools[0].time
        rows, ahead = _waiting_at_arrival(_log(a))
        expected = sum(1 for r, k in zip(rows, ahead) if k >= 2)
        assert expected > 20
        assert _total(b, "callbacks_offered") == expected
        assert _total(b, "callbacks_accepted") == 0


def test_the_estimator_counts_overflow_pools_when_only_they_serve_the_queue():
    """Only an overflow pool (after 30 s) serves the queue: its 4 agents on duty give
    (k + 1) × 240 / 4 s, so with a threshold of 100 s every caller who finds another
    waiting is offered a callback (2 × 60 = 120 > 100), a caller alone is not."""
    base = _centre(keep_contacts=True, agents=4, rate=50)
    flex = dataclasses.replace(base.pools[0], skills=(Skill("q", overflow_after=30),))
    base = dataclasses.replace(base, pools=(flex,))
    never = dataclasses.replace(base, queues=(dataclasses.replace(
        base.queues[0], callback=Callback(offer_when_wait_over=100, acceptance=0.0)),))
    a, b = _record(base, 3), _record(never, 3)
    rows, ahead = _waiting_at_arrival(_log(a))
    expected = sum(1 for k in ahead if k >= 1)
    assert 20 < expected < len(rows)
    assert _total(b, "callbacks_offered") == expected


def test_a_scheduled_callback_connects_delay_after_the_offer():
    """One agent swamped from 01:00 to 01:30 (40 calls), twenty more from 01:30; success
    1 and a delay of 40 minutes: every callback enters the line when agents are free,
    so each connects exactly 2400 s after its arrival."""
    vol = tuple([0.0] * 2 + [40.0] + [0.0] * 45)
    q = Queue(id="q", handle_time=exponential(240), arrivals=Arrivals(volumes=vol),
              patience=exponential(300),
              callback=Callback(offer_when_wait_over=60, acceptance=1.0, mode="scheduled",
                                delay_minutes=40, success=1.0))
    pool = Pool(id="p", skills=(Skill("q"),), staffing=Staffing(
        shifts=(Shift(start=dt.time(0), hours=24, agents=1), Shift(start=dt.time(1, 30), hours=4, agents=20))))
    sc = Scenario(name="sched", horizon=Horizon(start=MONDAY, days=1), queues=(q,), pools=(pool,),
                  simulation=SimulationSettings(keep_contacts=True))
    rec, _ = run_checked(sc, seed=4)
    completed = int(_total(rec, "callbacks_completed"))
    assert completed > 20 and completed == _total(rec, "callbacks_accepted")
    waits = [r["wait"] for r in _log(rec) if r["outcome"] == "answered" and r["wait"] > 2000]
    assert len(waits) == completed
    np.testing.assert_allclose(waits, 2400.0, rtol=0, atol=1e-6)
    assert abs(sum(rec.queues[0].time_to_callback) - 2400.0 * completed) < 1e-6


def _two_a_night(callback, night_cover=True) -> Scenario:
    """About two calls between 00:00 and 01:00; one agent from 08:00 (60 s calls). With
    ``night_cover``, one agent of a second pool is on duty all day but takes a call only
    after it has waited 12 hours (never, here): the centre is open, yet the pool that
    answers at once has nobody on duty, so the expected wait is infinite."""
    vol = tuple([1.0] * 2 + [0.0] * 46)
    q = Queue(id="q", handle_time=deterministic(60), arrivals=Arrivals(volumes=vol),
              patience=deterministic(600), callback=callback)
    pools = (Pool(id="p", skills=(Skill("q"),),
                  staffing=Staffing(shifts=(Shift(start=dt.time(8), hours=8, agents=1),))),)
    if night_cover:
        pools += (Pool(id="late", skills=(Skill("q", overflow_after=12 * 3600.0),), staffing=Staffing(agents=1)),)
    return Scenario(name="two", horizon=Horizon(start=MONDAY, days=1), queues=(q,), pools=pools,
                    simulation=SimulationSettings(keep_contacts=True))


def test_no_callback_is_offered_when_nobody_serving_the_queue_is_on_duty():
    """The centre is closed (no agent of any pool serving the queue on duty): a caller is
    not offered a callback (to be called back when it opens) but waits, and with a
    patience of 600 s abandons exactly 600 s after arriving."""
    sc = _two_a_night(Callback(offer_when_wait_over=120, acceptance=1.0, success=1.0), night_cover=False)
    seen = 0
    for seed in range(1, 6):
        rec, _ = run_checked(sc, seed)
        log = _log(rec)
        assert _total(rec, "callbacks_offered") == 0 and _total(rec, "abandoned") == len(log)
        for r in log:
            assert r["outcome"] == "abandoned" and r["end"] == r["arrival"] + 600.0
        seen += len(log)
    assert seen >= 4


def test_two_arrivals_a_night_kept_in_place_are_called_back_at_eight():
    """Nobody on duty in the pool answering at once: the expected wait is infinite, so
    each caller is offered a callback, accepts (acceptance 1) and keeps the place (no abandonment after 600 s);
    at 08:00 the agent calls them back in arrival order, 60 s each."""
    sc = _two_a_night(Callback(offer_when_wait_over=120, acceptance=1.0, success=1.0))
    seen = 0
    for seed in range(1, 6):
        rec, _ = run_checked(sc, seed)
        log = sorted(_log(rec), key=lambda r: r["arrival"])
        for k, r in enumerate(log):
            assert r["outcome"] == "answered" and r["answer"] == 8 * 3600.0 + 60 * k
        n = len(log)
        assert _total(rec, "callbacks_offered") == _total(rec, "callbacks_completed") == n
        assert _total(rec, "abandoned") == 0
        assert sum(rec.queues[0].time_to_callback) == sum(8 * 3600.0 + 60 * k - r["arrival"]
                                                          for k, r in enumerate(log))
        seen += n
    assert seen >= 4


def test_two_arrivals_a_night_every_attempt_failing():
    """Success 0, two attempts 10 minutes apart: at 08:00 the agent rings the first
    caller out for 30 s, then the second; each goes back to the line at +10 min and is
    rung out again; each contact ends as a failed callback, and the agent's talk time
    is 30 s per attempt."""
    sc = _two_a_night(Callback(offer_when_wait_over=120, acceptance=1.0, success=0.0, attempts=2,
                               retry_minutes=10))
    seen = 0
    for seed in range(1, 6):
        rec, _ = run_checked(sc, seed)
        log = sorted(_log(rec), key=lambda r: r["arrival"])
        n = len(log)
        for k, r in enumerate(log):
            first = 8 * 3600.0 + MISS_SECONDS * k
            assert r["outcome"] == "callback_failed" and r["answer"] is None and r["agent"] is None
            assert r["end"] == first + MISS_SECONDS + 600 + MISS_SECONDS
        assert _total(rec, "callbacks_failed") == n and _total(rec, "answered") == 0
        talk = sum(rec.pools[0].time[STATE_NAMES.index("handling")])
        assert talk == 2 * MISS_SECONDS * n
        seen += n
    assert seen >= 4


def test_callbacks_pending_at_the_end_are_unanswered():
    """Scheduled 60 minutes later, for calls in the last half hour: still pending."""
    vol = tuple([0.0] * 47 + [60.0])
    sc = _centre(Callback(offer_when_wait_over=10, acceptance=1.0, mode="scheduled", delay_minutes=60),
                 agents=1)
    sc = dataclasses.replace(sc, queues=(dataclasses.replace(sc.queues[0], arrivals=Arrivals(volumes=vol)),))
    rec, _ = run_checked(sc, seed=1)
    pending = _total(rec, "callbacks_pending")
    assert pending > 20 and pending == _total(rec, "callbacks_accepted")
    assert _total(rec, "unanswered_at_end") >= pending


def test_invariants_after_every_event_in_both_modes():
    for mode, extra in (("keep_place", {}), ("scheduled", {"delay_minutes": 5})):
        cb = Callback(offer_when_wait_over=20, acceptance=0.7, mode=mode, success=0.6, attempts=3,
                      retry_minutes=2, **extra)
        rec, events = run_checked(_centre(cb, hours=2, agents=7), seed=3)
        assert _total(rec, "callbacks_failed") > 0 and _total(rec, "callbacks_completed") > 20, mode


def test_frames_and_the_run_summary_give_the_callback_line(monkeypatch):
    """time_to_callback is the mean connection − arrival of the log's completed
    callbacks (here every contact is one); the acceptance is accepted / offered; the run
    summary shows the callback columns only for a scenario with callbacks."""
    import bposim
    from bposim.cli.simulate import summary_tables
    from bposim.metrics import replication_metrics

    sc = _two_a_night(Callback(offer_when_wait_over=120, acceptance=1.0, success=1.0))
    model = compile_scenario(sc)
    rec = Engine(model, Streams(6)).run()
    log = _log(rec)
    assert len(log) >= 2
    r = replication_metrics(model, rec)
    t = r.totals.set_index(["metric", "scope"])["value"]
    expected = np.mean([x["answer"] - x["arrival"] for x in log])
    assert abs(t[("time_to_callback", "queue:q")] - expected) < 1e-6 and expected > 7 * 3600
    assert t[("callback_acceptance", "queue:q")] == 1.0
    assert t[("callbacks_completed", "queue:q")] == len(log)
    monkeypatch.setenv("COLUMNS", "400")
    busy = _centre(Callback(offer_when_wait_over=30, acceptance=0.5), hours=1)
    for scenario, shown in ((busy, True), (_centre(hours=1), False)):
        res = bposim.run(scenario, replications=2, seed=2, executor="serial", engine="simpy")
        text = summary_tables(res, bposim.run_baseline(compile_scenario(scenario)))
        assert ("callbacks accepted" in text) == shown and ("time to callback" in text) == shown


def test_callbacks_kept_in_place_that_always_connect_turn_erlang_a_into_erlang_c():
    """Every caller who would wait accepts a keep_place callback that always connects:
    nobody abandons, the line keeps its order and service, so the centre is M/M/n —
    P(wait) and ASA (waits = times to callback) are Erlang C's, not Erlang A's."""
    import bposim
    from bposim import erlang
    from helpers import assert_matches, single_queue, values

    sc = single_queue(200, 180, 12, patience=120, hours=6, warmup_minutes=60)
    cb = Callback(offer_when_wait_over=1, acceptance=1.0, success=1.0)
    sc = dataclasses.replace(sc, queues=(dataclasses.replace(sc.queues[0], callback=cb),))
    res = bposim.run(sc, replications=10, seed=3, executor="serial", engine="simpy")
    load = 200 * 180 / 3600
    assert values(res, "abandoned", "queue:q").sum() == 0
    assert_matches(values(res, "p_wait", "queue:q"), float(erlang.erlang_c(load, 12)), label="P(wait)")
    assert_matches(values(res, "asa", "queue:q"), float(erlang.asa(load, 12, 180)), label="ASA")
    erlang_a = erlang.erlang_a(load, 12, 180, 120, 20)
    assert values(res, "asa", "queue:q").mean() > 1.5 * float(erlang_a.asa)  # the test can tell them apart


def test_without_patience_kept_in_place_callbacks_change_no_wait():
    """No abandonment and every callback connects: the line, its order and its service
    are unchanged, so the recording is the one without callbacks but for their counts."""
    base = _centre(keep_contacts=True)
    base = dataclasses.replace(base, queues=(dataclasses.replace(base.queues[0], patience=None),))
    cb = dataclasses.replace(base, queues=(dataclasses.replace(
        base.queues[0], callback=Callback(offer_when_wait_over=1, acceptance=1.0, success=1.0)),))
    a, b = _record(base, 2), _record(cb, 2)
    for name in COUNTS:
        assert getattr(a.queues[0], name) == getattr(b.queues[0], name), name
    assert a.contacts == b.contacts
    accepted = _total(b, "callbacks_accepted")
    assert accepted == _total(b, "callbacks_completed") > 20
    waited = sum(r[CONTACT_COLUMNS.index("wait")] for r in a.contacts if r[CONTACT_COLUMNS.index("wait")] > 0)
    assert abs(sum(b.queues[0].time_to_callback) - waited) < 1e-9 * waited
