"""Stage 1 against theory: on a single Erlang A queue the simulated requirement is
Erlang A's, and the closed loop leaves a schedule that meets its targets alone."""

from __future__ import annotations

import numpy as np

import bposim
from bposim import erlang
from bposim.planning.evaluate import resolve_targets, with_targets
from bposim.planning.loop import raise_need
from bposim.planning.requirements import erlang_requirements, simulated_requirements
from bposim.planning.schedule import solve
from bposim.planning.templates import build_columns, schedule_frame

FLAT = """\
name: flat
horizon: {{start: 2026-01-05, days: 1, interval_minutes: 60}}
queues:
  - id: q
    arrivals: {{volumes: [0,0,0,0,0,0,0,0, {v},{v},{v},{v},{v},{v},{v},{v}, 0,0,0,0,0,0,0,0]}}
    handle_time: {{dist: exponential, mean: 240}}
    patience: {{dist: exponential, mean: 180}}
    service_level: {{answer_within: 20, target: {target}}}
pools:
  - {{id: p, skills: [q], staffing: {{agents: 1}}}}
planning:
  replications: 12
  targets: {{q: {{per: [{per}]}}}}
  pools:
    p:
      templates: [{{name: day, starts: ["08:00"], hours: 8}}]
"""


def test_stage1_equals_erlang_a_on_a_flat_single_queue():
    # 120 calls an hour of 4 minutes: 8 Erlangs, exponential times and patience, no
    # breaks or shrinkage: the M/M/n+M queue of Erlang A in every open hour.
    sc = bposim.parse_scenario(FLAT.format(v=120, target=0.8, per="interval"))
    spec = sc.planning
    targets = resolve_targets(sc, spec)
    columns = build_columns(sc, spec)
    _c, a_need = erlang_requirements(sc, targets, spec, columns.pools)
    theory = erlang.required_agents_erlang_a(8.0, 240.0, 180.0, 20.0, 0.8)
    assert (a_need[0, 8:16] == theory).all() and (a_need[0, :8] == 0).all()
    # start stage 1 two agents off in alternate hours, so it has to find its way back
    start = a_need.copy()
    start[0, 8:16] += np.array([2, -2] * 4)
    need, history = simulated_requirements(sc, targets, spec, columns.pools, start,
                                           replications=12, seed=7, iterations=8,
                                           run_kw={"workers": 1, "executor": "serial"})
    assert len(history) >= 2
    assert (np.abs(need[0, 8:16] - theory) <= 1).all(), (need[0, 8:16], theory)
    assert (need[0, :8] == 0).all() and (need[0, 16:] == 0).all()


def test_a_schedule_that_meets_its_targets_is_returned_unchanged():
    # An easy daily target (50 % within 20 s): the first schedule meets it, so the loop
    # stops after round 0 and the plan is exactly the program's solution for stage 1.
    sc = bposim.parse_scenario(FLAT.format(v=60, target=0.5, per="day"))
    result = bposim.plan(sc, replications=6, workers=1, rounds=3, iterations=1)
    assert len(result.rounds) == 1 and bool(result.rounds["met"].iloc[0])
    req = result.requirements
    assert (req["planned_for"] == req["simulated"]).all()
    columns = build_columns(with_targets(sc, resolve_targets(sc, sc.planning)), sc.planning)
    need = req.pivot(index="pool", columns="interval", values="simulated").to_numpy(dtype=float)
    direct = solve(columns.problem(need, sc.planning, sc.horizon))
    expected = schedule_frame(columns, direct.counts, sc.planning)
    cols = ["pool", "template", "start", "hours", "day", "count"]
    assert result.schedule[cols].equals(expected[cols])


def test_raise_need_lifts_missed_intervals_above_what_the_schedule_gave():
    sc = bposim.parse_scenario(FLAT.format(v=60, target=0.8, per="interval, day"))
    targets = resolve_targets(sc, sc.planning)
    columns = build_columns(sc, sc.planning)
    n = sc.horizon.n_intervals
    need = np.zeros((1, n))
    need[0, 8:16] = 3
    have = need + 0.5
    arrays = {"sl_mean": np.full((1, n), 0.79), "miss": np.zeros((1, n), bool),
              "day_miss": np.array([[True]]), "occupancy_miss": np.zeros((1, n), bool),
              "pools": np.array(["p"])}
    arrays["sl_mean"][0, :8] = np.nan  # closed hours: no contacts, nothing to raise
    arrays["sl_mean"][0, 16:] = np.nan
    arrays["miss"][0, 9] = True
    arrays["sl_mean"][0, 12] = 0.9  # above target: not raised for the day's miss
    new = raise_need(sc, columns, need, have, arrays, targets)
    raised = np.nonzero(new[0] > need[0])[0]
    assert 12 not in raised and 9 in raised and set(raised) <= set(range(8, 16))
    assert (new[0, raised] == 4).all()  # floor(3.5) + 1


