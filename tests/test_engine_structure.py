"""Engine 2 structure: events as data, components, observers (issue 10).

- The SimPy engine keeps every golden digest (``tests/test_golden.py`` may run the fast
  engine where ``auto`` picks it, so the SimPy engine is forced here).
- The trace is the event stream SimPy actually ran: one entry per event, in time order,
  with the kinds a known small centre must produce.
- Observers see every contact exactly once: their own counts and waits, made from the
  domain events alone, equal the recorded statistics; a failing observer is named.
"""

from __future__ import annotations

import math

import golden
import pytest
from helpers import MONDAY, single_queue

import bposim
import bposim.montecarlo as mc
from bposim.distributions import DistributionSpec, exponential
from bposim.engine.core import Engine, simulate_model
from bposim.engine.observers import ObserverError
from bposim.engine.select import EngineChoice
from bposim.rng import Streams
from bposim.scenario.schema import Arrivals, Horizon, Pool, Queue, Scenario, Skill, Staffing

CASES = golden.cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_simpy_engine_keeps_the_golden_digests(case, monkeypatch):
    monkeypatch.setattr(mc, "choose_engine", lambda *a, **k: EngineChoice("simpy", "simpy"))
    expected = golden.load_golden()["cases"].get(case.name)
    if expected is None:
        pytest.skip("no golden digests yet (tests/test_golden.py says so)")
    assert not golden.differences(case.name, expected, golden.record(case))


def _two_a_day() -> Scenario:
    """Two arrivals a day, one agent from 08:00 to 20:00, deterministic talk of 60 s."""
    vols = tuple([0.0] * 20 + [1.0] + [0.0] * 6 + [1.0] + [0.0] * 20)
    return Scenario(
        name="two", horizon=Horizon(start=MONDAY, days=1),
        queues=(Queue(id="q", handle_time=DistributionSpec("deterministic", mean=60.0),
                      arrivals=Arrivals(volumes=vols), patience=exponential(600)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=1)),),
    )


def test_trace_is_the_event_stream_simpy_ran():
    model = bposim.compile_scenario(_two_a_day())
    for seed in range(6):
        trace: list = []
        engine = Engine(model, Streams(seed), trace=trace)
        steps = 0
        step = engine.env.step

        def counted():
            nonlocal steps
            step()  # the last step, SimPy's own "until" event, raises and is not counted
            steps += 1

        engine.env.step = counted
        rec = engine.run()
        assert len(trace) == steps  # every event SimPy ran is one entry
        assert [t for t, *_ in trace] == sorted(t for t, *_ in trace)
        kinds = [k for _, k, _, _ in trace]
        assert all(target == "q" for _, k, target, _ in trace if k == "arrival")
        arrivals = sum(rec.queues[0].offered)
        assert kinds.count("arrival") == arrivals
        # the agent is always free when a call comes (hours apart): each is answered at once,
        # ends 60 s later, and an abandonment deadline is never set
        assert kinds.count("end_talk") == sum(rec.queues[0].answered) == arrivals
        assert "abandon" not in kinds
        for t, kind, target, _ in trace:
            if kind == "end_talk":
                assert target == "p-0000"
                assert any(k == "arrival" and math.isclose(t - 60.0, s) for s, k, _, _ in trace)
        assert kinds.count("on_duty") == 1


def test_trace_as_a_callback_gets_the_same_stream():
    model = bposim.compile_scenario(single_queue(60, 180, 3, patience=60, hours=2))
    listed: list = []
    simulate_model(model, Streams(1), trace=listed)
    called: list = []
    simulate_model(model, Streams(1), trace=called.append)
    assert listed == called and len(listed) > 100


def test_stale_events_run_and_do_nothing():
    """Lazy cancellation: every contact that waits has its abandonment deadline on the
    list; those of contacts answered in time still run (they are in the trace) and
    change nothing: the abandons counted are exactly the deadlines of contacts still
    waiting, counted from the contact log."""
    sc = single_queue(150, 180, 7, patience=120, hours=6, keep_contacts=True)
    trace: list = []
    rec = simulate_model(bposim.compile_scenario(sc), Streams(2), trace=trace)
    deadlines = [t for t, kind, _, _ in trace if kind == "abandon"]
    log = rec.contacts
    abandoned = [c for c in log if c[8] == "abandoned"]
    waited = [c for c in log if c[8] == "answered" and c[7] > 0]
    assert len(abandoned) == sum(rec.queues[0].abandoned) > 0
    # one deadline per contact that waited (all arrive hours before the end) ...
    assert len(deadlines) == len(abandoned) + len(waited)
    # ... and only those of contacts still waiting became abandons, at their own time
    assert sorted(c[6] for c in abandoned) == sorted(
        t for t in deadlines if any(abs(t - c[6]) < 1e-9 for c in abandoned))


