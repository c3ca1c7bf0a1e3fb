"""Measurement windows, service level at several answer times, P(wait) per interval.

Run-level figures must cover exactly the intervals inside ``simulation.measure`` (after
the warm-up): checked against independent counts from the per-interval frames and the
roster. Service level at 20 s and 60 s and P(wait) are checked against Erlang C on an
M/M/c queue within the replications' Student-t intervals.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import replace

import numpy as np
import pytest
from helpers import MONDAY, Arrivals, Horizon, assert_matches, single_queue, values

import bposim
from bposim import erlang
from bposim.errors import ScenarioError
from bposim.scenario import parse_scenario
from bposim.scenario.schema import MeasureWindow


def _run(scenario, reps, seed=3):
    return bposim.run(scenario, replications=reps, seed=seed, executor="serial")


def _with(scenario, *, volumes=None, measure=None, thresholds=None, days=None, warmup=None):
    q = scenario.queues[0]
    if volumes is not None:
        q = replace(q, arrivals=Arrivals(volumes=tuple(float(v) for v in volumes)))
    if thresholds is not None:
        q = replace(q, service_level=replace(q.service_level, report_thresholds=tuple(thresholds)))
    sim = replace(scenario.simulation, measure=measure)
    if warmup is not None:
        sim = replace(sim, warmup_minutes=warmup)
    horizon = scenario.horizon if days is None else Horizon(start=MONDAY, days=days)
    return replace(scenario, queues=(q,), simulation=sim, horizon=horizon)


OFFICE = MeasureWindow(start=dt.time(9), end=dt.time(17))


def test_traffic_only_outside_the_window_counts_nothing():
    night = [5.0] * 18 + [0.0] * 16 + [5.0] * 14  # 00:00-09:00 and 17:00-24:00 only
    res = _run(_with(single_queue(1, 120, 3), volumes=night, measure=OFFICE), 4)
    assert res.intervals["offered"].sum() > 0  # per-interval figures still cover the day
    assert (values(res, "offered", "queue:q") == 0).all()
    assert (values(res, "offered", "all") == 0).all()
    assert np.isnan(values(res, "service_level", "queue:q")).all()


def test_run_level_totals_are_the_window_intervals_of_each_replication():
    res = _run(_with(single_queue(20, 600, 3), measure=OFFICE, warmup=60), 5)
    f = res.intervals
    inside = f[(f["interval"] >= 18) & (f["interval"] < 34)]  # 09:00-17:00, after 01:00 warm-up
    for metric in ("offered", "answered", "abandoned", "answered_within"):
        expected = inside.groupby("replication")[metric].sum().to_numpy()
        if metric == "answered_within":
            got = values(res, "service_level", "queue:q") * values(res, "offered", "queue:q")
        else:
            got = values(res, metric, "queue:q")
        np.testing.assert_allclose(got, expected, err_msg=metric)
    # three agents all day: the window holds 3 x 8 paid hours
    np.testing.assert_allclose(values(res, "paid_hours", "pool:p"), 24.0)
    # and the offered count is Poisson(8 h x 20 an hour) per replication, summed over 5
    total = values(res, "offered", "queue:q").sum()
    assert abs(total - 5 * 160) < 4.5 * np.sqrt(5 * 160)


def test_window_days_pick_whole_days():
    sc = _with(single_queue(20, 120, 3), days=3,
               measure=MeasureWindow(days=("tue",)))  # the second day, all of it
    res = _run(sc, 3)
    f = res.intervals
    day2 = f[(f["interval"] >= 48) & (f["interval"] < 96)].groupby("replication")["offered"].sum()
    np.testing.assert_array_equal(values(res, "offered", "queue:q"), day2.to_numpy())
    np.testing.assert_allclose(values(res, "paid_hours", "pool:p"), 3 * 24.0)


def test_service_level_at_several_answer_times_and_p_wait_match_erlang_c():
    """M/M/12 at 10 Erlangs (P(wait) 0.45): SL at 20 s and 60 s and P(wait), measured
    01:00-23:00 so the empty start and the cut-off end stay out."""
    rate, aht, agents = 200, 180, 12
    sc = _with(single_queue(rate, aht, agents), thresholds=(20, 60),
               measure=MeasureWindow(start=dt.time(1), end=dt.time(23)))
    res = _run(sc, 16)
    load = rate * aht / 3600
    for t in (20, 60):
        assert_matches(values(res, f"sl_at_{t}s", "queue:q"),
                       float(erlang.service_level(load, agents, aht, t)), label=f"SL at {t} s")
    assert_matches(values(res, "p_wait", "queue:q"), float(erlang.erlang_c(load, agents)), label="P(wait)")
    # SL grows with the answer time; the one at the target's own time is service_level
    assert (values(res, "sl_at_60s", "queue:q") >= values(res, "sl_at_20s", "queue:q")).all()
    np.testing.assert_allclose(values(res, "sl_at_20s", "queue:q"), values(res, "service_level", "queue:q"))
    # per interval: P(wait) weighted by offered gives back the run-level figure
    f = res.intervals[(res.intervals["interval"] >= 2) & (res.intervals["interval"] < 46)]
    weighted = (f["p_wait"] * f["offered"]).groupby(f["replication"]).sum() / f.groupby("replication")["offered"].sum()
    np.testing.assert_allclose(weighted.to_numpy(), values(res, "p_wait", "queue:q"))
    s = res.interval_summary
    assert {"p_wait", "sl_at_20s", "sl_at_60s"} <= set(s["metric"])
    assert (s["ci_low"].dropna() >= 0).all()


def test_p_wait_per_interval_counts_small_numbers_exactly():
    """Two contacts a day and one agent: a contact waits only if the agent is busy."""
    sc = _with(single_queue(1, 3000, 1), volumes=[1.0] + [0.0] * 47, thresholds=(0,))
    sc = replace(sc, simulation=replace(sc.simulation, keep_contacts=True))
    for seed in range(20):
        one = bposim.simulate(sc, seed=seed)
        c = one.contacts
        waited = int((c["wait"] > 0).sum())
        first = one.intervals.iloc[0]
        if first["offered"] == 0:
            assert np.isnan(first["p_wait"])
            continue
        assert first["p_wait"] == pytest.approx(waited / first["offered"])
        assert first["sl_at_0s"] == pytest.approx(1 - waited / first["offered"])


# --- validation ----------------------------------------------------------------------

BASE = """\
name: t
horizon:
  start: 2026-01-05
  days: 2
  interval_minutes: 30
