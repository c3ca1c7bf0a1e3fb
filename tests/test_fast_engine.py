"""The fast engine (issue 11) gives exactly the SimPy engine's recording.

Exactness is the whole contract (same random draws in the same order, same tie
breaks, same float operations), so every check here is an equality, not a
tolerance: every per-interval counter and wait sum, every answered wait in order,
agent time per state, paid and absent time, overruns, breaks, busyness factors, the
contact log and agent-state records. It is checked on every example scenario the
fast engine covers (horizons cut as the golden tests do) with two seeds, on random
small centres (hypothesis) and at two arrivals a day; and ``unsupported`` must name
each feature the fast engine leaves to the SimPy engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import replace

import golden
import pytest
from helpers import (
    MONDAY, Arrivals, Escalation, Horizon, Pool, Queue, Scenario, ServiceLevelTarget,
    SimulationSettings, Skill, Staffing, deterministic, exponential,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim.distributions import DistributionSpec
from bposim.engine.core import simulate_model
from bposim.engine.fast import ensure_compiled, simulate_fast, unsupported
from bposim.engine.model import QueueModel, compile_scenario
from bposim.engine.recorder import CONTACT_COLUMNS, PoolStats, QueueStats
from bposim.rng import Streams
from bposim.scenario.schema import Attrition, Break, Proficiency, Retrial, Shift, Site

# every field of the stats, so that a counter added later is compared too ("waits" is
# compared on its own below; backlog and task figures belong to features the fast engine
# leaves to the SimPy engine, and are None on both)
QUEUE_FIELDS = tuple(f.name for f in dataclasses.fields(QueueStats) if f.name not in ("n", "waits"))
POOL_FIELDS = tuple(f.name for f in dataclasses.fields(PoolStats) if f.name != "n")


def _diff(a, b, path: str) -> str | None:
    """Where ``a`` and ``b`` first differ (floats compared exactly, NaN equal to NaN)."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return None
        # (numpy floats are floats: the SimPy engine's scaled times are np.float64)
        both = isinstance(a, float) and isinstance(b, float)
        return None if both and a == b else f"{path}: {a!r} != {b!r}"
    if isinstance(a, (list, tuple)) or hasattr(a, "typecode"):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def assert_same_recording(simpy, fast) -> None:
    problems = []
    for k, (q1, q2) in enumerate(zip(simpy.queues, fast.queues, strict=True)):
        for name in QUEUE_FIELDS + ("waits",):
            problems.append(_diff(getattr(q1, name), getattr(q2, name), f"queue {k} {name}"))
    for k, (p1, p2) in enumerate(zip(simpy.pools, fast.pools, strict=True)):
        for name in POOL_FIELDS:
            problems.append(_diff(getattr(p1, name), getattr(p2, name), f"pool {k} {name}"))
    problems.append(_diff(simpy.contacts, fast.contacts, "contacts") if simpy.contacts is not None
                    or fast.contacts is not None else None)
    problems.append(_diff(simpy.agent_states, fast.agent_states, "agent states")
                    if simpy.agent_states is not None or fast.agent_states is not None else None)
    if simpy.busyness != fast.busyness:
        problems.append("busyness factors differ")
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems[:10])


def _both(model, seed):
    return simulate_model(model, Streams(seed)), simulate_fast(model, Streams(seed))


def _keep_all(scenario):
    return replace(scenario, simulation=replace(scenario.simulation, keep_contacts=True,
                                                keep_agent_states=True))


def test_compiles_or_loads_from_the_cache():
    seconds, cached = ensure_compiled()
    assert seconds >= 0 and isinstance(cached, bool)


COVERED = [c for c in golden.cases() if not unsupported(compile_scenario(golden.scenario_of(c)))]


def test_most_example_scenarios_are_covered():
    names = {c.name.split(":")[0] for c in COVERED}
    assert {"single_queue_erlang_c", "customer_service_multiskill", "tech_support_tiers",
            "sourcing_mix", "planning_week"} <= names


