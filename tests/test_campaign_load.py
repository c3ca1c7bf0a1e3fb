"""Outbound campaigns in scenario files: examples load, defaults, every mistake reported
with its field path and line, contact-list CSV rows, and ``bposim validate``."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bposim.cli.scenario_cmds import validate_command
from bposim.distributions import DistributionSpec
from bposim.errors import Problem, ScenarioError
from bposim.scenario import load_scenario, parse_scenario
from bposim.scenario.schema import Pacing, RetryRules

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# Two campaigns: a predictive one on an outbound-only pool (no skills), a progressive
# one on a blended pool. Every line is distinct so that tests can find it.
BASE = """\
name: outbound test
horizon:
  start: 2026-01-05
  days: 1
  timezone: America/New_York
queues:
  - id: sales
    arrivals: {daily_volume: 500}
    handle_time: {dist: exponential, mean: 180}
pools:
  - id: desk
    skills: [sales]
    staffing: {agents: 5}
  - id: dialers
    staffing: {agents: 10}
  - id: blend
    skills: [sales]
    staffing: {agents: 4}
campaigns:
  - id: collect
    pools: [dialers]
    mode: predictive
    contact_list:
      size: 1000
      timezones: {America/New_York: 0.6, America/Chicago: 0.4}
    windows:
      - {start: "09:00", end: "20:00", days: [mon, tue, wed, thu, fri]}
      - {start: "10:00", end: "16:00", days: [sat]}
    outcomes: {no_answer: 0.55, busy: 0.05, machine: 0.15, live: 0.25, right_party: 0.6}
    amd: {enabled: true, accuracy: 0.9, decision_seconds: 3}
    talk_right_party: {dist: lognormal, mean: 240, cv: 0.7}
    retry: {max_attempts: 4, after_no_answer: 7200, after_wrong_party: null}
    pacing: {initial: 1.0, minimum: 0.5, maximum: 3.0}
  - id: renew
    pools: [blend]
    mode: progressive
    dials_per_agent: 1.2
    contact_list: {size: 300}
    windows:
      - {start: "09:00", end: "18:00"}
    outcomes: {no_answer: 0.6, busy: 0.05, machine: 0.1, live: 0.25}
    talk_right_party: 300
    reserve: {sales: 2}
