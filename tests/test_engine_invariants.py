"""Engine invariants after every event (see tests/invariants.py), over small centres that
between them use every engine feature: patience, wrap, skills with priorities and
overflow, transfers, consults, unresolved contacts that come back, shifts with breaks,
shrinkage, absence, leavers, hires and learning curves, the three dialer modes, AMD,
blending with a reserve, and the shortened example scenarios.

Each test also asserts that the feature it is there for happened, so a centre that
quietly stopped exercising it cannot pass on an empty run.
"""

from __future__ import annotations

import datetime as dt

import golden
import pytest
from helpers import (
    MONDAY, Arrivals, Escalation, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill,
    Staffing, deterministic, exponential,
)
from invariants import run_checked

import bposim
from bposim.distributions import DistributionSpec
from bposim.engine.core import Engine
from bposim.engine.recorder import IDLE, STATE_NAMES
from bposim.scenario.schema import (
    AnsweringMachineDetection, Attrition, Break, CallingWindow, Campaign, ContactList, DialOutcomes,
    Proficiency, RetryRules, Shift, Site,
)

OPEN = tuple([0.0] * 16 + [12.0] * 24 + [0.0] * 8)  # 08:00-20:00, 24 an hour
DAY = (Shift(start=dt.time(8), hours=8, agents=3), Shift(start=dt.time(12), hours=8, agents=3))
MIXED = DialOutcomes(no_answer=0.4, busy=0.1, machine=0.2, live=0.3, right_party=0.5)


def _time(rec, pool, state):
    return sum(rec.pools[pool].time[STATE_NAMES.index(state)])


def _inbound(days=1, **pool_kw) -> Scenario:
    lognormal = DistributionSpec("lognormal", mean=240, cv=0.8)
    t1 = Queue(id="t1", handle_time=lognormal, arrivals=Arrivals(volumes=OPEN),
               after_work=exponential(30), patience=exponential(120),
               escalations=(Escalation(to="t2", probability=0.15),
                            Escalation(to="sme", probability=0.1, mode="consult",
                                       consult_time=exponential(90))))
    t2 = Queue(id="t2", handle_time=exponential(300), arrivals=Arrivals(volumes=tuple(v / 4 for v in OPEN)),
               patience=exponential(200), repeat_after=deterministic(1800))
    sme = Queue(id="sme", handle_time=exponential(200), patience=exponential(60))
    pools = (
        Pool(id="front", skills=(Skill("t1"), Skill("t2", priority=2)), site="s",
             staffing=Staffing(shifts=DAY), breaks=(Break(15, 1.5, 3.0), Break(30, 3.5, 5.0)),
             shrinkage=0.15, absenteeism=0.1, **pool_kw),
        Pool(id="flex", skills=(Skill("t1", overflow_after=30), Skill("t2", overflow_after=30)),
             site="s", staffing=Staffing(shifts=(Shift(start=dt.time(9), hours=10, agents=2),))),
        Pool(id="experts", tier="sme", skills=(Skill("sme"),), staffing=Staffing(agents=2)),
    )
    return Scenario(name="inv", horizon=Horizon(start=MONDAY, days=days), queues=(t1, t2, sme),
                    pools=pools, sites=(Site(id="s", fcr=0.8),), simulation=SimulationSettings())


def test_inbound_routing_escalations_repeats_and_duty():
    rec, events = run_checked(_inbound(), seed=3)
    t1, t2, sme = rec.queues
    assert events > 1000
    assert sum(t1.abandoned) and sum(t1.escalated) and sum(sme.answered) and sum(t2.repeats)
    assert _time(rec, 0, "consult_hold") > 0 and _time(rec, 0, "break") > 0 and _time(rec, 0, "unavailable") > 0
    assert sum(rec.pools[1].handled) > 0  # the overflow pool took contacts
    assert sum(rec.pools[0].absent) > 0


