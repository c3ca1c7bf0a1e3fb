"""Scenario loading: examples load, every mistake is reported with its field path and line."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bposim.cli.scenario_cmds import validate_command
from bposim.distributions import DistributionSpec
from bposim.errors import Problem, ScenarioError
from bposim.scenario import Scenario, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
EXAMPLES = sorted(SCENARIOS.glob("*.yaml"))

# A small valid scenario: 2 days of 60-minute intervals (24 per day, 48 in all).
BASE = """\
name: test centre
horizon:
  start: 2026-01-05
  days: 2
  interval_minutes: 60
queues:
  - id: sales
    arrivals:
      daily_volume: 1000
    handle_time: {dist: exponential, mean: 180}
  - id: tier2
    handle_time: {dist: lognormal, mean: 600, cv: 0.8}
pools:
  - id: p1
    skills: [sales]
    staffing: {agents: 5}
  - id: p2
    tier: tier2
    skills: {tier2: 1}
    staffing: {agents: 2}
"""


def problems_of(text: str, **kwargs) -> list[Problem]:
    """The problems ``parse_scenario`` reports for YAML ``text`` (fails if it loads)."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), source="t.yaml", **kwargs)
    return info.value.problems


def at(problems: list[Problem], path: str) -> Problem:
    """The single problem reported at ``path``."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path!r}, got {[str(p) for p in problems]}"
    return found[0]


def line_of(text: str, marker: str) -> int:
    """1-based line of the only line of ``text`` containing ``marker``."""
    hits = [i for i, line in enumerate(textwrap.dedent(text).splitlines(), 1) if marker in line]
    assert len(hits) == 1, marker
    return hits[0]


# --- valid input ---------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_scenarios_load(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.source == path.resolve()
    assert (scenario.queues or scenario.campaigns) and scenario.pools
    served = {s.queue for p in scenario.pools for s in p.skills}
    assert all(q.id in served for q in scenario.queues)


def test_example_names():
    assert {p.name for p in EXAMPLES} >= {
        "single_queue_erlang_c.yaml", "tech_support_tiers.yaml", "customer_service_multiskill.yaml",
    }


def test_erlang_c_example_is_the_textbook_case():
    sc = load_scenario(SCENARIOS / "single_queue_erlang_c.yaml")
    (queue,) = sc.queues
    (pool,) = sc.pools
    assert queue.arrivals.volumes == (100.0,) * 48  # 200 calls per hour
    assert sc.horizon.interval_minutes == 30
    assert queue.handle_time.kind == "exponential" and queue.handle_time.mean == 180
    assert queue.patience is None and queue.after_work is None
    assert pool.staffing.agents == 14 and pool.shrinkage == 0
    assert (queue.service_level.answer_within, queue.service_level.target) == (20, 0.8)


def test_tiers_example_escalations_and_shifts():
    sc = load_scenario(SCENARIOS / "tech_support_tiers.yaml")
    support = sc.queue("support")
    assert {(e.to, e.mode) for e in support.escalations} == {("tier2", "transfer"), ("sme", "consult")}
    assert sc.queue("tier2").arrivals is None and sc.queue("sme").arrivals is None
    shift = sc.pool("tier1").staffing.shifts[0]
    assert shift.start == dt.time(7, 0) and shift.days == ("mon", "tue", "wed", "thu", "fri")
    assert sc.pool("tier2").staffing.shifts[0].days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert sc.horizon.days == 3 and sc.horizon.timezone == "America/New_York"
    assert support.arrivals.day_of_week["mon"] == 1.3


def test_multiskill_example_forecast_and_overflow():
    sc = load_scenario(SCENARIOS / "customer_service_multiskill.yaml")
    volumes = sc.queue("sales").arrivals.volumes
    assert len(volumes) == 48 and sum(volumes) == 672 and volumes[16] == 14  # 08:00 row
    assert len(sc.pool("sales_team").staffing.per_interval) == 48
    assert {s.overflow_after for s in sc.pool("flex").skills} == {45.0}
    assert sc.queue("billing").after_work.kind == "deterministic"


def test_defaults_come_from_the_schema():
    sc = parse_scenario(BASE)
    sales = sc.queue("sales")
    assert sc.source is None and sc.description == ""
    assert sc.horizon.timezone == "UTC"
    assert sales.channel == "voice" and sales.patience is None and sales.escalations == ()
    assert sales.service_level.definition == "offered"
    assert sales.arrivals.intraday_profile == (1.0,) * 24  # no profile: flat
    assert sc.pool("p1").skills[0].priority == 1 and sc.pool("p1").tier == "tier1"
    assert sc.simulation.replications == 10


def test_sequences_are_tuples_and_times_are_times():
    text = BASE.replace("staffing: {agents: 5}", "staffing: {shifts: [{start: 8:00, hours: 8, agents: 3}, "
                        "{start: '22:30', hours: 9, agents: 1, days: [fri]}]}")
    sc = parse_scenario(text)
    shifts = sc.pool("p1").staffing.shifts
    assert isinstance(shifts, tuple)
    # unquoted 8:00 is a YAML 1.1 sexagesimal int (480): the loader keeps it as the time 08:00
    assert shifts[0].start == dt.time(8, 0) and shifts[1].start == dt.time(22, 30)
    assert shifts[1].days == ("fri",)


def test_skill_forms_and_queue_priority_default():
    text = BASE.replace("  - id: tier2\n", "  - id: tier2\n    priority: 3\n").replace(
        "skills: {tier2: 1}", "skills: {tier2: , sales: {overflow_after: 30}}"
    ).replace("skills: [sales]", "skills: [sales, tier2]")
    sc = parse_scenario(text)
    assert [(s.queue, s.priority) for s in sc.pool("p1").skills] == [("sales", 1), ("tier2", 3)]
    tier2, sales = sc.pool("p2").skills
    assert (tier2.priority, sales.priority, sales.overflow_after) == (3, 1, 30.0)


def test_distribution_forms():
    text = BASE.replace("handle_time: {dist: exponential, mean: 180}", "handle_time: 240\n"
                        "    after_work: {dist: uniform, low: 10, high: 20}\n"
                        "    patience: {dist: empirical, values: [30, 60, 90]}")
    sales = parse_scenario(text).queue("sales")
    assert sales.handle_time.kind == "deterministic" and sales.handle_time.mean == 240
    assert (sales.after_work.low, sales.after_work.high) == (10, 20)
    assert sales.patience.values == (30.0, 60.0, 90.0)


def test_dict_input_and_string_dates():
    data = {
        "name": "programmatic",
        "horizon": {"start": "2026-01-06"},
        "queues": [{"id": "q", "arrivals": {"volumes": [10] * 48},
                    "handle_time": {"dist": "gamma", "mean": 200, "cv": 0.5}}],
        "pools": [{"id": "p", "skills": ["q"], "staffing": {"agents": 3}}],
    }
    sc = parse_scenario(data)
    assert sc.horizon.start == dt.date(2026, 1, 6) and sc.queue("q").arrivals.volumes == (10.0,) * 48
    data["horizon"]["days"] = 0
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    (problem,) = info.value.problems
    assert problem.path == "horizon.days" and problem.line is None and problem.file == "<string>"


def test_yaml_anchors_and_merge_keys():
    text = BASE.replace("queues:\n", "x-times:\n  long: &long {dist: lognormal, mean: 300, cv: 0.5}\nqueues:\n")
    text = text.replace("handle_time: {dist: exponential, mean: 180}", "handle_time: *long").replace(
        "handle_time: {dist: lognormal, mean: 600, cv: 0.8}", "handle_time: {<<: *long, mean: 900}")
    sc = parse_scenario(text)  # top-level x- keys are ignored: they only hold anchors
    assert sc.queue("sales").handle_time == DistributionSpec("lognormal", mean=300, cv=0.5)
    assert sc.queue("tier2").handle_time == DistributionSpec("lognormal", mean=900, cv=0.5)
    bad = text.replace("{<<: *long, mean: 900}", "{<<: *long, mean: -1}")
    assert at(problems_of(bad), "queues[1].handle_time.mean").line == line_of(bad, "mean: -1")
    merged = text.replace("*long, mean: 900", "*long, cv: 0.5").replace("mean: 300", "mean: zero")
    problems = problems_of(merged)  # a bad merged value points at where it is written
    assert at(problems, "queues[1].handle_time.mean").line == line_of(merged, "mean: zero")


# --- problems: each at its path and line ---------------------------------------------


def test_wrong_type_reports_path_and_line():
    text = BASE.replace("days: 2", "days: two")
    problem = at(problems_of(text), "horizon.days")
    assert problem.line == line_of(text, "days: two") == 4
    assert "whole number" in problem.message and "'two'" in problem.message
    assert str(problem) == "t.yaml:4: horizon.days: must be a whole number, got the text 'two'"


def test_all_problems_reported_at_once():
    text = """\
        name: many mistakes
        horizon:
          start: 2026-01-05
          interval_minutes: 20
          timezone: Mars/Olympus
        queues:
          - id: sales
            channel: fax
            arrivals:
              volumes: [1, 2, 3]
            handle_time: {dist: exponential, mean: -5}
            service_level: {target: 0, definition: virtual}
        pools:
          - id: p1
            tier: tier9
            skills: [sales]
            staffing: {agents: 2.5}
            shrinkage: 1.0
        simulation: {replications: 0, seed: -3}
        """
    found = {p.path: p.line for p in problems_of(text)}
    assert found == {
        "horizon.interval_minutes": 4,
        "horizon.timezone": 5,
        "queues[0].channel": 8,
        "queues[0].handle_time.mean": 11,
        "queues[0].service_level.target": 12,
        "queues[0].service_level.definition": 12,
        "pools[0].tier": 15,
        "pools[0].staffing.agents": 17,
        "pools[0].shrinkage": 18,
        "simulation.replications": 19,
        "simulation.seed": 19,
    }  # the volumes' length is not judged while the interval length is invalid


def test_problems_are_in_file_order():
    text = BASE.replace("mean: 180", "mean: 0").replace("days: 2", "days: 0")
    lines = [p.line for p in problems_of(text)]
    assert lines == sorted(lines) and len(lines) == 2


def test_unknown_key_did_you_mean():
    text = BASE.replace("handle_time: {dist: exponential", "handel_time: {dist: exponential")
    problems = problems_of(text)
    unknown = at(problems, "queues[0].handel_time")
    assert "did you mean 'handle_time'?" in unknown.message
    assert unknown.line == line_of(text, "handel_time")
    missing = at(problems, "queues[0].handle_time")
    assert "missing" in missing.message and missing.line == line_of(text, "- id: sales")


def test_unknown_key_without_close_match_lists_the_keys():
    problem = at(problems_of(BASE + "colour: blue\n"), "colour")
    assert "expected one of: name, description, horizon" in problem.message


def test_unknown_choice_did_you_mean():
    text = BASE.replace("dist: exponential", "dist: exponentail")
    problem = at(problems_of(text), "queues[0].handle_time.dist")
    assert "did you mean 'exponential'?" in problem.message


@pytest.mark.parametrize(
    "replace, path, words",
    [
        (("2026-01-05", "2026-02-30"), "horizon.start", "date"),
        (("days: 2", "days: 2\n  timezone: Europe/Lodnon"), "horizon.timezone", "Europe/London"),
        (("mean: 600, cv: 0.8", "mean: 600, cv: 0"), "queues[1].handle_time.cv", "> 0"),
        (("mean: 600, cv: 0.8", "mean: 600"), "queues[1].handle_time.cv", "missing"),
        (("{dist: exponential, mean: 180}", "{dist: exponential, mean: 180, cv: 1}"),
         "queues[0].handle_time.cv", "not a parameter"),
        (("{dist: exponential, mean: 180}", "{dist: uniform, low: 50, high: 20}"),
         "queues[0].handle_time", "low <= high"),
        (("{dist: exponential, mean: 180}", "{dist: empirical, values: [10, -1]}"),
         "queues[0].handle_time.values[1]", ">= 0"),
        (("{dist: exponential, mean: 180}", "[180]"), "queues[0].handle_time", "mapping like"),
        (("daily_volume: 1000", "daily_volume: 1000\n      busyness_cv: -0.1"),
         "queues[0].arrivals.busyness_cv", ">= 0"),
        (("staffing: {agents: 5}", "staffing: {agents: -1}"), "pools[0].staffing.agents", ">= 0"),
        (("staffing: {agents: 5}", "staffing: {agents: true}"), "pools[0].staffing.agents", "boolean"),
        (("tier: tier2", "tier: boss"), "pools[1].tier", "tier1, tier2, sme"),
        (("skills: [sales]", "skills: []"), "pools[0].skills", "at least one"),
        (("skills: [sales]", "skills: sales"), "pools[0].skills", "list of queue ids"),
        (("skills: {tier2: 1}", "skills: {tier2: 0}"), "pools[1].skills.tier2", ">= 1"),
        (("name: test centre", "name: ''"), "name", "empty"),
        (("- id: p1", "- id: 'p 1'"), "pools[0].id", "not a valid id"),
    ],
)
def test_field_problems(replace, path, words):
    text = BASE.replace(*replace)
    assert text != BASE
    problem = at(problems_of(text), path)
    assert words in problem.message
    assert problem.line is not None and problem.file == "t.yaml"


def test_shift_problems():
    text = BASE.replace("staffing: {agents: 5}", """staffing:
      shifts:
        - {start: "24:00", hours: 0, agents: 1}
        - {start: 8, hours: 25, agents: 1, days: [mon, tues]}""")
    problems = problems_of(text)
    assert at(problems, "pools[0].staffing.shifts[0].start").line == line_of(text, '"24:00"')
    assert "in (0, 24], got 0" in at(problems, "pools[0].staffing.shifts[0].hours").message
    second = line_of(text, "start: 8,")
    assert at(problems, "pools[0].staffing.shifts[1].start").line == second
    assert "got 25" in at(problems, "pools[0].staffing.shifts[1].hours").message
    assert "did you mean 'tue'" in at(problems, "pools[0].staffing.shifts[1].days[1]").message


def test_staffing_needs_exactly_one_form():
    none = at(problems_of(BASE.replace("staffing: {agents: 5}", "staffing: {}")), "pools[0].staffing")
    assert "exactly one of agents, per_interval, per_interval_csv or shifts" in none.message
    two = BASE.replace("staffing: {agents: 5}", "staffing: {agents: 5, per_interval: [1, 2]}")
    problems = problems_of(two)
    assert "found agents and per_interval" in at(problems, "pools[0].staffing").message
    assert "has 2 values; expected 24" in at(problems, "pools[0].staffing.per_interval").message


def test_lengths_of_per_interval_lists():
    whole = BASE.replace("daily_volume: 1000", f"volumes: {[5] * 48}")
    assert parse_scenario(whole).queue("sales").arrivals.volumes == (5.0,) * 48  # both days
    day = BASE.replace("daily_volume: 1000", f"volumes: {[5] * 24}")
    assert len(parse_scenario(day).queue("sales").arrivals.volumes) == 24  # one day, repeated
    bad = BASE.replace("daily_volume: 1000", f"volumes: {[5] * 30}")
    problem = at(problems_of(bad), "queues[0].arrivals.volumes")
    assert "has 30 values; expected 24 (one day of 60-minute intervals) or 48 (all 2 days)" == problem.message
    profile = BASE.replace("daily_volume: 1000", f"daily_volume: 1000\n      intraday_profile: {[1] * 12}")
    assert "expected 24" in at(problems_of(profile), "queues[0].arrivals.intraday_profile").message
    half_hours = BASE.replace("interval_minutes: 60", "interval_minutes: 30").replace(
        "daily_volume: 1000", f"daily_volume: 1000\n      intraday_profile: {[1] * 24}")
    assert len(parse_scenario(half_hours).queue("sales").arrivals.intraday_profile) == 24  # hourly


def test_arrivals_forms():
    both = BASE.replace("daily_volume: 1000", f"daily_volume: 1000\n      volumes: {[1] * 24}")
    assert "found volumes and daily_volume" in at(problems_of(both), "queues[0].arrivals").message
    dow = BASE.replace("daily_volume: 1000", f"volumes: {[1] * 48}\n      day_of_week: {{mon: 2}}")
    assert "whole horizon" in at(problems_of(dow), "queues[0].arrivals.day_of_week").message
    profile_only = BASE.replace("daily_volume: 1000", f"volumes: {[1] * 24}\n      intraday_profile: {[1] * 24}")
    assert "only with daily_volume" in at(problems_of(profile_only), "queues[0].arrivals.intraday_profile").message


def test_reference_problems():
    text = BASE.replace("    handle_time: {dist: exponential, mean: 180}\n", """\
    handle_time: {dist: exponential, mean: 180}
    escalations:
      - {to: teir2, probability: 0.5}
      - {to: sales, probability: 0.3, mode: consult}
      - {to: tier2, probability: 0.4, mode: hold}
