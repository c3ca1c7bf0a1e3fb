"""Sites and workforce: time zones, breaks, absenteeism, FCR repeats, learning, attrition, cost."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pytest
from helpers import (
    MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing,
    deterministic, exponential, values,
)

import bposim
from bposim.engine.roster import shift_instants
from bposim.engine.workforce import WEEK, YEAR, staffers
from bposim.scenario.schema import Attrition, Break, Proficiency, Shift, Site


def _shifts(agents=20, hours=8.0, start="08:00", days=("mon", "tue", "wed", "thu", "fri")):
    h, m = map(int, start.split(":"))
    return Staffing(shifts=(Shift(start=dt.time(h, m), hours=hours, agents=agents, days=days),))


def _centre(per_hour=120, *, staffing=None, pool_kw=None, sites=(), days=1, keep=False,
            handle=None, queue_kw=None) -> Scenario:
    vols = tuple([0.0] * 16 + [per_hour / 2] * 18 + [0.0] * 14)  # 08:00-17:00
    return Scenario(
        name="wf", horizon=Horizon(start=MONDAY, days=days, timezone="UTC"),
        queues=(Queue(id="q", handle_time=handle or exponential(240), arrivals=Arrivals(volumes=vols),
                      **(queue_kw or {})),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=staffing or _shifts(), **(pool_kw or {})),),
        sites=tuple(sites),
        simulation=SimulationSettings(keep_contacts=keep, keep_agent_states=keep),
    )


# --- time zones ----------------------------------------------------------------------


def test_manila_shift_lands_on_the_right_new_york_hours_across_dst():
    """08:00-17:00 Manila (UTC+8, no DST). New York is UTC-5 until 2026-03-08 02:00,
    UTC-4 after, so the shift starts 19:00 (EST) or 20:00 (EDT) the evening before."""
    horizon = Horizon(start=dt.date(2026, 3, 6), days=4, timezone="America/New_York")
    shift = Shift(start=dt.time(8, 0), hours=9, agents=1)
    got = shift_instants(shift, horizon, "Asia/Manila")
    h = 3600.0
    expected = [
        (0 * 24 * h + 19 * h, 1 * 24 * h + 4 * h),   # Sat 7 Mar Manila = Fri 6 Mar 19:00 EST
        # Sun 8 Mar Manila = Sat 7 Mar 19:00 EST; it ends at 05:00 EDT: on the wall clock of
        # the reference zone the night is an hour short, so the span reads 10 h
        (1 * 24 * h + 19 * h, 2 * 24 * h + 5 * h),
        (2 * 24 * h + 20 * h, 3 * 24 * h + 5 * h),   # Mon 9 Mar Manila = Sun 8 Mar 20:00 EDT
        (3 * 24 * h + 20 * h, 4 * 24 * h),           # Tue 10 Mar Manila, clipped at the end
    ]
    # (Fri 6 Mar Manila = Thu 5 Mar 19:00 EST ends 04:00 on day 0 -> clipped to [0, 4 h))
    assert got == [(0.0, 4 * h)] + expected


def test_site_shift_in_local_time_drives_scheduled_agents():
    site = Site(id="mnl", kind="offshore", timezone="Asia/Manila", cost_per_hour=9.0)
    sc = _centre(staffing=_shifts(agents=10, hours=12, start="22:00",
                                  days=("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
                 pool_kw={"site": "mnl"}, sites=[site])
    one = bposim.simulate(sc, seed=1)
    # 22:00-10:00 Manila = 14:00-02:00 UTC; the previous local day's shift covers 00:00-02:00
    on = one.pools.set_index("interval")["scheduled_agents"]
    assert on[:4].eq(10).all() and on[4:28].eq(0).all() and on[28:].eq(10).all()


# --- breaks, absenteeism, cost ---------------------------------------------------------


BREAKS = (Break(15, 1.5, 3.0), Break(30, 3.5, 5.0, "lunch"), Break(15, 5.5, 7.0))


def test_every_agent_gets_every_break_and_the_cap_holds():
    sc = _centre(160, pool_kw={"breaks": BREAKS, "max_on_break": 0.2}, keep=True)
    one = bposim.simulate(sc, seed=4)
    st = one.agent_states
    br = st[st["state"] == "break"]
    per_agent = br.groupby("agent").size()
    assert len(per_agent) == 20 and (per_agent == 3).all()
    lengths = sorted(np.round((br["end"] - br["start"]) / 60).unique())
    assert lengths == [15, 30]
    # at no moment are more than 20 % of the 20 agents on duty (4) on break
    events = sorted([(t, 1) for t in br["start"]] + [(t, -1) for t in br["end"]], key=lambda e: (e[0], e[1]))
    load, peak = 0, 0
    for _, d in events:
        load += d
        peak = max(peak, load)
    assert peak <= 4
    totals = one.totals.set_index(["metric", "scope"])["value"]
    assert totals[("breaks_taken", "pool:p")] == totals[("breaks_planned", "pool:p")] == 60


def test_paid_hours_equal_scheduled_shift_hours_and_cost_follows():
    site = Site(id="aus", timezone="UTC", cost_per_hour=30.0)
    sc = _centre(pool_kw={"site": "aus", "breaks": BREAKS}, sites=[site], days=3)
    res = bposim.run(sc, replications=2, seed=2, executor="serial")
    paid = values(res, "paid_hours", "pool:p")
    np.testing.assert_allclose(paid, 20 * 8 * 3)  # Mon-Wed, 20 agents, 8 h, overruns apart
    np.testing.assert_allclose(values(res, "cost", "pool:p"), 20 * 8 * 3 * 30.0)
    np.testing.assert_allclose(values(res, "cost", "site:aus"), 20 * 8 * 3 * 30.0)
    answered = values(res, "answered", "queue:q")
    np.testing.assert_allclose(values(res, "cost_per_contact", "all"), 20 * 8 * 3 * 30.0 / answered)


def test_absenteeism_removes_its_share_of_agent_days():
    sc = _centre(pool_kw={"absenteeism": 0.1}, days=5)
    res = bposim.run(sc, replications=6, seed=3, executor="serial")
    paid = values(res, "paid_hours", "pool:p")
    absent = values(res, "absent_hours", "pool:p")
    np.testing.assert_allclose(paid + absent, 20 * 8 * 5)
    shifts_absent = absent.sum() / 8
    n = 20 * 5 * 6
    assert abs(shifts_absent - 0.1 * n) <= 4.5 * math.sqrt(n * 0.1 * 0.9)


# --- quality: FCR, handle-time factor, learning -----------------------------------------


def test_unresolved_contacts_come_back_as_repeats():
    site = Site(id="s", fcr=0.7)
    sc = _centre(120, sites=[site], pool_kw={"site": "s"}, keep=True,
                 queue_kw={"repeat_after": exponential(1800)})
    res = bposim.run(sc, replications=6, seed=5, executor="serial")
    unresolved = values(res, "unresolved", "queue:q").sum()
    answered = values(res, "answered", "queue:q").sum()
    assert abs(unresolved - 0.3 * answered) <= 4.5 * math.sqrt(answered * 0.21)
    one = bposim.simulate(sc, seed=5)
    c = one.contacts.set_index("contact_id")
    repeats = c[c["origin"] == "repeat"]
    assert len(repeats) > 50
    parents = c.loc[repeats["parent_id"]]
    assert (parents["queue"].to_numpy() == "q").all()
    assert (repeats["arrival"].to_numpy() >= parents["end"].to_numpy()).all()


def test_site_handle_time_factor_and_learning_curve():
    site = Site(id="s", handle_time_factor=1.2)
    prof = Proficiency(new_hires=20, initial_factor=1.5, weeks_to_proficiency=0.5, curve="linear")
    sc = _centre(60, staffing=_shifts(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
                 sites=[site], pool_kw={"site": "s", "proficiency": prof}, days=7, keep=True,
                 handle=deterministic(100))
    c = bposim.simulate(sc, seed=1).contacts.dropna(subset=["handle_time"])
    weeks = c["answer"] / WEEK
    expected = 100 * 1.2 * (1 + 0.5 * np.maximum(0, 1 - weeks / 0.5))
    np.testing.assert_allclose(c["handle_time"], expected, rtol=1e-9)


def test_attrition_leavers_follow_the_annual_rate_and_are_replaced_after_the_delay():
    rate, delay_weeks, end = 6.0, 2.0, 8 * WEEK
    sc = _centre(staffing=Staffing(agents=50), pool_kw={"attrition": Attrition(rate, delay_weeks)}, days=56)
    pool = bposim.compile_scenario(sc).pools[0]
    rng = np.random.default_rng(0)
    originals_left, n = 0, 0
    for _ in range(40):
        people = staffers(pool, end, rng)
        first = [p for p in people if p.replaces is None]
        n += len(first)
        originals_left += sum(p.left is not None for p in first)
        for p in people:
            if p.replaces is not None:
                before = people[p.replaces]
                assert p.hired == pytest.approx(before.left + delay_weeks * WEEK)
                assert p.spans[0].start >= p.hired
    q = 1 - math.exp(-rate * end / YEAR)
    assert abs(originals_left - q * n) <= 4.5 * math.sqrt(n * q * (1 - q))


# --- validation ------------------------------------------------------------------------


BAD = """\
name: bad
horizon: {start: 2026-01-05, days: 1}
sites:
  - {id: mnl, timezone: Asia/Manilla, cost_per_hour: -5}
queues:
  - id: q
    language: es
    handle_time: {dist: exponential, mean: 200}
    arrivals: {volumes: [10]}
pools:
  - id: p
    site: mnl
    skills: [q]
    staffing: {shifts: [{start: "08:00", hours: 4, agents: 3}]}
    breaks: [{minutes: 60, window: [3.5, 4]}]
  - id: p2
    site: manila
    skills: [q]
    staffing: {agents: 2}
"""


def test_workforce_input_errors_are_reported_with_lines():
    with pytest.raises(bposim.ScenarioError) as err:
        bposim.parse_scenario(BAD, source="bad.yaml")
    text = str(err.value)
    assert "bad.yaml:4: sites[0].timezone: unknown time zone 'Asia/Manilla'" in text
    assert "did you mean 'Asia/Manila'" in text
    assert "sites[0].cost_per_hour" in text and ">= 0" in text
    assert "pools[0].breaks[0]" in text and "does not fit" in text
    assert "pools[1].site: unknown site 'manila'" in text
    assert "requires language 'es'" in text
