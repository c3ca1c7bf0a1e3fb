"""Channel settings in scenarios (issue 10): parsing, bad input with file, field and line,
and the compiled plain-number fields (block times across time zones and DST, pools as
indices, defaults)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from bposim.cli import main
from bposim.engine.channel_model import BACK_OFFICE, CHAT, EMAIL, VOICE, block_times
from bposim.engine.model import compile_scenario
from bposim.errors import ScenarioError
from bposim.scenario import load_scenario, parse_scenario
from bposim.scenario.schema import BacklogBlock, Horizon

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

TEXT = """\
name: channels
horizon: {start: 2026-03-27, days: 3, interval_minutes: 30, timezone: Europe/London}
sites:
  - {id: mnl, timezone: Asia/Manila}
queues:
  - id: calls
    arrivals: {daily_volume: 500}
    handle_time: {dist: exponential, mean: 240}
    patience: {dist: exponential, mean: 120}
    callback: {offer_when_wait_over: 120, acceptance: 0.5}
    retrial: {probability: 0.3, delay: {dist: exponential, mean: 600}}
    head_start: 30
  - id: web
    channel: chat
    arrivals: {daily_volume: 300}
    handle_time: {dist: lognormal, mean: 400, cv: 1}
    patience: {dist: exponential, mean: 200}
    service_level: {answer_within: 60, target: 0.8}
  - id: mail
    channel: email
    arrivals: {daily_volume: 200}
    handle_time: {dist: exponential, mean: 300}
    due_within_hours: 24
    service_level: {target: 0.9}
  - id: forms
    channel: back_office
    arrivals: {daily_volume: 50}
    handle_time: 900
  - id: expert
    handle_time: 600
pools:
  - id: tier1
    site: mnl
    skills: [calls, web, mail, forms]
    staffing: {agents: 10}
    chat: {concurrency: 3, stretch: 1.15}
    backlog_blocks: [{start: "14:00", end: "15:00"}]
    proficiency: {new_hires: 2}
  - id: sme
    tier: sme
    skills: [expert]
    staffing: {agents: 2}
    qa_review: {share: 0.05, of: [tier1], time: {dist: exponential, mean: 600}, due_within_hours: 48}
    coaching: {hours_per_new_hire: 8, of: [tier1], session_minutes: 60}