""").replace("skills: [sales]", "skills: [sales, salse]")
    problems = problems_of(text)
    assert "did you mean 'tier2'?" in at(problems, "queues[0].escalations[0].to").message
    assert at(problems, "queues[0].escalations[0].to").line == line_of(text, "teir2")
    assert "itself" in at(problems, "queues[0].escalations[1].to").message
    assert "transfer, consult" in at(problems, "queues[0].escalations[2].mode").message
    total = at(problems, "queues[0].escalations")
    assert "add up to 1.2" in total.message and total.line == line_of(text, "escalations:")
    assert "did you mean 'sales'?" in at(problems, "pools[0].skills[1]").message


def test_every_queue_that_receives_contacts_is_served():
    unserved = BASE.replace("skills: [sales]", "skills: [tier2]")
    problem = at(problems_of(unserved), "queues[0]")
    assert "has arrivals but no pool serves it" in problem.message
    assert problem.line == line_of(unserved, "- id: sales")
    target = BASE.replace("    handle_time: {dist: exponential, mean: 180}\n",
                          "    handle_time: {dist: exponential, mean: 180}\n"
                          "    escalations: [{to: tier2, probability: 0.1}]\n"
                          ).replace("skills: {tier2: 1}", "skills: {sales: 2}")
    assert "receives escalations" in at(problems_of(target), "queues[1]").message
    # a queue without arrivals that nobody escalates to may stay unserved
    assert parse_scenario(BASE.replace("skills: {tier2: 1}", "skills: {sales: 2}"))


def test_duplicate_ids_and_duplicate_keys():
    dup = BASE.replace("- id: p2", "- id: p1")
    problem = at(problems_of(dup), "pools[1].id")
    assert "duplicate pool id 'p1' (already used by pools[0])" == problem.message
    keys = BASE.replace("  days: 2\n", "  days: 2\n  days: 3\n")
    problem = at(problems_of(keys), "horizon.days")
    assert "duplicate key 'days' (first on line 4)" == problem.message and problem.line == 5


def test_warmup_must_fit_in_the_horizon():
    text = BASE + "simulation: {warmup_minutes: 2880}\n"
    assert "shorter than the horizon" in at(problems_of(text), "simulation.warmup_minutes").message


# --- YAML level ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["!!python/object/apply:os.system ['echo hacked']", "!!python/name:os.system", "!custom 3"],
)
def test_unsafe_tags_are_rejected(value):
    text = BASE.replace("name: test centre", f"name: {value}")
    (problem,) = problems_of(text)
    assert "unsupported YAML tag" in problem.message and problem.line == 1 and problem.path == "name"


def test_yaml_syntax_error_has_a_line():
    text = BASE.replace("  days: 2", "  days: [2")
    (problem,) = problems_of(text)
    assert problem.message.startswith("YAML syntax error") and problem.line is not None
    assert 4 <= problem.line <= 6


@pytest.mark.parametrize("text, words", [("", "empty"), ("# nothing\n", "empty"),
                                          ("- a\n- b\n", "must be a mapping"), ("just text", "must be a mapping")])
def test_top_level_must_be_a_mapping(text, words):
    (problem,) = problems_of(text)
    assert words in problem.message


def test_recursive_alias_is_rejected():
    (problem,) = problems_of("name: &a [*a]\n")
    assert "refers to itself" in problem.message


def test_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.yaml")
    (problem,) = info.value.problems
    assert problem.message == "file not found" and problem.file.endswith("missing.yaml")
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_scenario(binary)


def test_problems_name_the_file_given(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("mean: 180", "mean: zero"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == line_of(BASE, "mean: 180")


# --- forecast CSV --------------------------------------------------------------------


def _with_csv(tmp_path: Path, csv_text: str, days: int = 2) -> Path:
    (tmp_path / "fc.csv").write_text(textwrap.dedent(csv_text))
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("daily_volume: 1000", "forecast_csv: fc.csv").replace("days: 2", f"days: {days}"))
    return path


def test_forecast_csv_time_of_day(tmp_path):
    sc = load_scenario(_with_csv(tmp_path, "interval_start,volume,note\n08:00,10,a\n09:00,12.5,b\n"))
    volumes = sc.queue("sales").arrivals.volumes
    assert len(volumes) == 24 and volumes[8] == 10 and volumes[9] == 12.5 and sum(volumes) == 22.5


def test_forecast_csv_timestamps_cover_the_horizon(tmp_path):
    csv_text = "interval_start,volume\n2026-01-05 08:00,10\n2026-01-06T23:00,7\n"
    volumes = load_scenario(_with_csv(tmp_path, csv_text)).queue("sales").arrivals.volumes
    assert len(volumes) == 48 and volumes[8] == 10 and volumes[47] == 7


def test_forecast_csv_problems_carry_the_row(tmp_path):
    csv_text = """\
        interval_start,volume
        08:00,10
        09:00,lots
        09:30,4
        10:00,-1
        08:00,3
        2026-01-05 11:00,2
        """
    with pytest.raises(ScenarioError) as info:
        load_scenario(_with_csv(tmp_path, csv_text))
    problems = info.value.problems
    assert [(p.line, p.file) for p in problems] == [(r, str(tmp_path / "fc.csv")) for r in (3, 4, 5, 6, 7)]
    assert all(p.path == "queues[0].arrivals.forecast_csv" for p in problems)
    assert "volume must be a number, got 'lots'" in problems[0].message
    assert "not the start of a 60-minute interval" in problems[1].message
    assert "appears twice (first on row 2)" in problems[3].message
    assert "mixes" in problems[4].message


def test_forecast_csv_header_outside_horizon_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="missing volume"):
        load_scenario(_with_csv(tmp_path, "interval_start,calls\n08:00,1\n"))
    with pytest.raises(ScenarioError, match="outside the horizon") as info:
        load_scenario(_with_csv(tmp_path, "interval_start,volume\n2026-01-07 08:00,1\n"))
    assert info.value.problems[0].line == 2
    path = _with_csv(tmp_path, "interval_start,volume\n")
    (tmp_path / "fc.csv").unlink()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and "not found" in problem.message
    assert problem.line == line_of(BASE, "daily_volume")


# --- the validate command ------------------------------------------------------------


def test_validate_command_accepts_the_examples():
    result = CliRunner().invoke(validate_command, [str(p) for p in EXAMPLES])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("OK  ") == len(EXAMPLES)
    assert "1 queue, 1 pool, 1 day of 30-min intervals" in result.stdout


def test_validate_command_prints_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("days: 2", "days: -1").replace("tier: tier2", "tier: tier4"))
    good = SCENARIOS / "single_queue_erlang_c.yaml"
    result = CliRunner().invoke(validate_command, [str(bad), str(good), str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    lines = result.stdout.splitlines()
    assert f"{bad}:4: horizon.days: must be >= 1, got -1" in lines
    assert any(line.startswith(f"{bad}:{line_of(BASE, 'tier: tier2')}: pools[1].tier:") for line in lines)
    assert f"{tmp_path / 'nope.yaml'}: file not found" in lines
    assert any(line.startswith("OK  ") for line in lines)
    assert "2 of 3 scenario files have problems" in result.stderr


def test_consult_time_only_with_consults():
    text = """\
name: c
horizon: {start: 2026-01-05}
queues:
  - id: a
    arrivals: {daily_volume: 100}
    handle_time: {dist: exponential, mean: 200}
    escalations:
      - {to: b, probability: 0.1, mode: transfer, consult_time: {dist: exponential, mean: 60}}
      - {to: b, probability: 0.1, mode: consult, consult_time: {dist: exponential, mean: 60}}
  - {id: b, handle_time: {dist: exponential, mean: 600}}
pools:
  - {id: p, skills: [a, b], staffing: {agents: 5}}
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="c.yaml")
    (problem,) = err.value.problems
    assert problem.line == 8 and problem.path == "queues[0].escalations[0].consult_time"
    assert "consult only" in problem.message
    ok = parse_scenario(text.replace("mode: transfer, consult_time: {dist: exponential, mean: 60}",
                                     "mode: transfer"), source="c.yaml")
    assert ok.queues[0].escalations[1].consult_time.mean == 60