@pytest.mark.parametrize("case", COVERED, ids=[c.name for c in COVERED])
def test_example_scenario_identical_to_simpy(case):
    sc = _keep_all(golden.shorten(golden.scenario_of(case), 1))  # one day keeps it quick
    model = compile_scenario(sc)
    for seed in (7, 20261202):
        simpy, fast = _both(model, seed)
        assert sum(map(sum, (q.answered for q in simpy.queues))) > 0
        assert_same_recording(simpy, fast)


EARLY = tuple([1.0, 1.0] + [0.0] * 46)  # two expected contacts a day, in the first hour


def test_two_arrivals_a_day_identical_over_many_seeds():
    site = Site(id="s", fcr=0.5, handle_time_factor=1.2)
    forecast = (120.0, 30.0) + (math.nan,) * 46  # per-interval means scale handle and patience
    t1 = Queue(id="t1", handle_time=exponential(60),
               arrivals=Arrivals(volumes=EARLY, aht=forecast, patience=forecast),
               patience=exponential(30), after_work=deterministic(10),
               escalations=(Escalation(to="t2", probability=0.5, mode="consult"),),
               repeat_after=deterministic(600))
    t2 = Queue(id="t2", handle_time=exponential(90), arrivals=Arrivals(volumes=EARLY))
    sc = _keep_all(Scenario(
        name="small", horizon=Horizon(start=MONDAY, days=2), queues=(t1, t2),
        pools=(Pool(id="a", skills=(Skill("t1"),), staffing=Staffing(agents=1), site="s",
                    shrinkage=0.2),
               Pool(id="b", skills=(Skill("t2"), Skill("t1", priority=2, overflow_after=20)),
                    staffing=Staffing(agents=1))),
        sites=(site,), simulation=SimulationSettings()))
    model = compile_scenario(sc)
    assert model.queues[0].handle_scale is not None and model.queues[0].patience_scale is not None
    offered = 0
    for seed in range(25):
        simpy, fast = _both(model, seed)
        assert_same_recording(simpy, fast)
        offered += sum(simpy.queues[0].offered)
    assert 0 < offered < 200


def test_window_refills_and_table_growth_keep_the_recording(monkeypatch):
    """Streams held in one-block windows (refilled as they run low) and growing tables
    that start tiny (doubled between events) give the same recording."""
    from bposim.engine.fast import arrays
    monkeypatch.setattr(arrays, "WINDOW", 1)
    small = arrays.new_dyn
    monkeypatch.setattr(arrays, "new_dyn", lambda I, *caps: small(I, 16, 16, 16, 16, 16))
    busy = tuple([0.0] * 14 + [60.0] * 24 + [0.0] * 10)  # 1440 a day from 07:00 to 19:00
    t1 = Queue(id="t1", handle_time=exponential(200), arrivals=Arrivals(volumes=busy),
               patience=exponential(90), after_work=exponential(20),
               escalations=(Escalation(to="t2", probability=0.2),
                            Escalation(to="t2", probability=0.1, mode="consult",
                                       consult_time=exponential(60))))
    t2 = Queue(id="t2", handle_time=exponential(300), patience=exponential(300),
               repeat_after=exponential(1800))
    sc = _keep_all(Scenario(
        name="windows", horizon=Horizon(start=MONDAY, days=2), queues=(t1, t2),
        pools=(Pool(id="a", skills=(Skill("t1"),), site="s", shrinkage=0.2,
                    staffing=Staffing(shifts=(Shift(start=dt.time(7), hours=12, agents=24),)),
                    breaks=(Break(15, 2.0, 4.0), Break(30, 5.0, 7.0))),
               Pool(id="b", skills=(Skill("t2"), Skill("t1", priority=2, overflow_after=30)),
                    staffing=Staffing(agents=6), absenteeism=0.2)),
        sites=(Site(id="s", fcr=0.7),), simulation=SimulationSettings()))
    simpy, fast = _both(compile_scenario(sc), 3)
    assert sum(simpy.queues[0].offered) > 2048  # more than one window of its streams
    assert_same_recording(simpy, fast)