"""

H = 3600.0


def replaced(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, old
    return TEXT.replace(old, new)


def line_of(text: str, marker: str) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, marker
    return hits[0]


# --- valid input -----------------------------------------------------------------------


def test_every_channel_setting_is_read():
    s = parse_scenario(TEXT, source="t.yaml")
    calls, web, mail, forms, expert = s.queues
    assert [q.channel for q in s.queues] == ["voice", "chat", "email", "back_office", "voice"]
    assert [q.deferrable for q in s.queues] == [False, False, True, True, False]
    cb = calls.callback
    assert (cb.offer_when_wait_over, cb.acceptance, cb.mode, cb.delay_minutes) == (120, 0.5, "keep_place", None)
    assert (cb.attempts, cb.success, cb.retry_minutes) == (3, 0.8, 10)  # the documented defaults
    assert calls.retrial.probability == 0.3 and calls.retrial.delay.mean == 600
    assert calls.head_start == 30 and web.head_start == 0
    assert mail.due_within_hours == 24 and forms.due_within_hours == 24  # default 24 h
    assert mail.service_level.target == 0.9
    tier1, sme = s.pools
    assert (tier1.chat.concurrency, tier1.chat.stretch) == (3, 1.15)
    assert (sme.chat.concurrency, sme.chat.stretch) == (1, 1.0)
    assert [(b.start.hour, b.end.hour) for b in tier1.backlog_blocks] == [(14, 15)]
    assert sme.qa_review.of == ("tier1",) and sme.qa_review.share == 0.05
    assert sme.qa_review.due_within_hours == 48 and sme.qa_review.time.mean == 600
    assert sme.coaching.hours_per_new_hire == 8 and sme.coaching.session_minutes == 60


def test_example_scenarios_keep_the_defaults():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        if path.name in ("omnichannel.yaml", "large_centre.yaml"):  # the channels example; a
            continue  # voice centre too, but seconds to compile (its size is its point)
        model = compile_scenario(load_scenario(path))
        for q in model.queues:
            assert (q.channel_code, q.deferrable, q.due, q.head_start) == (VOICE, False, math.inf, 0.0)
            assert q.callback is None and q.retrial is None
        for p in model.pools:
            assert (p.concurrency, p.stretch, p.backlog_blocks, p.qa, p.coaching) == (1, 1.0, (), None, None)


def test_the_omnichannel_example_uses_every_channel_setting():
    model = compile_scenario(load_scenario(SCENARIOS / "omnichannel.yaml"))
    calls, chat, email, expert = model.queues
    assert [q.channel_code for q in model.queues] == [VOICE, CHAT, EMAIL, VOICE]
    assert calls.callback is not None and calls.retrial is not None and chat.retrial is not None
    assert chat.head_start == 15 and email.deferrable and email.due == 24 * H
    frontline, backoffice, experts = model.pools
    assert (frontline.concurrency, frontline.stretch) == (2, 1.15)
    # 14:00-15:00 in London on each of the three days (GMT in January)
    assert frontline.backlog_blocks == ((14 * H, 15 * H), (38 * H, 39 * H), (62 * H, 63 * H))
    assert experts.qa.of_pools == (0,) and experts.coaching.of_pools == (0,)


def test_scheduled_callback_and_coaching_default_pools():
    text = replaced("callback: {offer_when_wait_over: 120, acceptance: 0.5}",
                    "callback: {offer_when_wait_over: 90, acceptance: 0.4, mode: scheduled, "
                    "delay_minutes: 30, attempts: 2, success: 0.7, retry_minutes: 15}")
    text = text.replace("coaching: {hours_per_new_hire: 8, of: [tier1], session_minutes: 60}",
                        "coaching: {hours_per_new_hire: 8}")
    model = compile_scenario(parse_scenario(text, source="t.yaml"))
    cb = model.queues[0].callback
    assert (cb.threshold, cb.acceptance, cb.keep_place, cb.delay) == (90.0, 0.4, False, 1800.0)
    assert (cb.attempts, cb.success, cb.retry_after) == (2, 0.7, 900.0)
    assert model.pools[1].coaching.of_pools == (0,)  # default: every other pool


# --- compiled fields -------------------------------------------------------------------


def test_compiled_queue_and_pool_fields():
    model = compile_scenario(parse_scenario(TEXT, source="t.yaml"))
    calls, web, mail, forms, expert = model.queues
    assert [q.channel_code for q in model.queues] == [VOICE, CHAT, EMAIL, BACK_OFFICE, VOICE]
    assert (mail.due, forms.due, calls.due, web.due) == (24 * H, 24 * H, math.inf, math.inf)
    assert mail.deferrable and forms.deferrable and not calls.deferrable
    cb = calls.callback
    assert (cb.threshold, cb.keep_place, cb.delay, cb.retry_after) == (120.0, True, 0.0, 600.0)
    assert calls.retrial.probability == 0.3 and calls.head_start == 30.0
    assert web.answer_within == 60.0 and calls.answer_within == 20.0
    tier1, sme = model.pools
    assert (tier1.concurrency, tier1.stretch) == (3, 1.15)
    assert sme.qa.of_pools == (0,) and sme.qa.share == 0.05 and sme.qa.due == 48 * H
    assert sme.coaching.of_pools == (0,) and sme.coaching.session == 3600.0
    assert sme.coaching.hours_per_new_hire == 8.0


def test_backlog_blocks_in_site_time_across_a_dst_change_of_the_reference_zone():
    # Manila is UTC+8 all year; London moves from GMT to BST at 01:00 UTC on Sun 29 March
    # 2026. 14:00-15:00 in Manila is 06:00-07:00 UTC: 06:00 London time on Fri 27 and
    # Sat 28, 07:00 on Sun 29 (clock hours 6, 24 + 6 and 48 + 7).
    model = compile_scenario(parse_scenario(TEXT, source="t.yaml"))
    assert model.pools[0].backlog_blocks == ((6 * H, 7 * H), (30 * H, 31 * H), (55 * H, 56 * H))
    assert model.pools[1].backlog_blocks == ()


def test_backlog_blocks_across_a_dst_change_of_the_site_zone():
    # New York moves to EDT at 02:00 local on Sun 8 March 2026: 09:00 there is 14:00 UTC
    # on Sat 7 and 13:00 UTC on Sun 8.
    horizon = Horizon(start=dt.date(2026, 3, 7), days=2, timezone="UTC")
    block = BacklogBlock(start=_t("09:00"), end=_t("10:00"))
    assert block_times((block,), horizon, "America/New_York") == ((14 * H, 15 * H), (37 * H, 38 * H))


def test_backlog_blocks_past_midnight_are_merged_and_clipped():
    # 23:00-01:00 and 00:30-02:00 every day, 2 days from the reference zone's midnight:
    # the block begun the evening before the start shows as 00:00-02:00, then 23:00-02:00
    # the next night (hours 23-26), and the last evening is cut at the horizon's end (48).
    horizon = Horizon(start=dt.date(2026, 1, 5), days=2, timezone="Europe/Paris")
    blocks = (BacklogBlock(_t("23:00"), _t("01:00")), BacklogBlock(_t("00:30"), _t("02:00")))
    assert block_times(blocks, horizon, None) == ((0.0, 2 * H), (23 * H, 26 * H), (47 * H, 48 * H))


def test_backlog_blocks_on_chosen_days():
    # 5 Jan 2026 is a Monday; a block on Wednesdays only falls on day 2.
    horizon = Horizon(start=dt.date(2026, 1, 5), days=7)
    block = BacklogBlock(_t("09:00"), _t("12:30"), days=("wed",))
    assert block_times((block,), horizon, None) == ((57 * H, 60.5 * H),)


def test_qa_pools_compile_to_sorted_indices():
    text = TEXT + """\
  - id: back
    skills: [forms]
    staffing: {agents: 1}