"""


def edit(*pairs: tuple[str, str], text: str = BASE) -> str:
    """``text`` with each ``old`` replaced by ``new`` (each ``old`` must occur once)."""
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def problems_of(text: str, **kwargs) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="t.yaml", **kwargs)
    return info.value.problems


def at(problems: list[Problem], path: str) -> Problem:
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path!r}, got {[str(p) for p in problems]}"
    return found[0]


def line_of(text: str, marker: str) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, marker
    return hits[0]


# --- valid input ---------------------------------------------------------------------


def test_collections_example_reads_its_csv_and_has_no_queue():
    sc = load_scenario(SCENARIOS / "collections_predictive.yaml")
    (c,) = sc.campaigns
    assert sc.queues == () and sc.pool("collectors").skills == ()
    assert c.mode == "predictive" and c.pools == ("collectors",)
    records = c.contact_list.records
    assert len(records) == c.contact_list.n == c.contact_list.size >= 5000
    assert records[0] == ("C00001", "America/Chicago")
    zones = dict(c.contact_list.timezones)
    assert set(zones) == {r[1] for r in records} and 2 <= len(zones) <= 3
    assert abs(sum(zones.values()) - 1) < 1e-9
    assert sc.horizon.timezone == "America/New_York"
    assert c.amd.enabled and 0.8 <= c.amd.accuracy <= 0.95 and 3 <= c.amd.decision_seconds <= 5
    assert c.outcomes.live == 0.25 and 0.1 <= c.outcomes.right_party <= 0.6
    assert c.abandon_target == 0.03 and c.ring_seconds >= 15
    assert c.retry.after_wrong_party is None


def test_blended_example_generates_its_list():
    sc = load_scenario(SCENARIOS / "blended_renewals.yaml")
    (c,) = sc.campaigns
    assert c.mode == "progressive" and c.dials_per_agent == 1.0 and c.reserve == 2
    assert c.contact_list.records is None and c.contact_list.n == c.contact_list.size
    assert abs(sum(s for _, s in c.contact_list.timezones) - 1) < 1e-9
    (queue,) = sc.queues
    assert queue.arrivals.daily_volume == 1500 and queue.patience is not None
    blended = sc.pool(c.pools[0])
    assert [s.queue for s in blended.skills] == [queue.id]
    inbound_only = [p for p in sc.pools if p.id not in c.pools]
    assert inbound_only and all(p.skills for p in inbound_only)


def test_campaigns_are_built_with_schema_defaults():
    sc = parse_scenario(BASE)
    collect, renew = sc.campaigns
    assert sc.pool("dialers").skills == () and sc.pool("blend").skills[0].queue == "sales"
    assert collect.contact_list.timezones == (("America/New_York", 0.6), ("America/Chicago", 0.4))
    assert collect.windows[1].start == dt.time(10) and collect.windows[1].days == ("sat",)
    assert collect.retry == RetryRules(max_attempts=4, after_no_answer=7200, after_wrong_party=None)
    assert collect.pacing == Pacing(initial=1.0, minimum=0.5, maximum=3.0)
    assert collect.talk_right_party == DistributionSpec("lognormal", mean=240, cv=0.7)
    # renew: most fields absent
    assert renew.contact_list.size == 300 and renew.contact_list.records is None
    assert renew.contact_list.timezones == (("America/New_York", 1.0),)  # the horizon's zone
    assert renew.windows[0].days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert renew.outcomes.right_party == 1.0
    assert renew.talk_right_party == DistributionSpec("deterministic", mean=300)
    assert renew.reserve == {"sales": 2}
    assert (renew.ring_seconds, renew.busy_seconds, renew.connect_limit) == (25, 4, 2)
    assert renew.answer_delay == DistributionSpec("uniform", low=4, high=16)
    assert renew.preview_time is None and renew.wrap is None and not renew.amd.enabled
    assert renew.retry == RetryRules() and renew.pacing == Pacing() and renew.abandon_target == 0.03


def test_preview_mode_gets_a_default_preview_time():
    sc = parse_scenario(edit(("mode: progressive", "mode: preview")))
    assert sc.campaigns[1].preview_time == DistributionSpec("exponential", mean=20)
    assert sc.campaigns[0].preview_time is None
    sc = parse_scenario(edit(("mode: progressive", "mode: preview\n    preview_time: 45")))
    assert sc.campaigns[1].preview_time == DistributionSpec("deterministic", mean=45)


@pytest.mark.parametrize("queues", ["queues: []\n", ""])
def test_queues_may_be_empty_or_absent_with_campaigns(queues):
    text = edit(
        ("queues:\n  - id: sales\n    arrivals: {daily_volume: 500}\n"
         "    handle_time: {dist: exponential, mean: 180}\n", queues),
        ("  - id: desk\n    skills: [sales]\n    staffing: {agents: 5}\n", ""),
        ("  - id: blend\n    skills: [sales]\n", "  - id: blend\n"),
        ("    reserve: {sales: 2}\n", ""),
    )
    sc = parse_scenario(text)
    assert sc.queues == () and len(sc.campaigns) == 2 and sc.pool("blend").skills == ()


def test_without_campaigns_queues_and_skills_stay_required():
    text = BASE.split("campaigns:")[0].replace(
        "queues:\n  - id: sales\n    arrivals: {daily_volume: 500}\n"
        "    handle_time: {dist: exponential, mean: 180}\n", "queues: []\n")
    problems = problems_of(text)
    assert "must not be an empty list" in at(problems, "queues").message
    assert at(problems, "pools[1].skills").message == "is missing (required)"


# --- one mistake at a time: path, line and message -------------------------------------

CASES = [
    # (replacements, path, message fragment, marker of the expected line)
    ([("mode: predictive", "mode: predictve")], "campaigns[0].mode", "did you mean 'predictive'",
     "predictve"),
    ([("mode: progressive", "mode: progressive\n    ring_secs: 20")], "campaigns[1].ring_secs",
     "did you mean 'ring_seconds'", "ring_secs"),
    ([("live: 0.25, right_party", "live: 0.2, right_party")], "campaigns[0].outcomes",
     "add up to 0.95; they must total 1", "live: 0.2,"),
    ([("right_party: 0.6", "right_party: 1.5")], "campaigns[0].outcomes.right_party", "in [0, 1]",
     "right_party: 1.5"),
    ([("busy: 0.05, machine: 0.1,", "busy: -0.05, machine: 0.2,")], "campaigns[1].outcomes.busy",
     "in [0, 1], got -0.05", "busy: -0.05"),
    ([("no_answer: 0.6, busy: 0.05,", "no_answer: 0.65,")], "campaigns[1].outcomes.busy",
     "is missing (required)", "no_answer: 0.65"),
    ([("pools: [dialers]", "pools: [dialer]")], "campaigns[0].pools[0]",
     "unknown pool 'dialer'; did you mean 'dialers'?", "pools: [dialer]"),
    ([("pools: [dialers]", "pools: [dialers, dialers]")], "campaigns[0].pools[1]",
     "names pool 'dialers' twice", "pools: [dialers, dialers]"),
    ([("pools: [blend]", "pools: [blend, dialers]")], "campaigns[1].pools[1]",
     "already works campaign campaigns[0]; a pool may work at most one campaign", "[blend, dialers]"),
    ([("pools: [blend]", "pools: []")], "campaigns[1].pools", "must not be an empty list", "pools: []"),
    ([('{start: "10:00", end: "16:00"', '{start: "16:00", end: "10:00"')], "campaigns[0].windows[1]",
     "calling window is empty: start 16:00 is not before end 10:00", '"16:00", end: "10:00"'),
    ([('{start: "09:00", end: "18:00"}', '{start: "18:00", end: "18:00"}')], "campaigns[1].windows[0]",
     "calling window is empty", '"18:00", end: "18:00"'),
    ([('{start: "09:00", end: "20:00"', '{start: "9am", end: "20:00"')], "campaigns[0].windows[0].start",
     "must be a time of day", "9am"),
    ([("days: [sat]", "days: [satt]")], "campaigns[0].windows[1].days[0]", "did you mean 'sat'?", "satt"),
    ([("days: [sat]", "days: [sat, sat]")], "campaigns[0].windows[1].days", "names a day twice",
     "[sat, sat]"),
    ([('    windows:\n      - {start: "09:00", end: "18:00"}', "    windows: []")], "campaigns[1].windows",
     "must not be an empty list", "windows: []"),
    ([('    windows:\n      - {start: "09:00", end: "18:00"}\n', "")], "campaigns[1].windows",
     "is missing (required)", "- id: renew"),
    ([('{start: "09:00", end: "18:00"}', '{start: "09:00", end: "18:00", from: mon}')],
     "campaigns[1].windows[0].from", "unknown key 'from'", "from: mon"),
    ([("contact_list: {size: 300}", "contact_list: {size: 300, csv: list.csv}")],
     "campaigns[1].contact_list", "give exactly one of size (a generated list) or csv", "csv: list.csv"),
    ([("contact_list: {size: 300}", "contact_list: {}")], "campaigns[1].contact_list",
     "give exactly one of size", "contact_list: {}"),
    ([("contact_list: {size: 300}", "contact_list: {size: 0}")], "campaigns[1].contact_list.size",
     "must be >= 1, got 0", "size: 0"),
    ([("contact_list: {size: 300}", "contact_list: {size: 2.5}")], "campaigns[1].contact_list.size",
     "whole number", "size: 2.5"),
    ([("contact_list: {size: 300}", "contact_list: {sizes: 300}")], "campaigns[1].contact_list.sizes",
     "did you mean 'size'?", "sizes: 300"),
    ([("America/Chicago: 0.4", "America/Chicgo: 0.4")],
     "campaigns[0].contact_list.timezones.America/Chicgo",
     "unknown time zone 'America/Chicgo'; did you mean 'America/Chicago'?", "Chicgo"),
    ([("America/Chicago: 0.4", "America/Chicago: 0.3")], "campaigns[0].contact_list.timezones",
     "time zone shares add up to 0.9; they must total 1", "America/Chicago: 0.3"),
    ([("{America/New_York: 0.6, America/Chicago: 0.4}", "{America/New_York: 1, America/Chicago: 0}")],
     "campaigns[0].contact_list.timezones.America/Chicago", "must be in (0, 1], got 0",
     "America/Chicago: 0}"),
    ([("{America/New_York: 0.6, America/Chicago: 0.4}", "[America/New_York]")],
     "campaigns[0].contact_list.timezones", "must be a mapping of time zone to share",
     "[America/New_York]"),
    ([("contact_list: {size: 300}", "contact_list: {csv: list.csv, timezones: {UTC: 1}}")],
     "campaigns[1].contact_list.timezones", "is used only with size", "timezones: {UTC: 1}"),
    ([("dials_per_agent: 1.2", "dials_per_agent: 0")], "campaigns[1].dials_per_agent", "must be > 0",
     "dials_per_agent: 0"),
    ([("mode: progressive", "mode: progressive\n    ring_seconds: 0")], "campaigns[1].ring_seconds",
     "must be > 0", "ring_seconds: 0"),
    ([("mode: progressive", "mode: progressive\n    busy_seconds: -1")], "campaigns[1].busy_seconds",
     "must be >= 0", "busy_seconds"),
    ([("mode: progressive", "mode: progressive\n    connect_limit: -1")], "campaigns[1].connect_limit",
     "must be >= 0", "connect_limit"),
    ([("mode: progressive", "mode: progressive\n    abandon_target: 1")], "campaigns[1].abandon_target",
     "must be in (0, 1), got 1", "abandon_target"),
    ([("mode: progressive", "mode: progressive\n    abandon_target: 0")], "campaigns[1].abandon_target",
     "must be in (0, 1), got 0", "abandon_target"),
    ([("accuracy: 0.9", "accuracy: 0.4")], "campaigns[0].amd.accuracy", "must be in [0.5, 1], got 0.4",
     "accuracy: 0.4"),
    ([("enabled: true", "enabled: 1")], "campaigns[0].amd.enabled", "must be true or false", "enabled: 1"),
    ([("decision_seconds: 3", "decision_secs: 3")], "campaigns[0].amd.decision_secs",
     "did you mean 'decision_seconds'?", "decision_secs"),
    ([("{initial: 1.0, minimum: 0.5", "{initial: 0.4, minimum: 0.5")], "campaigns[0].pacing",
     "must have minimum <= initial <= maximum; got minimum 0.5, initial 0.4, maximum 3", "initial: 0.4"),
    ([("maximum: 3.0}", "maximum: 3.0, step: 0}")], "campaigns[0].pacing.step", "must be > 0", "step: 0"),
    ([("maximum: 3.0}", "maximum: 3.0, window: 0}")], "campaigns[0].pacing.window", "must be >= 1",
     "window: 0"),
    ([("maximum: 3.0}", "maximum: 3.0, window: 2.5}")], "campaigns[0].pacing.window", "whole number",
     "window: 2.5"),
    ([("maximum: 3.0}", "maximum: 3.0, prior_live_rate: 0}")], "campaigns[0].pacing.prior_live_rate",
     "must be in (0, 1], got 0", "prior_live_rate"),
    ([("max_attempts: 4", "max_attempts: 0")], "campaigns[0].retry.max_attempts", "must be >= 1",
     "max_attempts: 0"),
    ([("after_no_answer: 7200", "after_no_answer: -60")], "campaigns[0].retry.after_no_answer",
     "must be >= 0, got -60", "after_no_answer: -60"),
    ([("after_no_answer: 7200", "after_no_answr: 7200")], "campaigns[0].retry.after_no_answr",
     "did you mean 'after_no_answer'?", "after_no_answr"),
    ([("reserve: {sales: 2}", "reserve: {sale: 2}")], "campaigns[1].reserve.sale",
     "unknown queue 'sale'; did you mean 'sales'?", "sale: 2"),
    ([("reserve: {sales: 2}", "reserve: {sales: 1.5}")], "campaigns[1].reserve.sales", "whole number",
     "sales: 1.5"),
    ([("reserve: {sales: 2}", "reserve: -1")], "campaigns[1].reserve", "must be >= 0, got -1",
     "reserve: -1"),
    ([("reserve: {sales: 2}", "reserve: lots")], "campaigns[1].reserve", "must be a whole number",
     "reserve: lots"),
    ([("talk_right_party: 300", "talk_right_party: 0")], "campaigns[1].talk_right_party", "must be > 0",
     "talk_right_party: 0"),
    ([("    talk_right_party: 300\n", "")], "campaigns[1].talk_right_party", "is missing (required)",
     "- id: renew"),
    ([("talk_right_party: 300", "talk_right_party: 300\n    wrap: {dist: lognormal, mean: 45}")],
     "campaigns[1].wrap.cv", "is missing: the lognormal distribution takes mean and cv", "wrap:"),
    ([("talk_right_party: 300", "talk_right_party: 300\n    talk_wrong_party: {dist: exponential, "
       "mean: 30, cv: 1}")], "campaigns[1].talk_wrong_party.cv", "is not a parameter", "talk_wrong_party"),
    ([("- id: renew", "- id: collect   # again")], "campaigns[1].id", "duplicate campaign id 'collect'",
     "# again"),
    ([("- id: renew", "- id: re new")], "campaigns[1].id", "is not a valid id", "re new"),
    ([("pools: [dialers]", "pools: [desk]")], "pools[1].skills", "is missing (required)", "- id: dialers"),
]


@pytest.mark.parametrize("pairs, path, fragment, marker", CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_each_mistake_is_reported_at_its_path_and_line(pairs, path, fragment, marker):
    text = edit(*pairs)
    problem = at(problems_of(text), path)
    assert fragment in problem.message
    assert problem.line == line_of(text, marker) and problem.file == "t.yaml"


def test_every_campaign_problem_is_reported_at_once():
    text = edit(
        ("mode: predictive", "mode: predictve"),
        ("live: 0.25, right_party", "live: 0.2, right_party"),
        ('{start: "10:00", end: "16:00"', '{start: "16:00", end: "10:00"'),
        ("America/Chicago: 0.4", "America/Chicgo: 0.4"),
        ("pools: [blend]", "pools: [blend, dialers]"),
        ("contact_list: {size: 300}", "contact_list: {size: 0}"),
        ("{initial: 1.0, minimum: 0.5", "{initial: 0.4, minimum: 0.5"),
        ("reserve: {sales: 2}", "reserve: {sale: 2}"),
        ("accuracy: 0.9", "accuracy: 1.2"),
        ("max_attempts: 4", "max_attempts: 0"),
    )
    problems = problems_of(text)
    assert {p.path for p in problems} == {
        "campaigns[0].mode", "campaigns[0].outcomes", "campaigns[0].windows[1]",
        "campaigns[0].contact_list.timezones.America/Chicgo", "campaigns[1].pools[1]",
        "campaigns[1].contact_list.size", "campaigns[0].pacing", "campaigns[1].reserve.sale",
        "campaigns[0].amd.accuracy", "campaigns[0].retry.max_attempts",
    }
    assert [p.line for p in problems] == sorted(p.line for p in problems)  # in file order


def test_campaigns_must_be_a_non_empty_list_of_mappings():
    assert "must be a list" in at(problems_of(edit(("campaigns:\n", "campaigns: 5\nx-old:\n"))),
                                  "campaigns").message
    text = BASE.split("campaigns:")[0].replace("  - id: dialers\n    staffing: {agents: 10}\n", "")
    assert "must not be an empty list" in at(problems_of(text + "campaigns: []\n"), "campaigns").message
    assert "must be a mapping" in at(problems_of(text + "campaigns: [collect]\n"), "campaigns[0]").message


# --- contact-list CSV ------------------------------------------------------------------


def _with_csv(tmp_path: Path, csv_text: str | None) -> Path:
    csv_file = tmp_path / "list.csv"
    if csv_text is not None:
        csv_file.write_text(textwrap.dedent(csv_text), encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(edit(("contact_list: {size: 300}", "contact_list: {csv: list.csv}")))
    return path


def test_csv_list_is_read_in_file_order(tmp_path):
    csv_text = """\
        \ufeffRecord_ID,timezone,balance
        A1,America/Chicago,120

        A2,America/New_York,75
        A3,America/Chicago,10
        """
    sc = load_scenario(_with_csv(tmp_path, csv_text))
    cl = sc.campaigns[1].contact_list
    assert cl.records == (("A1", "America/Chicago"), ("A2", "America/New_York"), ("A3", "America/Chicago"))
    assert cl.n == cl.size == 3
    assert cl.timezones == (("America/Chicago", 2 / 3), ("America/New_York", 1 / 3))


def test_csv_problems_name_the_file_and_row(tmp_path):
    csv_text = """\
        record_id,timezone
        A1,America/Chicago
        A2,America/New_Yrok
        ,America/Chicago
        A4,
        A1,America/Denver
        A6
        A7,Mars/Olympus
        """
    with pytest.raises(ScenarioError) as info:
        load_scenario(_with_csv(tmp_path, csv_text))
    problems = info.value.problems
    shown = str(tmp_path / "list.csv")
    assert [(p.file, p.line) for p in problems] == [(shown, row) for row in (3, 4, 5, 6, 7, 8)]
    assert all(p.path == "campaigns[1].contact_list.csv" for p in problems)
    messages = [p.message for p in problems]
    assert messages[0] == ("unknown time zone 'America/New_Yrok'; did you mean 'America/New_York'? "
                           "(record 'A2')")
    assert messages[1] == "record_id is empty"
    assert messages[2] == "timezone is empty (record 'A4')"
    assert messages[3] == "record_id 'A1' appears twice (first on row 2)"
    assert messages[4] == "has 1 columns; the header has 2"
    assert "unknown time zone 'Mars/Olympus'" in messages[5]
    assert str(problems[0]).startswith(f"{shown}:3: campaigns[1].contact_list.csv: unknown time zone")


def test_csv_header_empty_missing_and_many_bad_rows(tmp_path):
    with pytest.raises(ScenarioError, match="missing timezone") as info:
        load_scenario(_with_csv(tmp_path, "record_id,zone\nA1,UTC\n"))
    assert info.value.problems[0].line == 1
    with pytest.raises(ScenarioError, match="has no data rows"):
        load_scenario(_with_csv(tmp_path, "record_id,timezone\n"))
    with pytest.raises(ScenarioError, match="is empty; expected a header row"):
        load_scenario(_with_csv(tmp_path, ""))
    rows = "".join(f"R{i},Nowhere/Zone{i}\n" for i in range(30))
    with pytest.raises(ScenarioError) as info:
        load_scenario(_with_csv(tmp_path, "record_id,timezone\n" + rows))
    problems = info.value.problems
    assert len(problems) == 21 and [p.line for p in problems] == list(range(2, 23))
    assert problems[-1].message == "10 more rows with problems, from this row on, not shown"


def test_csv_missing_file_is_reported_in_the_scenario(tmp_path):
    path = _with_csv(tmp_path, None)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.path == "campaigns[1].contact_list.csv"
    assert "contact list CSV" in problem.message and "not found" in problem.message
    assert problem.line == line_of(path.read_text(), "csv: list.csv")


# --- the validate command ------------------------------------------------------------


def test_validate_command_reports_campaign_problems_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit(("live: 0.25, right_party", "live: 0.2, right_party"),
                        ("pools: [dialers]", "pools: [dialer]")))
    good = SCENARIOS / "collections_predictive.yaml"
    result = CliRunner().invoke(validate_command, [str(good), str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"OK  {good}" in result.output
    text = bad.read_text()
    assert (f"{bad}:{line_of(text, 'live: 0.2,')}: campaigns[0].outcomes: no_answer, busy, machine "
            "and live add up to 0.95; they must total 1") in result.output
    assert f"{bad}:{line_of(text, 'pools: [dialer]')}: campaigns[0].pools[0]: unknown pool" in result.output
    assert "1 of 2 scenario files has problems" in result.output
