"""Comparisons at equal service: each variant staffed to the least that meets the level.

Checks against answers known independently: two variants that differ only in cost per
hour end at the same staffing and their costs are in the ratio of the rates; on a
single M/M/n queue the staffing found is Erlang C's requirement (±1 agent, since the
simulated level carries noise), so the cheaper of an onshore and a slower, cheaper
offshore site is the one Erlang C predicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import SimpleNamespace

import pytest
from helpers import single_queue

from bposim import erlang
from bposim.equal_service import compare_at_service, parse_levels, scale_staffing
from bposim.errors import InputError
from bposim.scenario.schema import Shift, Site, Staffing


def _sited(sc, site: Site, agents: int):
    pool = replace(sc.pools[0], site=site.id, staffing=Staffing(agents=agents))
    return replace(sc, sites=(site,), pools=(pool,))


def _pair(rate=200, aht=180, hours=8, agents=10, offshore=Site("manila", cost_per_hour=20.0)):
    sc = single_queue(rate, aht, agents, hours=hours, warmup_minutes=60)
    return {"onshore": _sited(sc, Site("leeds", cost_per_hour=30.0), agents),
            "offshore": _sited(sc, offshore, agents)}


def _sl(outcome, name, queue="q"):
    return outcome.comparison.row(name, "service_level", f"queue:{queue}")


def test_variants_differing_only_in_rate_get_the_same_staffing_and_costs_in_ratio():
    out = compare_at_service(_pair(hours=4), {"q": 0.8}, replications=3, seed=4, executor="serial")
    assert out.methods == {"onshore": "uniform scale", "offshore": "uniform scale"}
    heads = {n: sc.pools[0].staffing.agents for n, sc in out.scenarios.items()}
    assert heads["onshore"] == heads["offshore"]  # same customers, same service: same answer
    for name in heads:
        assert _sl(out, name)["mean"] >= 0.8  # the level is met (mean over replications)
    cost = {n: out.comparison.row(n, "cost", "all")["mean"] for n in heads}
    assert cost["offshore"] / cost["onshore"] == pytest.approx(20 / 30)
    diff = out.comparison.row("offshore", "cost", "all")
    assert diff["diff_ci_high"] < 0  # cheaper, with confidence


def test_least_staffing_is_erlang_c_and_the_cheaper_site_is_erlang_cs():
    # onshore: AHT 180 s at 30/h; offshore: 30 % slower at 20/h. Erlang C at 80/20:
    need_on = int(erlang.required_agents(200 * 180 / 3600, 180, 20, 0.8))
    need_off = int(erlang.required_agents(200 * 234 / 3600, 234, 20, 0.8))
    assert need_off * 20 + 20 < (need_on - 1) * 30  # offshore cheaper even at ±1 agent
    slow = Site("manila", cost_per_hour=20.0, handle_time_factor=1.3)
    out = compare_at_service(_pair(offshore=slow), {"q": 0.8}, replications=6, seed=2,
                             executor="serial")
    heads = {n: sc.pools[0].staffing.agents for n, sc in out.scenarios.items()}
    assert abs(heads["onshore"] - need_on) <= 1, (heads, need_on)
    assert abs(heads["offshore"] - need_off) <= 1, (heads, need_off)
    assert out.comparison.row("offshore", "cost", "all")["diff_ci_high"] < 0
    summary = out.summary().set_index("variant")
    assert summary["q_met"].all()
    assert summary.loc["offshore", "cost"] < summary.loc["onshore", "cost"]


def test_small_counts_two_arrivals_a_day():
    sc = single_queue(1, 300, 1, hours=2)  # two contacts expected in the day
    out = compare_at_service({"a": sc, "b": sc}, {"q": 0.5}, replications=4, seed=1,
                             executor="serial")
    assert all(_sl(out, n)["mean"] >= 0.5 for n in ("a", "b"))
    assert out.scenarios["a"].pools[0].staffing.agents == 1  # one agent already suffices


def test_scale_staffing_rounds_up_every_form():
    sc = single_queue(100, 180, 3)
    shifts = Staffing(shifts=(Shift(start=dt.time(8), hours=8, agents=3),
                              Shift(start=dt.time(16), hours=8, agents=0)))
    table = Staffing(per_interval=(0, 1, 2, 3) * 12)
    for staffing, check in ((Staffing(agents=3), lambda s: s.agents == 5),
                            (shifts, lambda s: [x.agents for x in s.shifts] == [5, 0]),
                            (table, lambda s: s.per_interval == (0, 2, 3, 5) * 12)):
        scaled = scale_staffing(replace(sc, pools=(replace(sc.pools[0], staffing=staffing),)), 1.5)
        assert check(scaled.pools[0].staffing), scaled.pools[0].staffing


def test_parse_levels():
    assert parse_levels(["calls=0.8", "chat=90%"]) == {"calls": 0.8, "chat": 0.9}
    for bad in ("calls", "calls=", "calls=1", "calls=abc", "=0.8"):
        with pytest.raises(InputError):
            parse_levels([bad])
    with pytest.raises(InputError, match="twice"):
        parse_levels(["a=0.8", "a=0.7"])


def test_unknown_queue_and_unreachable_level():
    pair = _pair()
    with pytest.raises(InputError, match="has no queue 'calls'"):
        compare_at_service(pair, {"calls": 0.8}, replications=2, executor="serial")
    # nobody answers before 20 s when every call takes the queue's 10-minute answer lag
    sc = single_queue(200, 180, 10, answer_within=0, hours=1)
    sc = replace(sc, pools=(replace(sc.pools[0], skills=(replace(sc.pools[0].skills[0],
                                                                 overflow_after=600.0),)),))
    with pytest.raises(InputError, match="does not reach the service levels"):
        compare_at_service({"a": sc, "b": sc}, {"q": 0.8}, replications=2, executor="serial")


def test_a_variant_with_a_planning_section_is_planned_for_the_level(monkeypatch):
    planning = pytest.importorskip("bposim.planning")
    from bposim.scenario.planning import PlanningSpec

    seen = {}

    def fake_plan(scenario, **kw):  # stands in for the planner: records what it was asked
        seen["targets"], seen["kw"] = scenario.planning.targets, kw
        pool = replace(scenario.pools[0], staffing=Staffing(agents=20))
        return SimpleNamespace(scenario=replace(scenario, pools=(pool,), planning=None))

    monkeypatch.setattr(planning, "plan", fake_plan)
    pair = _pair(hours=2)
    pair["onshore"] = replace(pair["onshore"], planning=PlanningSpec())
    out = compare_at_service(pair, {"q": 0.75}, replications=3, seed=3, executor="serial")
    assert out.methods == {"onshore": "plan", "offshore": "uniform scale"}
    assert out.scales["onshore"] is None and out.scenarios["onshore"].pools[0].staffing.agents == 20
    (target,) = seen["targets"]
    assert target.queue == "q" and target.service_level.target == 0.75
    assert target.service_level.answer_within == 20  # the queue's own threshold
    assert seen["kw"]["replications"] == 3 and seen["kw"]["seed"] == 3


CLI_SCENARIO = """\
name: sourcing
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: calls
    handle_time: {dist: exponential, mean: 180}
    arrivals: {volumes: [0, 0, 0, 0, 0, 0, 0, 0, 150, 150, 150, 150, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
pools:
  - id: agents
    skills: [calls]
    cost_per_hour: 30
    staffing: {agents: 6}
simulation: {replications: 3, seed: 5}
variants:
  cheaper: {pools.agents.cost_per_hour: 20}
"""


def test_cli_compare_at_service_level(tmp_path):
    from click.testing import CliRunner

    from bposim.cli.compare_cmds import compare_command

    path = tmp_path / "s.yaml"
    path.write_text(CLI_SCENARIO)
    out = tmp_path / "out"
    args = [str(path), "--at-service-level", "calls=0.8", "--executor", "serial", "--out", str(out),
            "--quiet", "-n", "2"]
    res = CliRunner().invoke(compare_command, args)
    assert res.exit_code == 0, res.output
    assert "uniform scale" in res.output and "calls SL (target 80%)" in res.output
    written = (out / "equal_service.csv").read_text()
    assert written.startswith("variant,method,scale") and (out / "comparison.csv").is_file()
    again = CliRunner().invoke(compare_command, args)
    assert again.exit_code == 2 and "--force" in again.output and "Traceback" not in again.output
    bad = CliRunner().invoke(compare_command, [str(path), "--at-service-level", "calls=80"])
    assert bad.exit_code == 2 and "below 1" in bad.output
    unknown = CliRunner().invoke(compare_command, [str(path), "--at-service-level", "chat=0.8"])
    assert unknown.exit_code == 2 and "has no queue 'chat'" in unknown.output


def test_work_beyond_the_limits_is_refused_before_any_simulation():
    from bposim.workload import WorkloadError

    huge = single_queue(2e7, 180, 10)  # 480 million calls a day
    with pytest.raises(WorkloadError):
        compare_at_service({"a": huge, "b": huge}, {"q": 0.8}, replications=2, executor="serial",
                           progress=lambda m: pytest.fail(f"simulated: {m}"))