HANDLE = CONTACT_COLUMNS.index("handle_time")
QUEUE, ORIGIN = CONTACT_COLUMNS.index("queue"), CONTACT_COLUMNS.index("origin")


@pytest.mark.parametrize("curve", ["linear", "exponential"])
def test_learning_curves_and_attrition_identical_to_simpy(curve):
    """New hires and replacement hires slower by a curve, leavers drawn from the pool's
    attrition stream: the same on both engines, and the curve does change the run."""
    busy = tuple([0.0] * 16 + [40.0] * 24 + [0.0] * 8)
    q = Queue(id="q", handle_time=exponential(240), arrivals=Arrivals(volumes=busy),
              patience=exponential(120), after_work=exponential(30))
    shifts = Staffing(shifts=(Shift(start=dt.time(8), hours=12, agents=12),))

    def centre(proficiency):
        return compile_scenario(_keep_all(Scenario(
            name="learning", horizon=Horizon(start=MONDAY, days=3), queues=(q,),
            pools=(Pool(id="p", skills=(Skill("q"),), staffing=shifts, site="s",
                        proficiency=proficiency,
                        attrition=Attrition(annual_rate=150.0, recruiting_delay_weeks=0.05)),),
            sites=(Site(id="s", handle_time_factor=1.1),), simulation=SimulationSettings())))

    learning = centre(Proficiency(new_hires=6, initial_factor=2.0, weeks_to_proficiency=0.3,
                                  curve=curve))
    tenured = centre(None)
    assert unsupported(learning) == [] and unsupported(tenured) == []
    leavers = hires = 0
    for seed in range(4):
        simpy, fast = _both(learning, seed)
        assert_same_recording(simpy, fast)
        leavers, hires = leavers + simpy.pools[0].leavers, hires + simpy.pools[0].hires
        slow = sum(c[HANDLE] for c in fast.contacts if c[HANDLE] is not None)
        base = _both(tenured, seed)
        assert_same_recording(*base)
        quick = sum(c[HANDLE] for c in base[1].contacts if c[HANDLE] is not None)
        assert slow > 1.05 * quick  # six of twelve agents start at twice the handle time
    assert leavers > 0 and hires > 0


def test_retrials_and_head_start_identical_to_simpy():
    """Abandoned customers calling again, and a queue credited a head start when agents
    pick the longest-waiting contact: the same on both engines, and both change the run."""
    busy = tuple([0.0] * 16 + [30.0] * 24 + [0.0] * 8)
    sales = Queue(id="sales", handle_time=exponential(300), arrivals=Arrivals(volumes=busy),
                  patience=exponential(90), repeat_after=None,
                  retrial=Retrial(probability=0.6, delay=exponential(600)))
    care = Queue(id="care", handle_time=exponential(240), arrivals=Arrivals(volumes=busy),
                 patience=exponential(120), head_start=120.0,
                 escalations=(Escalation(to="sales", probability=0.2),))

    def centre(sales, care):
        return compile_scenario(_keep_all(Scenario(
            name="retrials", horizon=Horizon(start=MONDAY, days=2), queues=(sales, care),
            pools=(Pool(id="p", skills=(Skill("sales"), Skill("care")),
                        staffing=Staffing(shifts=(Shift(start=dt.time(8), hours=12, agents=7),))),),
            simulation=SimulationSettings())))

    both = centre(sales, care)
    no_head_start = centre(sales, replace(care, head_start=0.0))
    assert unsupported(both) == []
    retrials = 0
    waits = {"with": [0.0, 0], "without": [0.0, 0]}  # care: summed wait, answered
    for seed in range(4):
        for name, model in (("with", both), ("without", no_head_start)):
            simpy, fast = _both(model, seed)
            assert_same_recording(simpy, fast)  # retrials counters included
            care_stats = fast.queues[1]
            waits[name][0] += sum(care_stats.wait_answered)
            waits[name][1] += sum(care_stats.answered)
            # the counter against the contact log: sales contacts that are retrials
            logged = sum(1 for c in fast.contacts if c[QUEUE] == "sales" and c[ORIGIN] == "retrial")
            assert sum(fast.queues[0].retrials) == logged
            retrials += logged
    assert retrials > 100
    # agents pick care's contacts earlier with the head start: care waits less
    assert waits["with"][0] / waits["with"][1] < waits["without"][0] / waits["without"][1]


