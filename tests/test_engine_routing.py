"""Routing, escalation, consults, shrinkage and staffing: each rule checked on its own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from helpers import (
    MONDAY, Arrivals, Escalation, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill,
    Staffing, assert_matches, deterministic, exponential, single_queue, values,
)

import bposim


def _run(scenario, reps, seed=11):
    return bposim.run(scenario, replications=reps, seed=seed, executor="serial")


def _flat(per_hour: float, hours: int = 24) -> Arrivals:
    return Arrivals(volumes=tuple([per_hour / 2] * (2 * hours) + [0.0] * (48 - 2 * hours)))


def _tiered(p_transfer: float, p_consult: float, keep: bool = False) -> Scenario:
    return Scenario(
        name="tiers",
        horizon=Horizon(start=MONDAY, days=1, interval_minutes=30),
        queues=(
            Queue(id="t1", handle_time=exponential(240), arrivals=_flat(300, hours=20),
                  escalations=(Escalation("t2", p_transfer, "transfer"),
                               Escalation("sme", p_consult, "consult"))),
            Queue(id="t2", handle_time=exponential(400),
                  escalations=(Escalation("sme", 0.3, "transfer"),)),
            Queue(id="sme", handle_time=exponential(300)),
        ),
        pools=(
            Pool(id="tier1", skills=(Skill("t1"),), staffing=Staffing(agents=26)),
            Pool(id="tier2", tier="tier2", skills=(Skill("t2"),), staffing=Staffing(agents=8)),
            Pool(id="smes", tier="sme", skills=(Skill("sme"),), staffing=Staffing(agents=5)),
        ),
        simulation=SimulationSettings(keep_contacts=keep, keep_agent_states=keep),
    )


def test_escalation_volume_is_binomial_in_handled_contacts():
    p_t, p_c = 0.18, 0.05
    res = _run(_tiered(p_t, p_c), 10)
    t = res.totals.pivot_table(index=["replication", "scope"], columns="metric", values="value")
    escalated = t.xs("queue:t1", level="scope")["escalated"].sum()
    answered = t.xs("queue:t1", level="scope")["answered"].sum()
    # arrivals stop 4 h before the end, so every answered contact finishes its talk
    p = p_t + p_c
    assert abs(escalated - p * answered) <= 4.5 * np.sqrt(answered * p * (1 - p))
    # every transfer is offered to its target queue (a chain: t1 -> t2 -> sme)
    t2_offered = t.xs("queue:t2", level="scope")["offered"].sum()
    t2_escalated = t.xs("queue:t2", level="scope")["escalated"].sum()
    sme_offered = t.xs("queue:sme", level="scope")["offered"].sum()
    assert t2_offered > 0 and t2_escalated > 0
    share_t2 = t2_offered / escalated
    assert abs(share_t2 - p_t / p) < 4.5 * np.sqrt(share_t2 * (1 - share_t2) / escalated)
    assert sme_offered == escalated - t2_offered + t2_escalated
    # the SME pool's workload appears as its utilisation and escalations taken
    assert values(res, "escalations_taken", "pool:smes").sum() > 0
    assert "sme_utilisation" in set(res.totals["metric"])


def test_consult_holds_both_agents_until_the_consult_ends():
    sc = _tiered(0.0, 0.2, keep=True)
    one = bposim.simulate(sc, seed=3)
    states = one.agent_states
    holds = states[states["state"] == "consult_hold"]
    assert len(holds) > 50
    contacts = one.contacts
    consults = contacts[(contacts["origin"] == "consult") & (contacts["outcome"] == "answered")]
    # each hold ends exactly when an SME finishes talking on a consult
    consult_ends = set(np.round(consults["end"].dropna(), 9))
    hold_ends = np.round(holds["end"].to_numpy(), 9)
    ended = hold_ends[hold_ends < sc.horizon.seconds]
    assert set(ended) <= consult_ends
    # and the holding agent's parent contact ends at that same moment
    parents = contacts.set_index("contact_id").loc[consults["parent_id"].to_numpy()]
    np.testing.assert_allclose(parents["end"].to_numpy(), consults["end"].to_numpy())


def test_priorities_a_freed_agent_takes_the_higher_priority_queue():
    sc = Scenario(
        name="prio", horizon=Horizon(start=MONDAY, days=1),
        queues=(Queue(id="vip", handle_time=exponential(180), arrivals=_flat(120)),
                Queue(id="std", handle_time=exponential(180), arrivals=_flat(200))),
        pools=(Pool(id="all", skills=(Skill("vip", 1), Skill("std", 2)), staffing=Staffing(agents=17)),),
        simulation=SimulationSettings(keep_contacts=True),
    )
    one = bposim.simulate(sc, seed=5)
    c = one.contacts
    vip = c[c["queue"] == "vip"]
    std_from_queue = c[(c["queue"] == "std") & (c["wait"] > 0) & (c["outcome"] == "answered")]
    assert len(std_from_queue) > 100
    # no standard contact was taken from the queue while a VIP contact was waiting
    v_arr = vip["arrival"].to_numpy()
    v_ans = vip["answer"].fillna(np.inf).to_numpy()
    for t in std_from_queue["answer"].to_numpy():
        assert not np.any((v_arr < t) & (v_ans > t)), t
    asa = one.totals.set_index(["metric", "scope"])["value"]
    assert asa[("asa", "queue:vip")] < asa[("asa", "queue:std")]


def test_overflow_pool_takes_only_contacts_that_waited_past_the_threshold():
    sc = Scenario(
        name="overflow", horizon=Horizon(start=MONDAY, days=1),
        queues=(Queue(id="q", handle_time=exponential(180), arrivals=_flat(220)),),
        pools=(Pool(id="main", skills=(Skill("q"),), staffing=Staffing(agents=11)),
               Pool(id="backup", skills=(Skill("q", overflow_after=60),), staffing=Staffing(agents=3))),
        simulation=SimulationSettings(keep_contacts=True),
    )
    one = bposim.simulate(sc, seed=9)
    c = one.contacts
    backup = c[c["pool"] == "backup"]
    assert len(backup) > 100
    assert backup["wait"].min() >= 60 - 1e-6
    # with the backup pool, fewer contacts wait past the threshold than without it
    without = replace(sc, pools=sc.pools[:1])
    w = bposim.simulate(without, seed=9).contacts
    assert (c["wait"] > 120).mean() < (w["wait"] > 120).mean()


def test_longest_idle_agent_is_chosen():
    """Every answer goes to the agent that had been idle longest at that moment."""
    sc = single_queue(200, 150, 12)
    sc = replace(sc, simulation=SimulationSettings(keep_contacts=True, keep_agent_states=True))
    one = bposim.simulate(sc, seed=2)
    idle = one.agent_states[one.agent_states["state"] == "idle"]
    starts, ends, who = idle["start"].to_numpy(), idle["end"].to_numpy(), idle["agent"].to_numpy()
    immediate = one.contacts[one.contacts["wait"] == 0]
    assert len(immediate) > 1000
    for t, agent in zip(immediate["answer"].to_numpy(), immediate["agent"].to_numpy()):
        mine = (who == agent) & (ends == t)
        if not mine.any():
            continue  # answered by an agent that had just come on duty
        others = (who != agent) & (starts <= t) & (ends > t)
        assert not np.any(starts[others] < starts[mine].min()), t


def test_shrinkage_takes_its_share_of_paid_time():
    sc = single_queue(60, 180, 10)
    pool = replace(sc.pools[0], shrinkage=0.3, shrinkage_period_minutes=15)
    sc = replace(sc, pools=(pool,))
    res = _run(sc, 10)
    p = res.pools
    away = p.groupby("replication")["unavailable_s"].sum() / p.groupby("replication")["paid_s"].sum()
    # breaks start when the contact in hand ends, so the share can fall short by the
    # deferral (a fraction of AHT per break); at 30 % load that is well under 1 point
    assert_matches(away.to_numpy(), 0.3, rel_bias=0.03, label="shrinkage share")


def test_staffing_forms_give_the_scheduled_headcount():
    table = tuple([0] * 16 + [5] * 4 + [12] * 20 + [4] * 8)
    sc = single_queue(60, 180, 1)
    pool = replace(sc.pools[0], staffing=Staffing(per_interval=table))
    one = bposim.simulate(replace(sc, pools=(pool,)), seed=1)
    np.testing.assert_allclose(one.pools["scheduled_agents"], table)
    paid = one.pools["paid_s"].to_numpy()
    # agents finish the call in hand after their span, so paid time >= scheduled time
    assert np.all(paid + 1e-6 >= np.asarray(table) * 1800 - 0)


def test_contact_records_only_when_asked():
    sc = single_queue(60, 180, 5)
    assert bposim.simulate(sc, seed=1).contacts is None
    kept = bposim.simulate(sc, seed=1, keep_contacts=True).contacts
    assert isinstance(kept, pd.DataFrame) and len(kept) > 1000
    assert set(kept["outcome"]) <= {"answered", "abandoned", "unanswered_at_end"}


def test_deterministic_handle_times_are_honoured():
    sc = single_queue(30, 100, 5, keep_contacts=True)
    q = replace(sc.queues[0], handle_time=deterministic(100))
    c = bposim.simulate(replace(sc, queues=(q,)), seed=1).contacts
    done = c.dropna(subset=["end"])
    np.testing.assert_allclose(done["end"] - done["answer"], 100)


def test_consult_time_sets_the_length_of_a_consult():
    sc = _tiered(0.0, 0.3, keep=True)
    t1 = sc.queues[0]
    t1 = replace(t1, escalations=(Escalation("t2", 0.2, "transfer"),
                                  Escalation("sme", 0.3, "consult", consult_time=deterministic(75))))
    one = bposim.simulate(replace(sc, queues=(t1, *sc.queues[1:])), seed=4)
    c = one.contacts
    consults = c[(c["origin"] == "consult") & (c["outcome"] == "answered")].dropna(subset=["end"])
    assert len(consults) > 50
    np.testing.assert_allclose(consults["end"] - consults["answer"], 75)
    sme_calls = c[(c["queue"] == "sme") & (c["origin"] != "consult")].dropna(subset=["end"])
    assert (sme_calls["end"] - sme_calls["answer"]).std() > 1  # other SME work keeps its own times
