"""SME non-call work: QA reviews of a sampled share of closed contacts and coaching of
new hires, against binomial counts and plain arithmetic, with the engine's invariants
checked after every event."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pytest
from helpers import (
    MONDAY, Arrivals, Escalation, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill,
    Staffing, deterministic, exponential,
)
from invariants import run_checked

from bposim.engine.core import Engine
from bposim.engine.model import compile_scenario
from bposim.engine.recorder import STATE_NAMES
from bposim.metrics import replication_metrics
from bposim.rng import Streams
from bposim.scenario.schema import BacklogBlock, Break, Coaching, Proficiency, QaReview, Shift

H = 3600.0
QA_TIME = 300.0
QA_SHARE = 0.1


def _centre(qa=True, coaching=None, sme_agents=2, proficiency=None, days=1, email=False,
            escalation=0.05) -> Scenario:
    """Tier 1 answers calls all day (load 4 on 6 agents) and transfers 5 % to the SMEs,
    who review a share of tier 1's closed contacts."""
    calls = Queue(id="calls", handle_time=exponential(240), arrivals=Arrivals(volumes=tuple([30.0] * 48)),
                  patience=exponential(300), escalations=(Escalation(to="expert", probability=escalation),))
    expert = Queue(id="expert", handle_time=exponential(400))  # never abandons: SME load is fixed
    queues = [calls, expert]
    front_skills = [Skill("calls")]
    if email:
        queues.append(Queue(id="mail", channel="email", handle_time=exponential(500),
                            arrivals=Arrivals(volumes=tuple([5.0] * 48)), due_within_hours=3.0))
        front_skills.append(Skill("mail"))
    front = Pool(id="front", skills=tuple(front_skills), staffing=Staffing(agents=6), proficiency=proficiency)
    sme = Pool(id="sme", tier="sme", skills=(Skill("expert"),), staffing=Staffing(agents=sme_agents),
               qa_review=QaReview(share=QA_SHARE, time=deterministic(QA_TIME), of=("front",),
                                  due_within_hours=4.0) if qa else None,
               coaching=coaching)
    return Scenario(name="sme", horizon=Horizon(start=MONDAY, days=days), queues=tuple(queues),
                    pools=(front, sme), simulation=SimulationSettings(keep_contacts=True))


def _run(sc, seed):
    model = compile_scenario(sc)
    rec = Engine(model, Streams(seed)).run()
    return model, rec, replication_metrics(model, rec)


def _total(m, metric, scope):
    t = m.totals
    return float(t[(t["metric"] == metric) & (t["scope"] == scope)]["value"].iloc[0])