def test_leavers_hires_and_learning_curves():
    sc = _inbound(days=2, attrition=Attrition(annual_rate=300.0, recruiting_delay_weeks=0.1),
                  proficiency=Proficiency(new_hires=2, initial_factor=1.6, weeks_to_proficiency=2))
    rec, _ = run_checked(sc, seed=5, every=2)
    assert rec.pools[0].leavers > 0 and rec.pools[0].hires > 0


def _campaign(mode, **kw) -> Campaign:
    return Campaign(
        id="c", pools=("d",), mode=mode, contact_list=ContactList(size=400),
        windows=(CallingWindow(dt.time(9), dt.time(17)),), outcomes=MIXED,
        talk_right_party=exponential(120), talk_wrong_party=exponential(20), wrap=exponential(15),
        preview_time=deterministic(10), amd=AnsweringMachineDetection(enabled=True),
        retry=RetryRules(max_attempts=2, after_no_answer=1800, after_busy=600, after_machine=3600,
                         after_wrong_party=3600, after_abandoned=3600), **kw)


def _outbound(campaign, skills=(), queues=()) -> Scenario:
    staffing = Staffing(shifts=(Shift(start=dt.time(9), hours=8, agents=4),))
    return Scenario(name="dial", horizon=Horizon(start=MONDAY), queues=queues,
                    pools=(Pool(id="d", skills=skills, staffing=staffing, shrinkage=0.1),),
                    campaigns=(campaign,))


@pytest.mark.parametrize("mode, kw", [("preview", {}), ("progressive", {"dials_per_agent": 2.5}),
                                      ("predictive", {})])
def test_dialer_modes(mode, kw):
    rec, _ = run_checked(_outbound(_campaign(mode, **kw)), seed=2)
    counts = rec.campaigns[0].counts
    assert sum(counts["connected"]) > 0
    if mode != "preview":
        assert sum(counts["abandoned"]) + sum(counts["amd_false_positive"]) > 0


def test_blending_with_a_reserve():
    q = Queue(id="in", handle_time=exponential(180), arrivals=Arrivals(volumes=tuple(v / 3 for v in OPEN)),
              patience=exponential(90))
    rec, _ = run_checked(_outbound(_campaign("progressive", reserve=1), skills=(Skill("in"),), queues=(q,)),
                         seed=4)
    assert sum(rec.queues[0].answered) > 0 and sum(rec.campaigns[0].counts["connected"]) > 0


# (scenario, check after every k-th event: a check costs O(agents), large centres are sampled)
EXAMPLES = [("single_queue_erlang_c", 3), ("tech_support_tiers", 11), ("collections_predictive", 7)]


@pytest.mark.parametrize("name, every", EXAMPLES)
def test_example_scenarios_for_a_day(name, every):
    case = next(c for c in golden.cases() if c.name == name)
    sc = golden.shorten(bposim.load_scenario(case.file), 1)
    rec, events = run_checked(sc, seed=1, every=every)
    assert events > 1000


def test_a_contact_offered_twice_is_caught_at_its_event(monkeypatch):
    offer = Engine._offer

    def twice(self, c):
        if c.id == 7:
            c.queue.stats.offered[c.interval] += 1
        offer(self, c)

    monkeypatch.setattr(Engine, "_offer", twice)
    caught = r"after event \d+ at t=[\d.]+ s: t\d interval \d+: offered \d+ != answered"
    with pytest.raises(AssertionError, match=caught):
        run_checked(_inbound(), seed=3)


def test_an_idle_agent_lost_from_the_idle_list_is_caught(monkeypatch):
    next_work = Engine._next_work

    def lose(self, agent):
        next_work(self, agent)
        if agent.state == IDLE and agent.pool.m.id == "flex":
            agent.pool.idle.pop(agent)

    monkeypatch.setattr(Engine, "_next_work", lose)
    with pytest.raises(AssertionError, match="flex: 1 agents idle, 0 listed"):
        run_checked(_inbound(), seed=3)