"""
    text = text.replace("of: [tier1], time", "of: [back, tier1], time")
    model = compile_scenario(parse_scenario(text, source="t.yaml"))
    assert model.pools[1].qa.of_pools == (0, 2)
    text = text.replace("of: [back, tier1], time", "time")  # default: every other pool
    model = compile_scenario(parse_scenario(text, source="t.yaml"))
    assert model.pools[1].qa.of_pools == (0, 2)


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


# --- bad input: exit 2 at the CLI, with the file, field path and line ------------------

ADD_TO_WEB = "    channel: chat\n"
ADD_TO_MAIL = "    channel: email\n"
QA_LINE = "    qa_review: {share: 0.05, of: [tier1], time: {dist: exponential, mean: 600}, due_within_hours: 48}\n"
BAD = [
    ("concurrency: 3,", "concurrency: 0,", "concurrency: 0", "pools[0].chat.concurrency",
     "must be in [1, 20], got 0"),
    ("concurrency: 3,", "concurrency: 2.5,", "concurrency: 2.5", "pools[0].chat.concurrency",
     "must be a whole number"),
    ("stretch: 1.15", "stretch: 0.9", "stretch: 0.9", "pools[0].chat.stretch", "must be in [1, 3], got 0.9"),
    ("due_within_hours: 24", "due_within_hours: 0", "due_within_hours: 0", "queues[2].due_within_hours",
     "must be > 0"),
    (ADD_TO_WEB, ADD_TO_WEB + "    callback: {offer_when_wait_over: 60, acceptance: 0.5}\n", "callback: {offer_when_wait_over: 60",
     "queues[1].callback", "voice queues only, not chat"),
    (ADD_TO_MAIL, ADD_TO_MAIL + "    callback: {offer_when_wait_over: 60, acceptance: 0.5}\n", "offer_when_wait_over: 60",
     "queues[2].callback", "does not apply to email queues"),
    (ADD_TO_MAIL, ADD_TO_MAIL + "    retrial: {probability: 0.2, delay: 300}\n", "probability: 0.2",
     "queues[2].retrial", "does not apply to email queues"),
    (ADD_TO_MAIL, ADD_TO_MAIL + "    patience: {dist: exponential, mean: 60}\n", "mean: 60}",
     "queues[2].patience", "does not apply to email queues"),
    ("    channel: back_office\n", "    channel: back_office\n    retrial: {probability: 0.2, delay: 300}\n",
     "probability: 0.2", "queues[3].retrial", "does not apply to back_office queues"),
    ("share: 0.05", "share: 1.5", "share: 1.5", "pools[1].qa_review.share", "must be in [0, 1], got 1.5"),
    ("share: 0.05", "share: -0.1", "share: -0.1", "pools[1].qa_review.share", "must be in [0, 1]"),
    ("of: [tier1], time", "of: [tierl], time", "of: [tierl]", "pools[1].qa_review.of[0]",
     "unknown pool 'tierl'; did you mean 'tier1'?"),
    ("of: [tier1], time", "of: [sme], time", "of: [sme]", "pools[1].qa_review.of[0]", "names the pool itself"),
    ("of: [tier1], session", "of: [sme], session", "of: [sme], session", "pools[1].coaching.of[0]",
     "names the pool itself"),
    ("    proficiency: {new_hires: 2}\n", "", "hours_per_new_hire", "pools[1].coaching.of[0]",
     "pool 'tier1' has no new hires to coach"),
    ("    head_start: 30\n", "    head_start: 30\n    due_within_hours: 6\n", "due_within_hours: 6",
     "queues[0].due_within_hours", "applies to email and back_office queues"),
    ("offer_when_wait_over: 120, acceptance: 0.5", "offer_when_wait_over: 0, acceptance: 0.5", "wait_over: 0",
     "queues[0].callback.offer_when_wait_over", "must be > 0"),
    ("offer_when_wait_over: 120, acceptance: 0.5", "offer_when_wait_over: 120, acceptance: 1.2", "acceptance: 1.2",
     "queues[0].callback.acceptance", "must be in [0, 1]"),
    ("acceptance: 0.5}", "acceptance: 0.5, attempts: 0}", "attempts: 0", "queues[0].callback.attempts",
     "must be in [1, 20]"),
    ("acceptance: 0.5}", "acceptance: 0.5, success: 2}", "success: 2", "queues[0].callback.success",
     "must be in [0, 1]"),
    ("acceptance: 0.5}", "acceptance: 0.5, mode: scheduled}", "mode: scheduled",
     "queues[0].callback.delay_minutes", "is needed with mode: scheduled"),
    ("acceptance: 0.5}", "acceptance: 0.5, delay_minutes: 30}", "delay_minutes: 30",
     "queues[0].callback.delay_minutes", "applies to mode: scheduled only"),
    ("acceptance: 0.5}", "acceptance: 0.5, mode: later}", "mode: later", "queues[0].callback.mode",
     "must be one of keep_place, scheduled"),
    ("probability: 0.3,", "probability: 1.3,", "probability: 1.3", "queues[0].retrial.probability",
     "must be in [0, 1]"),
    ("delay: {dist: exponential, mean: 600}", "delay: 0", "delay: 0", "queues[0].retrial.delay", "must be > 0"),
    ("    patience: {dist: exponential, mean: 120}\n", "", "retrial:", "queues[0].retrial",
     "needs patience"),
    ("head_start: 30", "head_start: -5", "head_start: -5", "queues[0].head_start", "must be >= 0"),
    ("service_level: {target: 0.9}", "service_level: {answer_within: 20, target: 0.9}", "answer_within: 20",
     "queues[2].service_level.answer_within", "share of items closed within due_within_hours"),
    ("    channel: email\n", "    channel: fax\n", "channel: fax", "queues[2].channel",
     "must be one of voice, chat, email, back_office"),
    ("    skills: [expert]\n", "    skills: [expert]\n    chat: {concurrency: 2}\n", "concurrency: 2}",
     "pools[1].chat", "serve a chat queue"),
    (QA_LINE, "    qa_review: null\n", "qa_review: null", "pools[1].qa_review", "must be a mapping"),
    ('end: "15:00"', 'end: "14:00"', 'end: "14:00"', "pools[0].backlog_blocks[0]", "starts and ends at 14:00"),
    ('end: "15:00"', 'end: "25:00"', 'end: "25:00"', "pools[0].backlog_blocks[0].end", "time of day"),
    ('end: "15:00"}', 'end: "15:00", days: [mon, mon]}', "days: [mon, mon]",
     "pools[0].backlog_blocks[0].days", "names a day twice"),
    ("due_within_hours: 48", "due_within_hours: 0", "due_within_hours: 0", "pools[1].qa_review.due_within_hours",
     "must be > 0"),
    ("session_minutes: 60", "session_minutes: 1", "session_minutes: 1", "pools[1].coaching.session_minutes",
     "must be in [5, 480]"),
    ("hours_per_new_hire: 8", "hours_per_new_hire: 0", "hours_per_new_hire: 0",
     "pools[1].coaching.hours_per_new_hire", "must be in (0, 1000]"),
    ("time: {dist: exponential, mean: 600}", "time: {dist: exponential, mean: 0}", "mean: 0}",
     "pools[1].qa_review.time.mean", "must be > 0"),
]


@pytest.mark.parametrize("old,new,marker,path,words", BAD, ids=[f"{b[3]}:{b[4][:24]}" for b in BAD])
def test_bad_channel_input_is_a_clear_error(tmp_path, old, new, marker, path, words):
    text = replaced(old, new)
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    expected = f"{file}:{line_of(text, marker)}: {path}: "
    hits = [line for line in result.output.splitlines() if line.startswith(expected)]
    assert hits and words in hits[0], result.output


def test_backlog_blocks_need_backlog_work():
    text = replaced("    skills: [expert]\n", "    skills: [expert]\n    backlog_blocks: [{start: \"09:00\", end: \"10:00\"}]\n")
    text = text.replace(QA_LINE, "")
    text = text.replace("    coaching: {hours_per_new_hire: 8, of: [tier1], session_minutes: 60}\n", "")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "pools[1].backlog_blocks" and problem.line == line_of(text, 'start: "09:00"')
    assert "no email or back_office queue" in problem.message


def test_coaching_with_no_new_hires_anywhere():
    text = replaced("    proficiency: {new_hires: 2}\n", "")
    text = text.replace("hours_per_new_hire: 8, of: [tier1], session", "hours_per_new_hire: 8, session")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "pools[1].coaching" and "no other pool has new hires" in problem.message
    # attrition brings replacement hires: that is enough
    ok = text.replace("    chat: {concurrency", "    attrition: {annual_rate: 0.3}\n    chat: {concurrency")
    assert parse_scenario(ok, source="t.yaml").pools[1].coaching.of == ()


def test_every_channel_problem_is_reported_at_once():
    text = (TEXT.replace("concurrency: 3", "concurrency: 0").replace("stretch: 1.15", "stretch: 0.5")
            .replace("due_within_hours: 24", "due_within_hours: 0").replace("share: 0.05", "share: 2")
            .replace("of: [tier1], time", "of: [nobody], time"))
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    paths = {p.path for p in err.value.problems}
    assert paths == {"pools[0].chat.concurrency", "pools[0].chat.stretch", "queues[2].due_within_hours",
                     "pools[1].qa_review.share", "pools[1].qa_review.of[0]"}


def test_run_refuses_bad_channel_input_with_exit_2(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text(replaced("concurrency: 3,", "concurrency: 0,"))
    result = CliRunner().invoke(main, ["run", str(file), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"bad.yaml:{line_of(TEXT, 'concurrency: 3')}: pools[0].chat.concurrency" in result.output
    assert not (tmp_path / "out").exists()


def test_deferrable_queue_with_a_forecast_patience_column(tmp_path):
    csv = tmp_path / "f.csv"
    csv.write_text("interval_start,volume,patience\n" + "".join(f"{h:02d}:{m:02d},5,60\n" for h in range(24) for m in (0, 30)))
    text = replaced("    arrivals: {daily_volume: 200}\n", "    arrivals: {forecast_csv: f.csv}\n")
    (tmp_path / "t.yaml").write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "queues[2].arrivals.forecast_csv" and "patience column" in problem.message
    assert problem.message.startswith("has a patience column")


# --- round trips: planned.yaml, the what-if page ---------------------------------------


@pytest.mark.parametrize("from_file", [True, False], ids=["file", "in code"])
def test_planned_yaml_keeps_the_channel_settings(tmp_path, from_file):
    import dataclasses

    from bposim.outputs import scenario_hash
    from bposim.planning.yamlout import planned_yaml

    text = TEXT.replace("acceptance: 0.5}", "acceptance: 0.5, mode: scheduled, delay_minutes: 30}")
    text = text.replace('end: "15:00"}', 'end: "15:00", days: [mon, fri]}')
    (tmp_path / "c.yaml").write_text(text)
    scenario = load_scenario(tmp_path / "c.yaml")
    if not from_file:
        scenario = dataclasses.replace(scenario, source=None)
    out = planned_yaml(scenario, scenario, (), tmp_path / "planned.yaml")  # refuses a changed load
    back = parse_scenario(out, source="planned.yaml")
    assert scenario_hash(back) == scenario_hash(scenario)
    assert back.pools[0].backlog_blocks[0].days == ("mon", "fri")
    assert back.queues[0].callback.delay_minutes == 30 and back.pools[1].coaching.of == ("tier1",)


def test_what_if_variants_keep_the_channel_settings(tmp_path):
    from bposim.serve.controls import describe, variant
    from bposim.serve.library import Library

    (tmp_path / "c.yaml").write_text(TEXT)
    library = Library(tmp_path)
    entry = library.get("c.yaml")
    info = describe(entry)["queues"]
    assert [q["patience"] for q in info] == [120, 200, None, None, None]
    assert [q["service_level"]["due_within_hours"] for q in info] == [None, None, 24, 24, None]
    assert [q["channel"] for q in info] == ["voice", "chat", "email", "back_office", "voice"]
    v = variant(library, entry, {"volume_pct": 120, "aht_pct": 90, "pools": {"tier1": {"agents": 12}}})
    assert v.settings["queues.mail.arrivals.daily_volume"] == 240 and v.settings["pools.tier1.agents"] == 12
    base = entry.scenario
    assert v.scenario.queues[0].callback == base.queues[0].callback
    assert v.scenario.queues[2].due_within_hours == 24 and v.scenario.queues[2].channel == "email"
    assert [p.chat for p in v.scenario.pools] == [p.chat for p in base.pools]
    assert [(p.backlog_blocks, p.qa_review, p.coaching) for p in v.scenario.pools] == \
        [(p.backlog_blocks, p.qa_review, p.coaching) for p in base.pools]


def test_variants_and_sweeps_reach_the_channel_settings():
    from bposim.overlay import apply_overrides

    data = yaml.safe_load(TEXT)
    data, _where = apply_overrides(data, {
        "pools.tier1.chat.concurrency": 4, "queues.calls.callback.acceptance": 0.7,
        "queues.mail.due_within_hours": 4, "pools.sme.qa_review.share": 0.1,
        "pools.tier1.backlog_blocks.0.end": "16:00"})
    s = parse_scenario(data, source="t.yaml")
    assert s.pools[0].chat.concurrency == 4 and s.queues[0].callback.acceptance == 0.7
    assert s.queues[2].due_within_hours == 4 and s.pools[1].qa_review.share == 0.1
    assert s.pools[0].backlog_blocks[0].end.hour == 16


def test_results_directory_keeps_a_scenario_copy_that_loads_back(tmp_path):
    from bposim.batch import run_to_directory
    from bposim.outputs import scenario_hash

    text = TEXT.replace("days: 3", "days: 1").replace("daily_volume: 500", "daily_volume: 20")
    for volume in ("300", "200", "50"):
        text = text.replace(f"daily_volume: {volume}", "daily_volume: 10")
    (tmp_path / "c.yaml").write_text(text)
    scenario = load_scenario(tmp_path / "c.yaml")
    run_to_directory(scenario, tmp_path / "out", replications=1, executor="serial", engine="simpy")
    back = load_scenario(tmp_path / "out" / "scenario.yaml")
    assert scenario_hash(back) == scenario_hash(scenario)
    assert back.queues[0].callback == scenario.queues[0].callback and back.pools[1].coaching.of == ("tier1",)
    # the report reads the copy: the backlog queues' targets are their due times
    from bposim.report.html import _queue_section
    from bposim.report.load import load_results

    data = load_results(tmp_path / "out")
    assert [q.due_hours for q in data.queues] == [None, None, 24.0, 24.0, None]
    assert set(data.answer_within()) == {"calls", "web", "expert"}
    section = _queue_section(data)
    assert "90% closed in 24 h" in section and "mail, forms: a backlog with a due time" in section


def test_a_consult_cannot_wait_in_a_backlog():
    text = replaced("    head_start: 30\n", "    head_start: 30\n    escalations:\n"
                    "      - {to: mail, probability: 0.1, mode: consult}\n")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "queues[0].escalations[0].mode" and problem.line == line_of(text, "mode: consult")
    assert "cannot go to email queue 'mail'" in problem.message
    ok = parse_scenario(text.replace("mode: consult", "mode: transfer"), source="t.yaml")
    assert ok.queues[0].escalations[0].to == "mail"  # a transfer into the backlog is fine


def test_a_planning_target_of_a_backlog_queue_gives_no_answer_time():
    text = TEXT + """\
