"""Chat sessions sharing agents (issue 10): against theory and independent counts.

- With concurrency k and no stretch, n agents are k·n identical servers: P(wait), ASA,
  service level and occupancy are Erlang C's with k·n servers (replication t-intervals).
- With the agents always full, every session after an agent's first takes handle ×
  stretch^(k−1): read from the contact log and from the throughput.
- Partial load: an agent's handling time is the sum of its sessions' slot time over k
  (an independent sum over the contact log).
- Every engine invariant after every event on a centre mixing calls and chats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from helpers import MONDAY, assert_matches, single_queue, values
from invariants import check_engine, run_checked

import bposim
from bposim import erlang
from bposim.distributions import DistributionSpec, exponential
from bposim.scenario.schema import (
    Arrivals, Break, ChatCapacity, Escalation, Horizon, Pool, QaReview, Queue, Scenario,
    ServiceLevelTarget, Shift, SimulationSettings, Skill, Staffing,
)


def _chat(sc: Scenario, concurrency: int, stretch: float = 1.0) -> Scenario:
    return replace(sc, queues=tuple(replace(q, channel="chat") for q in sc.queues),
                   pools=tuple(replace(p, chat=ChatCapacity(concurrency, stretch)) for p in sc.pools))


def test_chat_with_concurrency_k_is_erlang_c_with_k_times_n_servers():
    load, agents, k, aht = 10.0, 4, 3, 180.0
    sc = _chat(single_queue(load * 3600 / aht, aht, agents, hours=24, warmup_minutes=60), k)
    res = bposim.run(sc, replications=20, seed=7, executor="serial", engine="simpy")
    servers = agents * k
    assert_matches(values(res, "p_wait", "queue:q"), float(erlang.erlang_c(load, servers)), label="P(wait)")
    assert_matches(values(res, "asa", "queue:q"), float(erlang.asa(load, servers, aht)), label="ASA")
    assert_matches(values(res, "service_level", "queue:q"),
                   float(erlang.service_level(load, servers, aht, 20)), label="SL")
    busy = res.pools[res.pools["interval"] >= 2]
    occ = busy.groupby("replication").apply(lambda f: f["busy_s"].sum() / (f["busy_s"] + f["idle_s"]).sum())
    assert_matches(occ.to_numpy(), load / servers, label="occupancy")


def _always_full(stretch: float, keep: bool = True) -> Scenario:
    """3 agents, 2 chats each, talk exactly 100 s, 400 chats an hour for 2 hours: the
    line never empties before about 5 h, so every agent holds 2 chats all that time."""
    vols = tuple([200.0] * 4 + [0.0] * 44)
    return Scenario(
        name="full", horizon=Horizon(start=MONDAY, days=1),
        queues=(Queue(id="chat", channel="chat", handle_time=DistributionSpec("deterministic", mean=100.0),
                      arrivals=Arrivals(volumes=vols)),),
        pools=(Pool(id="p", skills=(Skill("chat"),), staffing=Staffing(agents=3),
                    chat=ChatCapacity(concurrency=2, stretch=stretch)),),
        simulation=SimulationSettings(keep_contacts=keep),
    )


@pytest.mark.parametrize("stretch", [1.0, 1.5])
def test_stretch_when_agents_are_always_full(stretch):
    res = bposim.simulate(_always_full(stretch), seed=3, engine="simpy")
    log = res.contacts
    busy_phase = log[(log["answer"] >= 600) & (log["answer"] < 3 * 3600)]
    # a chat answered while the agent holds another one: 2 in progress, handle × stretch
    assert np.allclose(busy_phase["handle_time"], 100.0 * stretch)
    # the three first sessions (k = 1) are the only ones at the plain handle time
    first = log[np.isclose(log["handle_time"], 100.0)]
    if stretch != 1.0:
        assert len(first) >= 3 and first["answer"].max() < 600
    # throughput while full: 6 slots, each freed every 100 × stretch seconds
    answered = ((log["answer"] >= 3600) & (log["answer"] < 3 * 3600)).sum()
    assert abs(answered - 2 * 3600 * 6 / (100.0 * stretch)) <= 6
    # occupancy while full is 1: two chats of two held all the time
    pools = res.pools[(res.pools["interval"] >= 2) & (res.pools["interval"] < 6)]
    assert np.allclose(pools["busy_s"], 1800 * 3) and np.allclose(pools["idle_s"], 0.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_partial_load_counts_in_handling_time(seed):
    """Handling time = Σ (talk + after-work) / k over the sessions (independent sum)."""
    sc = _chat(single_queue(150, 200, 3, patience=240, hours=12, keep_contacts=True), 3, 1.1)
    sc = replace(sc, queues=(replace(sc.queues[0], after_work=exponential(30)),))
    res = bposim.simulate(sc, seed=seed, engine="simpy")
    log = res.contacts[res.contacts["outcome"] == "answered"]
    assert log["end"].notna().all()  # arrivals stop at noon: every chat ends in the day
    slot = (log["handle_time"] + log["wrap_time"]).sum()
    busy = res.pools["busy_s"].sum()
    assert busy == pytest.approx(slot / 3, rel=1e-9)
    assert (res.pools["busy_s"] + res.pools["idle_s"]).sum() == pytest.approx(3 * 86400.0, rel=1e-9)
    # partial load really happened: occupancy strictly between the one-chat and full figures
    occ = busy / (3 * 86400.0)
    assert 0 < occ < 1


def _mixed() -> Scenario:
    """Calls and chats in one pool (chats up to 3), an overflow pool, breaks, shrinkage,
    chats escalating to calls, patience and after-work everywhere."""
    open_ = tuple([0.0] * 16 + [14.0] * 24 + [0.0] * 8)
    voice = Queue(id="voice", handle_time=exponential(240), arrivals=Arrivals(volumes=open_),
                  patience=exponential(120), after_work=exponential(20))
    chat = Queue(id="chat", channel="chat", handle_time=exponential(420),
                 arrivals=Arrivals(volumes=tuple(v * 1.5 for v in open_)), patience=exponential(300),
                 after_work=exponential(30), service_level=ServiceLevelTarget(answer_within=60, target=0.8),
                 escalations=(Escalation(to="voice", probability=0.1),))
    shifts = (Shift(start=dt.time(8), hours=8, agents=3), Shift(start=dt.time(12), hours=8, agents=3))
    return Scenario(
        name="mixed", horizon=Horizon(start=MONDAY, days=1), queues=(voice, chat),
        pools=(Pool(id="front", skills=(Skill("voice"), Skill("chat")), staffing=Staffing(shifts=shifts),
                    breaks=(Break(15, 1.5, 3.0), Break(30, 3.5, 5.0)), shrinkage=0.1,
                    chat=ChatCapacity(concurrency=3, stretch=1.15)),
               Pool(id="flex", skills=(Skill("chat", overflow_after=60), Skill("voice", priority=2)),
                    staffing=Staffing(shifts=(Shift(start=dt.time(9), hours=10, agents=2),)),
                    chat=ChatCapacity(concurrency=2))),
        simulation=SimulationSettings(keep_contacts=True),
    )


def test_invariants_after_every_event_with_calls_and_chats():
    most = [0]

    def check(engine):
        check_engine(engine)
        most[0] = max([most[0]] + [a.load for p in engine.pools for a in p.agents])

    rec, events = run_checked(_mixed(), seed=5, check=check)
    voice, chat = rec.queues
    assert events > 2000 and most[0] == 3  # some agent held three chats at once
    assert sum(chat.answered) > 100 and sum(chat.abandoned) > 0 and sum(chat.escalated) > 0
    assert sum(voice.answered) > 100 and sum(rec.pools[1].handled) > 0


def test_the_fast_engine_leaves_chat_to_the_simpy_engine():
    unsupported = pytest.importorskip("bposim.engine.fast").unsupported
    model = bposim.compile_scenario(_mixed())
    assert any("chat" in name for name in unsupported(model))
    one = bposim.compile_scenario(_chat(single_queue(60, 180, 2), 1))
    assert any("chat" in name for name in unsupported(one))


def _stretch_from_the_log(log, base: float, stretch: float) -> int:
    """Checks every session's talk time against the sessions its agent held when it was
    answered, counted from the contact log alone; returns the most held at once."""
    most = 0
    for agent, own in log[log["outcome"] == "answered"].groupby("agent"):
        answers = own["answer"].to_numpy()
        ends = (own["answer"] + own["handle_time"] + own["wrap_time"]).to_numpy()
        for t, talk in zip(answers, own["handle_time"].to_numpy()):
            k = int(((answers <= t) & (ends > t)).sum())  # itself included
            most = max(most, k)
            assert talk == pytest.approx(base * stretch ** (k - 1), rel=1e-12), (agent, t, k)
    return most


@pytest.mark.parametrize("per_hour, most", [(80.0, 3), (2 / 24, 1)])
def test_each_session_is_stretched_by_the_sessions_held_when_answered(per_hour, most):
    """Talk time exactly 300 s × 1.2^(k−1), k counted from the log; also at two chats a day."""
    sc = _chat(single_queue(per_hour, 300, 2, patience=600, hours=20, keep_contacts=True), 3, 1.2)
    sc = replace(sc, queues=(replace(sc.queues[0], handle_time=DistributionSpec("deterministic", mean=300.0),
                                     after_work=DistributionSpec("deterministic", mean=20.0)),))
    held = 0
    for seed in range(3):
        res = bposim.simulate(sc, seed=seed, engine="simpy")
        log = res.contacts
        t = res.totals.set_index(["metric", "scope"])["value"]
        assert t[("offered", "queue:q")] == len(log)
        held = max(held, _stretch_from_the_log(log, 300.0, 1.2))
    assert held >= most


class _Reviews:
    def __init__(self):
        self.released = 0

    def task(self, now, task, what):
        self.released += what == "released"


def test_qa_reviews_sample_closed_chats():
    """An SME pool reviewing the chat pool gets a binomial share of the closed chats."""
    sc = _chat(single_queue(60, 240, 2, hours=10, keep_contacts=True), 3)
    sme = Pool(id="sme", tier="sme", skills=(), staffing=Staffing(agents=1),
               qa_review=QaReview(share=0.5, time=exponential(300), of=("p",)))
    sc = replace(sc, pools=(*sc.pools, sme))
    reviews = _Reviews()
    res = bposim.simulate(sc, seed=4, observers=[reviews])
    closed = int((res.contacts["outcome"] == "answered").sum())
    assert closed > 300
    assert abs(reviews.released - 0.5 * closed) <= 4 * np.sqrt(0.25 * closed)