# -- random small centres -----------------------------------------------------------
DISTS = st.sampled_from([
    exponential(120), DistributionSpec("lognormal", mean=150, cv=0.8),
    DistributionSpec("gamma", mean=90, cv=1.3), deterministic(60),
    DistributionSpec("uniform", low=20, high=200),
    DistributionSpec("empirical", values=(30.0, 60.0, 400.0)),
])


@st.composite
def centres(draw):
    nq = draw(st.integers(1, 3))
    ids = [f"q{i}" for i in range(nq)]
    per_day = 48
    queues = []
    for i, qid in enumerate(ids):
        rate = draw(st.sampled_from([0.0, 0.5, 2.0, 5.0]))
        opening = draw(st.integers(0, 20))
        volumes = tuple(rate if opening <= k < opening + 24 else 0.0 for k in range(per_day))
        others = [o for o in ids if o != qid]
        escalations = ()
        if others and draw(st.booleans()):
            escalations = tuple(
                Escalation(to=o, probability=draw(st.sampled_from([0.1, 0.3])),
                           mode=draw(st.sampled_from(["transfer", "consult"])),
                           consult_time=draw(st.none() | DISTS))
                for o in draw(st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True)))
        patience = draw(st.none() | DISTS)
        # per-interval means from a forecast (NaN: none given): handle and patience scales
        means = st.none() | st.sampled_from([tuple([math.nan, 90.0, 400.0] * 16), (150.0,) * 48])
        queues.append(Queue(
            id=qid, handle_time=draw(DISTS),
            arrivals=Arrivals(volumes=volumes, busyness_cv=draw(st.sampled_from([0.0, 0.3])),
                              aht=draw(means), patience=draw(means) if patience else None),
            after_work=draw(st.none() | DISTS), patience=patience,
            service_level=ServiceLevelTarget(answer_within=draw(st.sampled_from([10, 30])), target=0.8),
            short_abandon_seconds=draw(st.sampled_from([0.0, 5.0, 20.0])),
            priority=draw(st.integers(1, 3)), escalations=escalations,
            repeat_after=draw(st.none() | st.just(exponential(900))),
            head_start=draw(st.sampled_from([0.0, 0.0, 30.0, 900.0])),
            retrial=draw(st.none() | st.builds(
                Retrial, probability=st.sampled_from([0.4, 1.0]), delay=DISTS))))
    sites = (Site(id="near", handle_time_factor=1.1, fcr=0.8, escalation_factor=1.5),
             Site(id="far", timezone="Asia/Manila", handle_time_factor=0.9, fcr=0.95))
    pools = []
    for j in range(draw(st.integers(1, 3))):
        skills = tuple(Skill(q, priority=draw(st.integers(1, 2)),
                             overflow_after=draw(st.sampled_from([0.0, 0.0, 15.0, 60.0])))
                       for q in draw(st.lists(st.sampled_from(ids), min_size=1, max_size=nq, unique=True)))
        kind = draw(st.sampled_from(["agents", "per_interval", "shifts"]))
        if kind == "agents":  # 0 agents too: everything waits, abandons or is left at the end
            staffing = Staffing(agents=draw(st.integers(0, 4)))
        elif kind == "per_interval":  # one day's headcounts, repeated: a base and a block
            base, block, start = draw(st.integers(0, 2)), draw(st.integers(0, 4)), draw(st.integers(0, 40))
            staffing = Staffing(per_interval=tuple(
                block if start <= k < start + 8 else base for k in range(per_day)))
        else:
            staffing = Staffing(shifts=tuple(
                Shift(start=dt.time(draw(st.integers(0, 20))), hours=draw(st.sampled_from([4, 8, 9.5])),
                      agents=draw(st.integers(1, 3)))
                for _ in range(draw(st.integers(1, 2)))))
        breaks = ()
        if draw(st.booleans()):
            breaks = (Break(15, 1.0, 3.0), Break(30, 3.5, 5.5))
        # learning curves short and attrition fast enough to matter within two days
        proficiency = draw(st.none() | st.builds(
            Proficiency, new_hires=st.integers(0, 3), initial_factor=st.sampled_from([1.5, 2.5]),
            weeks_to_proficiency=st.sampled_from([0.1, 0.3, 12.0]),
            curve=st.sampled_from(["linear", "exponential"])))
        attrition = draw(st.none() | st.builds(
            Attrition, annual_rate=st.sampled_from([50.0, 300.0]),
            recruiting_delay_weeks=st.sampled_from([0.0, 0.05])))
        pools.append(Pool(
            id=f"p{j}", skills=skills, staffing=staffing, breaks=breaks,
            max_on_break=draw(st.sampled_from([0.1, 0.5])),
            shrinkage=draw(st.sampled_from([0.0, 0.1, 0.3])),
            shrinkage_period_minutes=draw(st.sampled_from([5.0, 15.0])),
            absenteeism=draw(st.sampled_from([0.0, 0.25])),
            site=draw(st.sampled_from([None, "near", "far"])),
            proficiency=proficiency, attrition=attrition))
    return _keep_all(Scenario(
        name="random", horizon=Horizon(start=MONDAY, days=draw(st.integers(1, 2))),
        queues=tuple(queues), pools=tuple(pools), sites=sites, simulation=SimulationSettings()))


