"""``bposim plan`` end to end: outputs, planned.yaml reproduces the plan, resuming,
and bad input stopped before any simulation with nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import bposim
from bposim.cli import main

TINY = """\
name: tiny plan
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: q
    arrivals: {volumes: [0,0,0,0,0,0,0,0, 20,40,40,40,40,40,40,40,20, 0,0,0,0,0,0,0]}
    handle_time: {dist: exponential, mean: 300}
    patience: {dist: exponential, mean: 120}
    service_level: {answer_within: 20, target: 0.8}
pools:
  - id: p
    skills: [q]
    staffing: {agents: 1}
    cost_per_hour: 20
planning:
  replications: 4
  targets:
    q: {per: [interval, day], max_abandon: 0.1}
  pools:
    p:
      templates:
        - {name: day, starts: {from: "08:00", to: "12:00", every: 60}, hours: [4, 8]}
      breaks: [{minutes: 15, window: [1, 2]}]
      max_headcount: 50
"""


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_plan_writes_outputs_and_planned_yaml_reproduces_the_plan(tmp_path):
    src = write(tmp_path, TINY)
    out = tmp_path / "plan"
    r = invoke("plan", src, "--out", out, "--workers", 1, "--quiet")
    assert r.exit_code == 0, r.output
    for name in ("requirements.csv", "schedule.csv", "planned.yaml", "summary.txt", "attainment.csv",
                 "reference/schedule.csv", "reference/planned.yaml", "manifest.json"):
        assert (out / name).is_file(), name
    req = pd.read_csv(out / "requirements.csv")
    assert {"interval", "pool", "erlang_c", "erlang_a", "simulated"} <= set(req.columns)
    sched = pd.read_csv(out / "schedule.csv")
    assert {"site", "pool", "template", "start", "breaks", "count", "paid_hours", "cost"} <= set(sched.columns)
    # paid hours and cost: count x shift length, x 20 per hour (no absence)
    assert sched["paid_hours"].sum() == pytest.approx((sched["count"] * sched["hours"]).sum())
    assert sched["cost"].sum() == pytest.approx(20 * sched["paid_hours"].sum(), rel=1e-9)
    # the planned scenario, run on its own with its own seed, gives the plan's figures
    planned = bposim.load_scenario(out / "planned.yaml")
    res = bposim.run(planned, workers=1)
    att = pd.read_csv(out / "attainment.csv")
    row = att[(att["scope"] == "all") & (att["metric"] == "service_level")].iloc[0]
    assert res.metric("service_level", "queue:q")["mean"] == pytest.approx(row["value"], abs=1e-12)
    assert res.metric("paid_hours", "pool:p")["mean"] == pytest.approx(sched["paid_hours"].sum())
    # rerunning resumes from the folder: nothing is simulated again, same schedule
    seen = []
    again = bposim.plan(bposim.load_scenario(src), out=out, workers=1, progress=seen.append)
    assert not any("iteration" in m for m in seen)
    assert again.schedule["count"].tolist() == sched["count"].tolist()


def test_plan_refuses_a_folder_with_other_files(tmp_path):
    src = write(tmp_path, TINY)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = invoke("plan", src, "--out", out, "--quiet")
    assert r.exit_code == 2 and "--force" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("edit, expected", [
    (("max_headcount: 50", "max_headcount: 3"), ["pool p", "shortfall", "2026-01-05"]),
    (('{from: "08:00", to: "12:00", every: 60}', '["10:00"]'), ["no shift template covers", "08:00"]),
    (("window: [1, 2]", "window: [3.9, 4]"), ["does not fit in the 4-hour shifts", "breaks[0]"]),
    (("target: 0.8}", "target: 1.0}"), ["100 %", "queues[0].service_level.target"]),
])
def test_infeasible_plans_stop_early_with_a_clear_message(tmp_path, edit, expected):
    src = write(tmp_path, TINY.replace(*edit))
    out = tmp_path / "plan"
    r = invoke("plan", src, "--out", out, "--quiet", "--workers", 1)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for text in expected:
        assert text in r.output, (text, r.output)
    assert not out.exists()  # stopped before writing anything


def test_plan_without_planning_section_is_a_clear_error(tmp_path):
    text = TINY[:TINY.index("planning:")]
    r = invoke("plan", write(tmp_path, text), "--quiet")
    assert r.exit_code == 2 and "no planning section" in r.output


def test_planned_yaml_keeps_a_forecast_csv_reachable(tmp_path):
    # the scenario reads its volumes from a CSV beside it; planned.yaml lives elsewhere
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    rows = ["interval_start,volume"] + [f"{h:02d}:00,{40 if 8 <= h < 17 else 0}" for h in range(24)]
    (src_dir / "volumes.csv").write_text("\n".join(rows) + "\n")
    text = TINY.replace("arrivals: {volumes: [0,0,0,0,0,0,0,0, 20,40,40,40,40,40,40,40,20, 0,0,0,0,0,0,0]}",
                        "arrivals: {forecast_csv: volumes.csv}")
    src = write(src_dir, text)
    out = tmp_path / "elsewhere" / "plan"
    result = bposim.plan(bposim.load_scenario(src), out=out, workers=1, rounds=0, iterations=1)
    assert "forecast_csv: ../../src/volumes.csv" in (out / "planned.yaml").read_text()
    again = bposim.load_scenario(out / "planned.yaml")
    assert again.queues[0].arrivals.volumes == result.scenario.queues[0].arrivals.volumes


def test_planned_yaml_of_a_scenario_built_in_code_loads_back(tmp_path):
    # no source file (a variant, or built in Python): written field by field
    sc = bposim.parse_scenario(TINY.replace("target: 0.8}", "target: 0.75}"))
    sc = bposim.with_settings(sc, seed=99)
    out = tmp_path / "code"
    result = bposim.plan(sc, out=out, workers=1, rounds=0, iterations=1)
    back = bposim.load_scenario(out / "planned.yaml")
    assert back.pools == result.scenario.pools and back.queues == result.scenario.queues
    assert back.simulation.seed == 99 and back.queues[0].service_level.target == 0.75


def test_the_same_seed_gives_the_same_plan_whatever_the_workers():
    sc = bposim.parse_scenario(TINY)
    one = bposim.plan(sc, workers=1, rounds=0, iterations=1)
    two = bposim.plan(sc, workers=2, rounds=0, iterations=1)
    assert one.schedule.equals(two.schedule)
    assert one.requirements.equals(two.requirements)
    assert one.attainment.equals(two.attainment)


def test_a_plan_far_too_large_is_refused_before_any_work(tmp_path):
    huge = ",".join(["200000000"] + ["400000000"] * 7 + ["200000000"])  # calls an hour
    src = write(tmp_path, TINY.replace("20,40,40,40,40,40,40,40,20", huge))
    out = tmp_path / "plan"
    r = invoke("plan", src, "--out", out, "--quiet")
    assert r.exit_code == 2 and "--allow-large" in r.output and "Traceback" not in r.output
    assert not out.exists()
