"""The planning: section is validated like the rest of a scenario (field path and line)."""

from __future__ import annotations

import datetime as dt

import pytest

import bposim
from bposim.errors import ScenarioError

BASE = """\
name: spec
horizon: {start: 2026-01-05, days: 1, interval_minutes: 30}
sites: [{id: home, timezone: Europe/London, cost_per_hour: 20}]
queues:
  - {id: q, arrivals: {daily_volume: 100}, handle_time: 200, patience: {dist: exponential, mean: 60}}
pools:
  - {id: p, site: home, skills: [q], staffing: {agents: 3}}
planning:
  rounds: 2
  targets:
    q: {per: day, max_abandon: 0.05, service_level: {target: 0.9}}
  pools:
    p:
      templates:
        - {name: early, starts: {from: "22:00", to: "01:00", every: 60}, hours: [8, 10],
           days: [mon, tue], part_time: false}
      breaks: [{minutes: 30, window: [3, 5]}]
      min_headcount: 1
      max_headcount: 9
      part_time_share: 0.25
  sites:
    home: {max_headcount: 12}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        bposim.parse_scenario(text, source="s.yaml")
    return [str(p) for p in err.value.problems]


def test_a_valid_section_is_read_in_full():
    spec = bposim.parse_scenario(BASE).planning
    assert spec.rounds == 2 and spec.site_max_headcount == (("home", 12),)
    t = spec.target("q")
    assert t.per == ("day",) and t.max_abandon == 0.05
    assert t.service_level.target == 0.9 and t.service_level.answer_within == 20  # the queue's
    p = spec.pool_plan("p")
    assert p.min_headcount == 1 and p.max_headcount == 9 and p.part_time_share == 0.25
    (tmpl,) = p.templates
    # the grid runs past midnight: 22:00, 23:00, 00:00, 01:00
    assert tmpl.starts == (dt.time(22), dt.time(23), dt.time(0), dt.time(1))
    assert tmpl.hours == (8.0, 10.0) and tmpl.days == ("mon", "tue")


@pytest.mark.parametrize("old, new, expected", [
    ("    p:\n      templates", "    px:\n      templates", "s.yaml:13: planning.pools.px: unknown pool 'px'"),
    ("q: {per: day", "qq: {per: day", "s.yaml:11: planning.targets.qq: unknown queue 'qq'"),
    ("home: {max_headcount: 12}", "away: {max_headcount: 12}", "planning.sites.away: unknown site"),
    ("per: day", "per: week", "planning.targets.q.per: must be one of interval, day"),
    ("min_headcount: 1", "min_headcount: 10", "min_headcount: is more than max_headcount (9)"),
    ("hours: [8, 10]", "hours: [8, 25]", "planning.pools.p.templates[0].hours: must be in (0, 24]"),
    ("every: 60", "every: 2", "starts.every: must be in [5, 1440]"),
    ("window: [3, 5]", "window: [7.8, 8]", "breaks[0]: break of 30 min from 7.8 h does not fit"),
    ("{target: 0.9}", "{target: 1}", "planning.targets.q.service_level.target: a service-level "
                                      "target of 100 %"),
    ("max_abandon: 0.05", "max_abandon: 1.5", "planning.targets.q.max_abandon: must be in (0, 1)"),
    ("rounds: 2", "round: 2", "planning.round: unknown key 'round'; did you mean 'rounds'?"),
])
def test_mistakes_are_reported_with_path_and_line(old, new, expected):
    assert old in BASE
    found = problems(BASE.replace(old, new))
    assert any(expected in p for p in found), found