planning:
  targets:
    mail: {service_level: {answer_within: 60, target: 0.9}}
  pools:
    tier1:
      templates: [{name: day, starts: {from: "08:00", to: "10:00", every: 60}, hours: [8]}]
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "planning.targets.mail.service_level.answer_within"
    assert problem.line == line_of(text, "mail: {service_level") and "closed within" in problem.message
    ok = parse_scenario(text.replace("answer_within: 60, ", ""), source="t.yaml")
    assert ok.planning.targets[0].service_level.target == 0.9


# --- the Erlang baseline of channels -----------------------------------------------------

SMALL = """\
name: b
horizon: {start: 2026-01-05, interval_minutes: 60}
queues:
  - {id: q, channel: CHANNEL, arrivals: {daily_volume: 480}, handle_time: {dist: exponential, mean: 300},
     service_level: {answer_within: 30, target: 0.8}}
pools:
  - {id: p, skills: [q], staffing: {agents: AGENTS}CHAT}
"""


def _baseline(channel: str, agents: int, chat: str = ""):
    from bposim.baseline import queue_baseline

    text = SMALL.replace("CHANNEL", channel).replace("AGENTS", str(agents)).replace("CHAT", chat)
    if channel == "email":
        text = text.replace("answer_within: 30, ", "")
    return queue_baseline(compile_scenario(parse_scenario(text, source="b.yaml")))


