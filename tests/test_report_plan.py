"""`bposim report` on a plan folder: planned staffing against the requirements per pool,
each target's attainment with a met / missed flag beside the Erlang C plan."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_planning_cli import TINY

from bposim.cli import main
from bposim.report.plan_page import is_plan_dir, planned_duty


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("plan")
    src = base / "s.yaml"
    src.write_text(TINY)
    r = CliRunner().invoke(main, ["plan", str(src), "--out", str(base / "plan"), "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    return base / "plan"


def test_plan_report_has_staffing_figure_and_attainment(plan_dir):
    assert is_plan_dir(plan_dir) and not is_plan_dir(plan_dir / "reference")
    r = CliRunner().invoke(main, ["report", str(plan_dir)])
    assert r.exit_code == 0, r.output
    html = (plan_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-plan_p"' in html and (plan_dir / "figures" / "plan_p.png").is_file()
    att = pd.read_csv(plan_dir / "attainment.csv")
    assert html.count("<tr>") >= len(att)  # one row per target
    assert "Erlang C plan" in html and ("met" in html or "missed" in html)


def test_planned_duty_matches_the_schedule_paid_hours(plan_dir):
    # independent count: agents on duty per interval (compiled from planned.yaml), summed over
    # the day's one-hour intervals, are the schedule's paid hours
    duty = planned_duty(plan_dir)
    sched = pd.read_csv(plan_dir / "schedule.csv")
    assert duty["on_duty"].sum() * 1.0 == pytest.approx(sched["paid_hours"].sum())
    assert (duty["available"] <= duty["on_duty"]).all()