@settings(max_examples=30)
@given(centres(), st.integers(0, 2**32 - 1))
def test_random_centres_identical_to_simpy(scenario, seed):
    model = compile_scenario(scenario)
    assert unsupported(model) == []
    assert_same_recording(*_both(model, seed))



# -- what the fast engine does not cover --------------------------------------------
def _base():
    return compile_scenario(Scenario(
        name="base", horizon=Horizon(start=MONDAY, days=1),
        queues=(Queue(id="q", handle_time=exponential(60), arrivals=Arrivals(volumes=EARLY)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=1)),),
        simulation=SimulationSettings()))


def _with_queue(model, **kw):
    """``model`` with its queue changed (None if the Model has no such field yet)."""
    if not set(kw) <= {f.name for f in dataclasses.fields(model.queues[0])}:
        return None
    return replace(model, queues=(replace(model.queues[0], **kw),))


def _with_pool(model, **kw):
    if not set(kw) <= {f.name for f in dataclasses.fields(model.pools[0])}:
        return None
    return replace(model, pools=(replace(model.pools[0], **kw),))


@dataclasses.dataclass(frozen=True)
class _NewQueueModel(QueueModel):
    novelty: int = 0  # a field the fast engine has never heard of


def test_unsupported_names_each_feature_it_leaves_to_simpy():
    m = _base()
    assert unsupported(m) == []
    cases = {
        "outbound campaigns": replace(m, campaigns=(object(),)),
        "chat concurrency > 1": _with_pool(m, concurrency=3),
        "backlog blocks": _with_pool(m, backlog_blocks=((0.0, 3600.0),)),
        "QA review": _with_pool(m, qa=object()),
        "coaching": _with_pool(m, coaching=object()),
        "deferrable queues (email, back office)": _with_queue(m, deferrable=True),
        "callbacks": _with_queue(m, callback=object()),
        "novelty (queue q)": replace(m, queues=(_NewQueueModel(
            **{f.name: getattr(m.queues[0], f.name) for f in dataclasses.fields(QueueModel)},
            novelty=1),)),
    }
    for name, model in cases.items():
        if model is not None:
            assert name in unsupported(model), name
    with pytest.raises(ValueError, match="does not cover chat concurrency"):
        simulate_fast(cases["chat concurrency > 1"], Streams(1))
