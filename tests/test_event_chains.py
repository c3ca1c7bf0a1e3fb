"""Every event chain of the engine at small counts: nothing offered, dialled or worked twice.

The first arrival of every queue used to be offered twice (see test_arrivals.py). These
checks look for the same kind of fault in the other chains, with counts small enough
that one extra event shows: repeats and escalations are conserved contact by contact,
a contact list of N records gets exactly N × attempts dials when every dial fails,
agents on duty match the roster, breaks are taken once, leavers and hires balance.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from helpers import (
    MONDAY, Arrivals, Escalation, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill,
    Staffing, deterministic, exponential,
)

from bposim.engine.core import simulate_model
from bposim.engine.model import compile_scenario
from bposim.engine.recorder import OFF, STATE_NAMES
from bposim.rng import Streams, replication_seeds
from bposim.scenario.schema import (
    Attrition, Break, CallingWindow, Campaign, ContactList, DialOutcomes, RetryRules, Shift, Site,
)

EARLY = tuple([1.0, 1.0] + [0.0] * 46)  # two expected contacts, in the first hour only


def _runs(scenario, reps=30, seed=11, keep=False):
    if keep:
        from dataclasses import replace
        scenario = replace(scenario, simulation=replace(scenario.simulation, keep_contacts=True,
                                                        keep_agent_states=True))
    model = compile_scenario(scenario)
    return model, [simulate_model(model, Streams(s)) for s in replication_seeds(seed, reps)]


def _centre(queues, pools, sites=(), days=1) -> Scenario:
    return Scenario(name="chains", horizon=Horizon(start=MONDAY, days=days), queues=tuple(queues),
                    pools=tuple(pools), sites=tuple(sites), simulation=SimulationSettings())


def test_each_unresolved_contact_comes_back_once():
    site = Site(id="s", fcr=0.5)
    q = Queue(id="q", handle_time=exponential(60), arrivals=Arrivals(volumes=EARLY),
              repeat_after=deterministic(600))
    sc = _centre([q], [Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=3), site="s")], [site])
    _, recs = _runs(sc, keep=True)
    total_unresolved = 0
    for rec in recs:
        st = rec.queues[0]
        repeats = [c for c in rec.contacts if c[3] == "repeat"]
        # everything ends long before the horizon: every unresolved contact returns, once
        assert sum(st.repeats) == len(repeats) == sum(st.unresolved)
        parents = [c[1] for c in repeats]
        assert len(parents) == len(set(parents))
        external = sum(1 for c in rec.contacts if c[3] == "arrival")
        assert sum(st.offered) == external + len(repeats)
        total_unresolved += sum(st.unresolved)
    assert total_unresolved > 0


def test_each_escalation_is_offered_once_to_its_target():
    q1 = Queue(id="t1", handle_time=exponential(60), arrivals=Arrivals(volumes=EARLY),
               escalations=(Escalation(to="t2", probability=0.5),))
    q2 = Queue(id="t2", handle_time=exponential(60))
    sc = _centre([q1, q2], [Pool(id="a", skills=(Skill("t1"),), staffing=Staffing(agents=2)),
                            Pool(id="b", tier="tier2", skills=(Skill("t2"),), staffing=Staffing(agents=2))])
    _, recs = _runs(sc, keep=True)
    escalated = 0
    for rec in recs:
        s1, s2 = rec.queues
        transfers = [c for c in rec.contacts if c[3] == "transfer"]
        assert sum(s2.offered) == sum(s1.escalated) == len(transfers)
        assert len({c[1] for c in transfers}) == len(transfers)
        escalated += sum(s1.escalated)
    assert escalated > 0


def _campaign(mode, outcomes, size=2, attempts=3) -> Campaign:
    return Campaign(
        id="c", pools=("d",), mode=mode, contact_list=ContactList(size=size),
        windows=(CallingWindow(dt.time(0), dt.time(23, 59)),), outcomes=outcomes,
        talk_right_party=deterministic(60), preview_time=deterministic(10),
        retry=RetryRules(max_attempts=attempts, after_no_answer=600, after_busy=600,
                         after_machine=600, after_wrong_party=600, after_abandoned=600),
    )


def _outbound(campaign) -> Scenario:
    return Scenario(name="dial", horizon=Horizon(start=MONDAY), queues=(),
                    pools=(Pool(id="d", skills=(), staffing=Staffing(
                        shifts=(Shift(start=dt.time(0), hours=24, agents=2),))),),
                    campaigns=(campaign,))


NO_ANSWER = DialOutcomes(no_answer=1.0, busy=0.0, machine=0.0, live=0.0)
REACHED = DialOutcomes(no_answer=0.0, busy=0.0, machine=0.0, live=1.0, right_party=1.0)
MIXED = DialOutcomes(no_answer=0.4, busy=0.1, machine=0.2, live=0.3, right_party=0.5)


def test_a_list_of_two_records_gets_exactly_attempts_dials_each():
    for mode in ("preview", "progressive", "predictive"):
        _, recs = _runs(_outbound(_campaign(mode, NO_ANSWER)), reps=5)
        for rec in recs:
            st = rec.campaigns[0]
            assert sum(st.counts["dials"]) == 2 * 3, mode
            assert st.records_attempted == st.records_closed == 2, mode
        _, recs = _runs(_outbound(_campaign(mode, REACHED)), reps=5)
        for rec in recs:
            st = rec.campaigns[0]
            assert sum(st.counts["dials"]) == 2, mode  # reached at the first dial: done
            assert sum(st.counts["right_party"]) == st.records_closed == 2, mode


def test_dials_never_exceed_records_times_attempts():
    for mode in ("preview", "progressive", "predictive"):
        _, recs = _runs(_outbound(_campaign(mode, MIXED, size=5, attempts=2)), reps=10)
        for rec in recs:
            st = rec.campaigns[0]
            dials = sum(st.counts["dials"])
            assert st.records_attempted == 5 and dials <= 5 * 2, mode
            ended = sum(sum(st.counts[k]) for k in ("no_answer", "busy", "machine_detected",
                                                   "amd_false_positive", "machine", "live"))
            assert ended == dials, mode  # every dial has exactly one outcome


def _time_per_interval(rec, n):
    st = rec.pools[0]
    return np.sum([st.time[k] for k in range(len(STATE_NAMES)) if k != OFF], axis=0)[:n]


def test_agents_on_duty_equal_the_roster_and_each_break_is_taken_once():
    shifts = Staffing(shifts=(Shift(start=dt.time(9), hours=8, agents=2),
                              Shift(start=dt.time(13), hours=4, agents=1)))
    pool = Pool(id="p", skills=(Skill("q"),), staffing=shifts,
                breaks=(Break(minutes=30, earliest=2, latest=3),), max_on_break=1.0)
    q = Queue(id="q", handle_time=exponential(60))  # no arrivals: nothing to overrun
    model, recs = _runs(_centre([q], [pool]), reps=3)
    pm = model.pools[0]
    for rec in recs:
        worked = _time_per_interval(rec, model.n_intervals)
        np.testing.assert_allclose(worked, pm.headcount * model.interval, atol=1e-6)
        np.testing.assert_allclose(rec.pools[0].paid, pm.headcount * model.interval, atol=1e-6)
        st = rec.pools[0]
        assert st.breaks_planned == st.breaks_taken == 3
        np.testing.assert_allclose(st.time[STATE_NAMES.index("break")], pm.on_break * model.interval,
                                   atol=1e-6)


def test_leavers_and_hires_balance_and_never_overlap():
    pool = Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=3),
                attrition=Attrition(annual_rate=200.0, recruiting_delay_weeks=0.05))
    q = Queue(id="q", handle_time=exponential(60))
    sc = _centre([q], [pool], days=7)
    model, recs = _runs(sc, reps=10)
    total_leavers = 0
    for rec in recs:
        st = rec.pools[0]
        assert st.hires <= st.leavers
        total_leavers += st.leavers
        # a replacement starts after the leaver left: never more on duty than the roster
        worked = _time_per_interval(rec, model.n_intervals)
        assert (worked <= model.pools[0].headcount * model.interval + 1e-6).all()
    assert total_leavers > 0