class Tally:
    def __init__(self):
        self.counts = {"offered": 0, "answered": 0, "abandoned": 0, "unanswered": 0}
        self.wait_sum = 0.0
        self.ended_ids: list = []
        self.state_changes = 0

    def offered(self, now, c):
        assert c.arrival == now
        self.counts["offered"] += 1

    def answered(self, now, c, agent):
        self.counts["answered"] += 1
        self.wait_sum += now - c.arrival

    def abandoned(self, now, c):
        self.counts["abandoned"] += 1

    def unanswered(self, now, c):
        self.counts["unanswered"] += 1

    def ended(self, now, c, outcome):
        self.ended_ids.append(c.id)

    def agent_state(self, now, agent, old, new):
        self.state_changes += 1


@pytest.mark.parametrize("seed", [1, 2])
def test_an_observer_counts_what_the_recording_counts(seed):
    sc = single_queue(120, 180, 5, patience=60, hours=3)
    tally = Tally()
    result = bposim.simulate(sc, seed=seed, observers=[tally])
    t = result.totals.set_index(["metric", "scope"])["value"]
    assert tally.counts["offered"] == t[("offered", "queue:q")] > 300
    assert tally.counts["answered"] == t[("answered", "queue:q")]
    assert tally.counts["abandoned"] == t[("abandoned", "queue:q")] > 0
    assert sum(tally.counts[k] for k in ("answered", "abandoned", "unanswered")) == tally.counts["offered"]
    # each contact's record ends once (answered ones at talk end, the rest when they leave)
    assert len(tally.ended_ids) == len(set(tally.ended_ids)) == tally.counts["offered"]
    assert tally.state_changes > 0
    # the same run without the observer gives the same figures (observers do not steer)
    plain = bposim.simulate(sc, seed=seed, engine="simpy").totals
    assert plain["value"].tolist() == result.totals["value"].tolist()
    # the waits it summed are the recorded ones (independent sum over answered contacts)
    rec = simulate_model(bposim.compile_scenario(sc), Streams(seed), observers=[Tally()])
    assert math.isclose(sum(rec.queues[0].wait_answered), tally.wait_sum, rel_tol=1e-12)


def test_observer_counts_at_two_arrivals_a_day():
    sc = _two_a_day()
    for seed in range(4):
        tally = Tally()
        rec = simulate_model(bposim.compile_scenario(sc), Streams(seed), observers=[tally])
        assert tally.counts["offered"] == sum(rec.queues[0].offered)
        assert tally.counts["answered"] == sum(rec.queues[0].answered)


class Broken:
    def answered(self, now, c, agent):
        raise ValueError("no room for this one")


def test_an_observer_that_raises_is_named():
    with pytest.raises(ObserverError, match=r"observer Broken\.answered failed at t=[\d.]+ s: "
                                            r"ValueError: no room for this one"):
        bposim.simulate(single_queue(60, 180, 3, hours=2), seed=1, observers=[Broken()])


def test_something_that_is_not_an_observer_is_refused():
    with pytest.raises(ObserverError, match="is not an observer"):
        bposim.simulate(single_queue(60, 180, 3, hours=2), seed=1, observers=[object()])
    with pytest.raises(bposim.BposimError, match="observers need the SimPy engine"):
        bposim.simulate(single_queue(60, 180, 3, hours=2), seed=1, observers=[Tally()], engine="fast")



def _schema_objects(obj, path: str, out: list) -> None:
    """Paths in ``obj`` (a compiled model) holding scenario schema objects."""
    import dataclasses

    import numpy as np

    import bposim.scenario.schema as schema

    if isinstance(obj, (str, int, float, bool, type(None), np.ndarray)):
        return
    if type(obj).__module__ == schema.__name__:
        out.append(f"{path}: {type(obj).__name__}")
        return
    if isinstance(obj, (tuple, list)):
        for i, x in enumerate(obj):
            _schema_objects(x, f"{path}[{i}]", out)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _schema_objects(getattr(obj, f.name), f"{path}.{f.name}", out)


@pytest.mark.parametrize("case", [c for c in CASES if c.variant is None], ids=lambda c: c.name)
def test_the_compiled_model_holds_no_scenario_objects(case):
    """Model = plain data: numbers, tuples, arrays, small frozen dataclasses and
    distribution specs (outbound campaigns' dialer settings included)."""
    found: list = []
    _schema_objects(bposim.compile_scenario(golden.scenario_of(case)), "model", found)
    assert not found, found