def test_chat_baseline_is_erlang_c_with_k_sessions_per_agent():
    # 20 contacts an hour of 300 s: 1.67 Erlangs. Three agents holding 2 chats each are,
    # for Erlang C, six servers: the same service level as six voice agents, and the
    # agents needed are the voice agents needed, halved and rounded up.
    chat = _baseline("chat", 3, ", chat: {concurrency: 2}")
    voice = _baseline("voice", 6)
    assert chat["erlang_service_level"].tolist() == voice["erlang_service_level"].tolist()
    assert chat["erlang_agents"].max() == 3
    assert (chat["erlang_required_agents"] == -(-voice["erlang_required_agents"] // 2)).all()
    # a stretch of 1.2 with 2 sessions: each chat is taken to last 360 s
    stretched = _baseline("chat", 3, ", chat: {concurrency: 2, stretch: 1.2}")
    assert stretched["load_erlangs"].max() == pytest.approx(20 * 360 / 3600)


def test_email_has_no_erlang_baseline_but_its_load():
    b = _baseline("email", 3)
    assert b["expected_offered"].max() == pytest.approx(20.0)
    assert b["load_erlangs"].max() == pytest.approx(20 * 300 / 3600)
    assert b["erlang_required_agents"].isna().all() and b["erlang_service_level"].isna().all()


def test_run_summary_says_a_backlog_has_no_erlang_figures():
    import bposim
    from bposim.cli.simulate import summary_tables

    text = SMALL.replace("CHANNEL", "email").replace("AGENTS", "2").replace("CHAT", "")
    scenario = parse_scenario(text.replace("answer_within: 30, ", "").replace("480", "48"), source="b.yaml")
    results = bposim.run(scenario, replications=2, seed=1, executor="serial", engine="simpy")
    out = summary_tables(results, bposim.run_baseline(compile_scenario(scenario)))
    row = next(line for line in out.splitlines() if line.startswith("q "))
    assert "80%/24h due" in row
    assert "q: a backlog with a due time: no Erlang figures" in out


def test_coaching_of_a_pool_whose_new_hires_are_invalid_reports_that_only():
    # found by fuzzing: an invalid new_hires made the coaching check fail
    text = replaced("proficiency: {new_hires: 2}", "proficiency: {new_hires: ''}")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    assert [p.path for p in err.value.problems] == ["pools[0].proficiency.new_hires"]


PLAN = """\
name: plan
horizon: {start: 2026-01-05, interval_minutes: 60}
queues:
  - {id: q, channel: CHANNEL, arrivals: {volumes: [0,0,0,0,0,0,0,0, 120,120,120,120,120,120,120,120,
     0,0,0,0,0,0,0,0]}, handle_time: {dist: exponential, mean: 240}SL}
pools:
  - {id: p, skills: [q], staffing: {agents: 1}CHAT}
planning:
  pools:
    p: {templates: [{name: day, starts: ["08:00"], hours: 8}]MAXOCC}
"""


def _stage1(channel: str, chat: str = "", sl: str = ", service_level: {answer_within: 20, target: 0.8}",
            maxocc: str = ""):
    from bposim.planning.evaluate import resolve_targets
    from bposim.planning.requirements import erlang_requirements

    text = PLAN.replace("CHANNEL", channel).replace("CHAT", chat).replace("SL", sl).replace("MAXOCC", maxocc)
    sc = parse_scenario(text, source="plan.yaml")
    c_need, _a = erlang_requirements(sc, resolve_targets(sc, sc.planning), sc.planning, ("p",))
    return c_need[0]


def test_planning_starts_chat_from_k_sessions_per_agent_and_email_from_its_work():
    from bposim import erlang

    # 120 contacts an hour of 240 s: 8 Erlangs. Voice: Erlang C's agents for 80/20. Chat
    # with 2 sessions per agent: Erlang C's servers for the same target, halved.
    voice = erlang.required_agents(8.0, 240.0, 20.0, 0.8)
    assert (_stage1("voice")[8:16] == voice).all()
    assert (_stage1("chat", ", chat: {concurrency: 2}")[8:16] == np.ceil(voice / 2)).all()
    # email: no Erlang formula for a due time; the work as it arrives, 8 agents (10 at a
    # 0.8 occupancy cap)
    email = _stage1("email", sl=", service_level: {target: 0.9}")
    assert (email[8:16] == 8).all() and (email[:8] == 0).all()
    assert (_stage1("email", sl="", maxocc=", max_occupancy: 0.8")[8:16] == 10).all()


def test_overflow_after_does_not_apply_to_a_backlog_skill():
    text = replaced("    skills: [calls, web, mail, forms]\n",
                    "    skills:\n      calls: 1\n      web: 1\n      mail: {priority: 2, overflow_after: 60}\n"
                    "      forms: 2\n")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="t.yaml")
    (problem,) = err.value.problems
    assert problem.path == "pools[0].skills.mail.overflow_after"
    assert problem.line == line_of(text, "overflow_after: 60") and "email queue 'mail'" in problem.message
    ok = parse_scenario(text.replace(", overflow_after: 60", ""), source="t.yaml")
    assert ok.pools[0].skills[2].priority == 2
