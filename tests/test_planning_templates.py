"""Shift templates become program columns: time zones, breaks, costs; and the program's
schedule covers any requirement the templates can cover."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bposim
from bposim.errors import InputError
from bposim.planning.schedule import covered, solve
from bposim.planning.templates import break_profile, build_columns
from bposim.scenario.schema import Break

MANILA = """\
name: tz
horizon: {start: 2026-01-05, days: 2, interval_minutes: 60, timezone: America/New_York}
sites: [{id: mnl, timezone: Asia/Manila, cost_per_hour: 10}]
queues: [{id: q, arrivals: {daily_volume: 100}, handle_time: 300}]
pools: [{id: p, site: mnl, skills: [q], absenteeism: 0.1,
         staffing: {shifts: [{start: "20:00", hours: 8, agents: 1}]}}]
planning:
  pools:
    p:
      templates: [{name: night, starts: ["20:00"], hours: 8, days: [mon]}]
      breaks: [{minutes: 60, window: [4, 4]}]
"""


def test_a_manila_night_shift_covers_new_york_morning_less_breaks_and_absence():
    sc = bposim.parse_scenario(MANILA)
    cols = build_columns(sc, sc.planning)
    (col,) = cols.items  # Monday 20:00 in Manila; the Sunday one would start before the horizon
    # Manila is 13 hours ahead of New York in January: 20:00 Mon there is 07:00 Mon here
    on = np.nonzero(cols.duty[0])[0]
    assert list(on) == list(range(7, 15))
    # the hour-long break starts exactly 4 h in (11:00 here); absence 10 % is unpaid
    expected = np.where(np.arange(48) == 11, 0.0, 0.9)[7:15]
    assert cols.cover[0, 7:15] == pytest.approx(expected)
    assert col.paid_hours == pytest.approx(8 * 0.9) and col.cost == pytest.approx(8 * 0.9 * 10)


def test_break_profile_spreads_a_break_evenly_over_its_window():
    # a 15-minute break starting anywhere from 60 to 120 minutes in (13 positions on the
    # 5-minute grid): on average exactly 15 minutes of break, none outside [60, 135)
    prof = break_profile(4, (Break(minutes=15, earliest=1, latest=2),))
    assert prof.sum() == pytest.approx(15)
    assert prof[:60].sum() == 0 and prof[135:].sum() == 0
    assert prof[75:120] == pytest.approx(np.full(45, 3 / 13))  # covered by 3 of 13 positions


@st.composite
def _templates(draw):
    lengths = draw(st.lists(st.sampled_from([2, 3, 4, 6, 8]), min_size=1, max_size=2, unique=True))
    starts = draw(st.lists(st.integers(0, 22), min_size=1, max_size=6, unique=True))
    brk = draw(st.one_of(st.none(), st.tuples(st.sampled_from([15, 30]), st.floats(0.5, 1.0))))
    need = draw(st.lists(st.integers(0, 5), min_size=24, max_size=24))
    cap = draw(st.one_of(st.none(), st.integers(1, 40)))
    return lengths, sorted(starts), brk, need, cap


@settings(max_examples=25)
@given(_templates())
def test_schedules_from_random_templates_cover_random_requirements(case):
    lengths, starts, brk, need, cap = case
    breaks = f"breaks: [{{minutes: {brk[0]}, window: [{brk[1]:.2f}, {brk[1] + 0.5:.2f}]}}]" if brk else ""
    cap_text = f"max_headcount: {cap}" if cap else ""
    text = f"""\
name: random
horizon: {{start: 2026-01-05, days: 1, interval_minutes: 60}}
queues: [{{id: q, arrivals: {{daily_volume: 100}}, handle_time: 300}}]
pools: [{{id: p, skills: [q], staffing: {{agents: 1}}}}]
planning:
  pools:
    p:
      templates: [{{name: t, starts: [{", ".join(f'"{h:02d}:00"' for h in starts)}],
                    hours: {lengths}}}]
      {breaks}
      {cap_text}
"""
    sc = bposim.parse_scenario(text)
    cols = build_columns(sc, sc.planning)
    req = np.array([need], dtype=float)
    problem = cols.problem(req, sc.planning, sc.horizon)
    reachable = (cols.cover > 0).any(axis=0)
    try:
        sol = solve(problem)
    except InputError as err:  # only when an interval needs agents no shift can give
        assert "infeasible" in str(err)
        unreachable = (req[0] > 0) & ~reachable
        over_cap = cap is not None
        assert unreachable.any() or over_cap
        return
    assert (covered(problem, sol.counts) >= req - 1e-6).all()
    if cap is not None:
        assert (sol.counts @ cols.duty).max() <= cap + 1e-6