def test_reviews_sampled_are_a_binomial_share_of_contacts_closed_by_the_reviewed_pool():
    sampled = closed = 0
    for seed in range(4):
        _, rec, m = _run(_centre(), seed)
        log = m.contacts
        # closed by tier 1 within the horizon (a contact in service at the end has no end)
        closed += int(((log["pool"] == "front") & (log["outcome"] == "answered") & log["end"].notna()).sum())
        sampled += sum(rec.pools[1].tasks.qa_sampled)
        assert rec.pools[0].tasks is None  # the reviewed pool has no QA figures
    sd = math.sqrt(closed * QA_SHARE * (1 - QA_SHARE))
    assert closed > 4000
    assert abs(sampled - QA_SHARE * closed) <= 4 * sd, (sampled, closed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sme_utilisation_rises_by_review_time_over_paid_time(seed):
    """Same customers with and without QA reviews (common random numbers): tier 1 is
    unchanged, and the SMEs' utilisation rises by reviews × review time ÷ paid time
    (up to the review in hand at the end and a changed expert line at the end)."""
    _, rec0, without = _run(_centre(qa=False), seed)
    _, rec1, with_qa = _run(_centre(qa=True), seed)
    assert _total(without, "handled", "pool:front") == _total(with_qa, "handled", "pool:front")
    paid = _total(with_qa, "paid_hours", "pool:sme") * H
    rise = _total(with_qa, "utilisation", "pool:sme") - _total(without, "utilisation", "pool:sme")
    done = _total(with_qa, "qa_done", "pool:sme")
    assert done > 50 and rise > 0.1
    assert abs(rise - done * QA_TIME / paid) <= 3 * QA_TIME / paid, (rise, done * QA_TIME / paid)
    # the reviews' own time column says the same
    assert math.isclose(sum(rec1.pools[1].time[STATE_NAMES.index("qa_review")]) / paid, done * QA_TIME / paid,
                        abs_tol=QA_TIME / paid)
    assert _total(with_qa, "qa_within_due_rate", "pool:sme") > 0.9  # idle SMEs keep up
    sme = with_qa.pools[with_qa.pools["pool"] == "sme"]
    assert "qa_review_s" in sme and "coaching_s" not in with_qa.pools  # no coaching: no column
    assert "qa_review_s" not in without.pools


def test_reviews_open_at_the_end_are_not_yet_due_only_in_the_last_due_window():
    """No SME works (0 agents): every review sampled stays open. Those released more than
    the due time (4 h) before the end are late; those released within it are not yet due.
    With a due time longer than the horizon, every open review is not yet due."""
    n_late = 0
    for seed in range(2):
        model, rec, m = _run(_centre(sme_agents=0), seed)
        t = rec.pools[1].tasks
        assert sum(t.qa_done) == 0 and sum(t.qa_sampled) > 50
        L = model.interval
        for i in range(model.n_intervals):
            if (i + 1) * L <= model.end - 4 * H:  # released before the due window: all late
                assert t.qa_open_not_due[i] == 0
                n_late += t.qa_sampled[i]
            elif i * L >= model.end - 4 * H:  # released inside it: none due yet
                assert t.qa_open_not_due[i] == t.qa_sampled[i]
        assert _total(m, "qa_open_not_due", "pool:sme") == sum(t.qa_open_not_due)
    assert n_late > 0
    long_due = _centre()
    sme = long_due.pools[1]
    review = replace(sme.qa_review, due_within_hours=48.0, time=deterministic(3000))
    long_due = replace(long_due, pools=(long_due.pools[0], replace(sme, qa_review=review)))
    _, rec, _ = _run(long_due, 3)
    t = rec.pools[1].tasks
    assert 0 < sum(t.qa_done) < sum(t.qa_sampled)  # 50-minute reviews: many open at the end
    assert sum(t.qa_open_not_due) == sum(t.qa_sampled) - sum(t.qa_done)


def test_coaching_hours_due_are_hours_per_hire_times_hires_and_idle_smes_do_them_all():
    """3 new hires learning for one day, 4 h each in 1-hour sessions: 12 h due over two
    days; sessions of each hire workable from hire + j × 6 h; SMEs with little else to
    do finish every one in time."""
    sc = _centre(qa=False, coaching=Coaching(hours_per_new_hire=4, of=("front",), session_minutes=60),
                 proficiency=Proficiency(new_hires=3, initial_factor=1.5, weeks_to_proficiency=1 / 7), days=2)
    _, rec, m = _run(sc, 5)
    st = rec.pools[1].tasks
    assert math.isclose(sum(st.coaching_due), 3 * 4 * H)
    assert math.isclose(sum(st.coaching_done), 3 * 4 * H) and math.isclose(sum(st.coaching_within), 3 * 4 * H)
    assert [i for i, v in enumerate(st.coaching_due) if v] == [0, 12, 24, 36]  # 00:00, 06:00, 12:00, 18:00
    assert all(math.isclose(st.coaching_due[i], 3 * H) for i in (0, 12, 24, 36))
    coach_s = sum(rec.pools[1].time[STATE_NAMES.index("coaching")])
    assert math.isclose(coach_s, 12 * H)
    assert math.isclose(_total(m, "coaching_hours_due", "pool:sme"), 12.0)
    assert math.isclose(_total(m, "coaching_hours_done", "pool:sme"), 12.0)


def test_one_coach_works_the_sessions_one_after_another():
    """One SME with no calls to take and three sessions workable at 00:00: done at
    01:00, 02:00 and 03:00."""
    sc = _centre(qa=False, sme_agents=1, escalation=0.0, coaching=Coaching(hours_per_new_hire=1, of=("front",)),
                 proficiency=Proficiency(new_hires=3, weeks_to_proficiency=1.0))
    _, rec, _ = _run(sc, 2)
    coach = rec.pools[1].time[STATE_NAMES.index("coaching")]
    np.testing.assert_allclose(coach[:6], [1800.0] * 6)
    assert sum(coach) == 3 * H


def test_invariants_after_every_event_with_backlog_qa_and_coaching():
    sc = _centre(email=True, sme_agents=1,
                 coaching=Coaching(hours_per_new_hire=3, of=("front",), session_minutes=45),
                 proficiency=Proficiency(new_hires=2, weeks_to_proficiency=0.2))
    front, sme = sc.pools
    sc = replace(sc, pools=(
        replace(front, breaks=(Break(15, 1.5, 3.0),),
                staffing=Staffing(shifts=(Shift(start=dt.time(6), hours=12, agents=6),))),
        replace(sme, backlog_blocks=(BacklogBlock(start=dt.time(13), end=dt.time(14)),)),
    ))
    rec, events = run_checked(sc, seed=7, every=1)
    tasks = rec.pools[1].tasks
    assert events > 2000
    assert sum(tasks.qa_done) > 0 and sum(tasks.coaching_done) > 0 and sum(rec.queues[2].backlog.closed) > 0