queues:
  - id: q
    arrivals: {daily_volume: 100}
    handle_time: 180
    service_level: {answer_within: 20, target: 0.8, report_thresholds: [20, 60]}
pools:
  - id: p
    skills: [q]
    staffing: {agents: 3}
simulation:
  warmup_minutes: 0
  measure: {from: "09:00", to: "17:00"}
"""


def _problems(text):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), source="m.yaml")
    return [(p.path, p.line, p.message) for p in info.value.problems]


def test_measure_and_thresholds_load():
    sc = parse_scenario(BASE)
    assert sc.simulation.measure == MeasureWindow(start=dt.time(9), end=dt.time(17))
    assert sc.queue("q").service_level.report_thresholds == (20.0, 60.0)
    sc = parse_scenario(BASE.replace('to: "17:00"', 'to: "24:00", days: [tue]'))
    assert sc.simulation.measure.end is None and sc.simulation.measure.days == ("tue",)


@pytest.mark.parametrize("change, path, words", [
    ('from: "09:00"', "simulation.measure.from", "time of day"),
    ('from: "09:10"', "simulation.measure.from", "boundary of the 30-minute"),
    ('from: "18:00"', "simulation.measure", "later than"),
    ('from: "09:00", until: "10:00"', "simulation.measure.until", "unknown key"),
    ('from: "09:00", days: [sat]', "simulation.measure", "covers no interval"),
    ('from: "09:00", days: [mo]', "simulation.measure.days[0]", "must be one of"),
])
def test_measure_problems_name_the_field_and_line(change, path, words):
    text = BASE.replace('from: "09:00"', change)
    if change == 'from: "09:00"':
        text = BASE.replace('from: "09:00"', "from: 9")
    problems = _problems(text)
    hit = [p for p in problems if p[0] == path]
    assert hit and words in hit[0][2], problems
    assert hit[0][1] == 17  # the line of measure


@pytest.mark.parametrize("thresholds, words", [
    ("[20, 20]", "twice"),
    ("[20, -5]", ">= 0"),
    ("60", "must be a list"),
    (str(list(range(11))), "at most 10"),
])
def test_report_threshold_problems_name_the_field_and_line(thresholds, words):
    text = BASE.replace("report_thresholds: [20, 60]", f"report_thresholds: {thresholds}")
    problems = _problems(text)
    hit = [p for p in problems if p[0].startswith("queues[0].service_level.report_thresholds")]
    assert hit and words in hit[0][2], problems
    assert hit[0][1] == 10  # the line of service_level