def test_stage1_resumes_from_finished_iterations(monkeypatch):
    sc = bposim.parse_scenario(FLAT.format(v=60, target=0.8, per="interval"))
    spec = sc.planning
    targets = resolve_targets(sc, spec)
    pools = build_columns(sc, spec).pools
    _c, start = erlang_requirements(sc, targets, spec, pools)
    start[0, 8:16] += 2  # over-staffed: stage 1 has something to lower
    kept = {}
    kw = dict(replications=4, seed=3, iterations=2, run_kw={"workers": 1, "executor": "serial"})
    first, _ = simulated_requirements(sc, targets, spec, pools, start,
                                      save=lambda it, n, s, r: kept.__setitem__(it, (n.copy(), s.copy(), r)),
                                      **kw)
    assert kept

    def no_simulation(*_a, **_k):
        raise AssertionError("a finished iteration was simulated again")

    monkeypatch.setattr("bposim.planning.requirements.run", no_simulation)
    again, _ = simulated_requirements(sc, targets, spec, pools, start, load=kept.get, **kw)
    assert (again == first).all()


def test_two_calls_a_day_are_planned():
    # small counts: most intervals have no contact in most replications (no service
    # level to judge); the plan still covers the hours Erlang asks for and runs
    text = FLAT.format(v=0, target=0.8, per="interval, day").replace(
        "[0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,", "[0,0,0,0,0,0,0,0, 1,0,0,0,1,0,0,0,")
    sc = bposim.parse_scenario(text)
    result = bposim.plan(sc, replications=4, workers=1, rounds=1, iterations=2)
    req = result.requirements
    assert (req.loc[req["interval"].isin([8, 12]), "erlang_a"] == 1).all()
    assert result.paid_hours == 8.0  # one 8-hour shift covers both calls
    assert set(result.queue_attainment()["metric"]) == {"service_level"}


CONSULTS = """\
name: consults
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: t1
    arrivals: {volumes: [0,0,0,0,0,0,0,0, 90,90,90,90,90,90,90,90, 0,0,0,0,0,0,0,0]}
    handle_time: {dist: exponential, mean: 240}
    patience: {dist: exponential, mean: 300}
    escalations: [{to: sme, probability: 0.6, mode: consult, consult_time: 400}]
  - {id: sme, handle_time: {dist: exponential, mean: 400}}
pools:
  - {id: tier1, skills: [t1], staffing: {agents: 1}}
  - {id: experts, skills: [sme], staffing: {agents: 1}}
planning:
  targets: {t1: {per: [day]}, sme: {per: [day], service_level: {target: 0.5}}}
  pools:
    tier1: {templates: [{name: day, starts: ["08:00"], hours: 8}]}
    experts: {templates: [{name: day, starts: ["08:00"], hours: 8}]}
"""


def test_the_closed_loop_raises_what_erlang_misses():
    # 60 % of tier-1 calls hold the agent for a 400 s consult that Erlang does not see:
    # the Erlang A requirement (stage 1 skipped) misses the daily target, so the loop
    # must add agents and solve again until the target holds (or the rounds run out).
    sc = bposim.parse_scenario(CONSULTS)
    result = bposim.plan(sc, replications=4, workers=1, rounds=3, iterations=0)
    rounds = result.rounds
    assert len(rounds) >= 2 and not bool(rounds["met"].iloc[0])
    assert rounds["cost"].is_monotonic_increasing or rounds["paid_hours"].is_monotonic_increasing
    req = result.requirements
    assert (req["planned_for"] >= req["simulated"]).all() and (req["planned_for"] > req["simulated"]).any()
    first_sl = float(rounds["service_level"].iloc[0].split()[1].rstrip("%"))
    last = result.queue_attainment()
    last_sl = last[(last["queue"] == "t1") & (last["metric"] == "service_level")]["value"].iloc[0]
    assert 100 * last_sl > first_sl
