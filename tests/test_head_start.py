"""Delay-based priority (queue ``head_start``): against exact equivalents and theory.

- a head start of 0 s records exactly what the plain longest-waiting choice records;
- a head start far beyond any wait makes the same choices as a strict priority of that
  queue over the other (two skill levels): identical recordings;
- in heavy traffic, with both lines always long, the waits of answered contacts of the
  two queues differ by about the head start (the agent picks whichever head has waited
  longer, counting the head start);
- two contacts before the agent comes on: the one taken first is the one whose arrival
  minus its head start is earlier (hand-checkable);
- an overflow pool picks by the same rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from helpers import MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing
from invariants import run_checked
from scipy import stats

from bposim.distributions import deterministic, exponential
from bposim.engine.core import Engine
from bposim.engine.model import compile_scenario
from bposim.engine.recorder import CONTACT_COLUMNS
from bposim.rng import Streams
from bposim.scenario.schema import Shift

COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within",
          "unanswered_at_end", "wait_answered", "wait_all")


def _two_queues(head=0.0, priorities=(1, 1), agents=10, rate=100.0, patience=180.0, hours=4) -> Scenario:
    """Queues a and b, ``rate`` an hour each, AHT 300 s, served by one pool."""
    vol = tuple([rate / 2] * (2 * hours) + [0.0] * (48 - 2 * hours))
    qa = Queue(id="a", handle_time=exponential(300), arrivals=Arrivals(volumes=vol),
               patience=exponential(patience), head_start=head)
    qb = Queue(id="b", handle_time=exponential(300), arrivals=Arrivals(volumes=vol),
               patience=exponential(patience))
    pool = Pool(id="p", skills=(Skill("a", priority=priorities[0]), Skill("b", priority=priorities[1])),
                staffing=Staffing(agents=agents))
    return Scenario(name="head", horizon=Horizon(start=MONDAY, days=1), queues=(qa, qb), pools=(pool,),
                    simulation=SimulationSettings(keep_contacts=True))


def _record(sc, seed):
    return Engine(compile_scenario(sc), Streams(seed)).run()


def _same(x, y) -> bool:
    return (all(getattr(a, k) == getattr(b, k) for a, b in zip(x.queues, y.queues) for k in COUNTS)
            and x.contacts == y.contacts and [p.time for p in x.pools] == [p.time for p in y.pools])


def test_zero_head_start_is_the_longest_waiting_choice():
    for seed in (1, 2):
        plain = _record(_two_queues(), seed)
        zero = _record(_two_queues(head=0.0), seed)
        assert _same(plain, zero)
        # and a head start does change the recording (the test can fail)
        assert not _same(plain, _record(_two_queues(head=60.0), seed))


def test_a_huge_head_start_is_strict_priority():
    for seed in (1, 2, 3):
        strict = _record(_two_queues(priorities=(1, 2)), seed)
        head = _record(_two_queues(head=1e7), seed)
        assert sum(strict.queues[1].abandoned) > 50  # b waited while a went first
        assert _same(strict, head)


def _mean_wait(rec, queue) -> float:
    """Mean wait of ``queue``'s contacts answered while both lines are long (from 30 min
    into the day until arrivals stop at 3 h)."""
    col = CONTACT_COLUMNS.index
    waits = [r[col("wait")] for r in rec.contacts
             if r[col("queue")] == queue and r[col("outcome")] == "answered" and 1800 <= r[col("answer")] < 3 * 3600]
    return float(np.mean(waits))


def test_waits_differ_by_the_head_start_in_heavy_traffic():
    """Twice the load the agents can carry, with patient customers: both lines stay long,
    and an agent takes b's head only once it has waited ``h`` longer than a's, so the
    waits of answered contacts differ by about ``h`` (the fluid limit of delay-dependent
    priority); the t-interval of the mean difference over replications holds ``h``."""
    h = 120.0
    diffs = []
    for seed in range(6):
        rec = _record(_two_queues(head=h, agents=10, rate=115.0, patience=1800.0, hours=3), seed)
        diffs.append(_mean_wait(rec, "b") - _mean_wait(rec, "a"))
    d = np.asarray(diffs)
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() - half < h < d.mean() + half, diffs
    assert half < h / 3  # precise enough that a head start of 0 or 2h would fail


def test_two_contacts_before_the_agent_comes_on():
    """About one call a night on each queue between 00:00 and 01:00; one agent from
    08:00 (60 s calls): the agent takes first the contact whose arrival minus its head
    start (a: 1800 s, b: 0) is earlier."""
    vol = tuple([0.5] * 2 + [0.0] * 46)
    qa = Queue(id="a", handle_time=deterministic(60), arrivals=Arrivals(volumes=vol), head_start=1800.0)
    qb = Queue(id="b", handle_time=deterministic(60), arrivals=Arrivals(volumes=vol))
    pool = Pool(id="p", skills=(Skill("a"), Skill("b")),
                staffing=Staffing(shifts=(Shift(start=dt.time(8), hours=8, agents=1),)))
    sc = Scenario(name="two", horizon=Horizon(start=MONDAY, days=1), queues=(qa, qb), pools=(pool,),
                  simulation=SimulationSettings(keep_contacts=True))
    checked = 0
    for seed in range(1, 30):
        rec, _ = run_checked(sc, seed)
        rows = [dict(zip(CONTACT_COLUMNS, r)) for r in rec.contacts]
        key = {"a": 1800.0, "b": 0.0}
        order = sorted(rows, key=lambda r: r["arrival"] - key[r["queue"]])
        assert [r["answer"] for r in order] == [8 * 3600.0 + 60 * k for k in range(len(rows))]
        if {r["queue"] for r in rows} == {"a", "b"} and sorted(rows, key=lambda r: r["arrival"]) != order:
            checked += 1  # the head start changed the order here
    assert checked >= 2


def test_an_overflow_pool_picks_by_the_same_rule():
    """The pool serves a and b only after 60 s of waiting (overflow): with a huge head
    start on a it still takes a's contacts first, as a strict priority would."""
    def centre(head, priorities):
        sc = _two_queues(head=head, priorities=priorities, agents=4)
        front = Pool(id="front", skills=(Skill("a"),), staffing=Staffing(agents=3))
        flex = dataclasses.replace(sc.pools[0], id="flex", skills=(
            Skill("a", priority=priorities[0], overflow_after=60), Skill("b", priority=priorities[1])))
        return dataclasses.replace(sc, pools=(front, flex))

    for seed in (1, 2):
        strict, head = _record(centre(0.0, (1, 2)), seed), _record(centre(1e7, (1, 1)), seed)
        assert sum(strict.queues[1].abandoned) > 20
        assert _same(strict, head)
