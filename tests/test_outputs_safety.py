"""Outputs never lose a user's work: every writer refuses to replace a file it did not
write (exit 2, one line, bytes unchanged) unless --force; a results directory is locked
while in use; a bad manifest or hand-edited scenario copy gives a one-line error; a
report never outlives the results it came from; outbound-only summaries are honest."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import bposim.outputs
from bposim.abandon_caps import cap_warnings
from bposim.cli import main
from bposim.outputs import LOCK_NAME, REPORT_FIGURES

ROOT = Path(__file__).resolve().parent.parent
FORECAST = str(files("bposim") / "examples" / "forecast.csv")

# Two hours of light traffic, then nothing: a replication takes a fraction of a second.
TINY = textwrap.dedent("""\
    name: tiny
    horizon: {start: 2026-01-05, days: 1, interval_minutes: 30, timezone: UTC}
    queues:
      - id: calls
        arrivals: {volumes: [6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
        handle_time: {dist: exponential, mean: 120}
        service_level: {answer_within: 20, target: 0.8}
    pools:
      - {id: agents, skills: [calls], staffing: {agents: 2}}
    simulation: {replications: 2, seed: 7}
    """)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def refused(r) -> str:
    """The one-line error of a refusal (exit 2, no traceback)."""
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    lines = [line for line in r.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to compare before and after)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def run_tiny(tiny: Path, out: Path, *extra):
    return invoke("run", tiny, "--workers", 1, "--quiet", "--out", out, *extra)


# --- no writer replaces a user's file without --force -------------------------------


def test_compare_refuses_a_folder_with_the_users_comparison_csv(tiny, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "comparison.csv").write_text("x\n")
    before = snapshot(mine)
    msg = refused(invoke("compare", tiny, tiny, "-n", 2, "--workers", 1, "--quiet", "--out", mine))
    assert str(mine) in msg and "--force" in msg
    assert snapshot(mine) == before and not (mine / LOCK_NAME).exists()
    r = invoke("compare", tiny, tiny, "-n", 2, "--workers", 1, "--quiet", "--out", mine, "--force")
    assert r.exit_code == 0, r.output
    assert pd.read_csv(mine / "comparison.csv")["variant"].nunique() == 2
    # a comparison bposim wrote is resumed without --force
    r = invoke("compare", tiny, tiny, "-n", 2, "--workers", 1, "--quiet", "--out", mine)
    assert r.exit_code == 0, r.output


def test_compare_refuses_the_users_variant_folder_contents(tiny, tmp_path):
    mine = tmp_path / "cmp"
    (mine / "tiny").mkdir(parents=True)
    (mine / "tiny" / "notes.txt").write_text("mine")
    (mine / "comparison.json").write_text(json.dumps({"kind": "comparison"}))  # bposim's
    before = snapshot(mine / "tiny")
    msg = refused(invoke("compare", tiny, tiny, "-n", 2, "--workers", 1, "--quiet", "--out", mine))
    assert "not a bposim results directory" in msg
    assert snapshot(mine / "tiny") == before


def test_report_out_never_replaces_the_users_files(tiny, tmp_path):
    res = tmp_path / "res"
    assert run_tiny(tiny, res).exit_code == 0
    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    (mine / "NOTES.md").write_text("my notes\n")
    (mine / "figures" / "staffing.png").write_bytes(b"my picture")
    before = snapshot(mine)
    msg = refused(invoke("report", res, "--out", mine / "NOTES.md"))
    assert "NOTES.md" in msg and "--force" in msg
    assert snapshot(mine) == before
    # a new page whose figures would replace the user's picture is refused as a whole
    msg = refused(invoke("report", res, "--out", mine / "page.html"))
    assert "staffing.png" in msg
    assert snapshot(mine) == before
    r = invoke("report", res, "--out", mine / "NOTES.md", "--force")
    assert r.exit_code == 0, r.output
    assert (mine / "NOTES.md").read_text().startswith("<!DOCTYPE html>")
    assert (mine / "figures" / "staffing.png").read_bytes().startswith(b"\x89PNG")


def test_report_inside_a_results_directory_is_bposims_own(tiny, tmp_path):
    res = tmp_path / "res"
    assert run_tiny(tiny, res).exit_code == 0
    (res / "report.html").write_text("an earlier report")
    assert invoke("report", res).exit_code == 0  # replaced, no --force needed
    assert (res / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_staff_out_never_replaces_an_existing_file(tmp_path):
    out = tmp_path / "plan.csv"
    out.write_text("my plan\n")
    msg = refused(invoke("staff", FORECAST, "--aht", 180, "--out", out))
    assert "plan.csv" in msg and "--force" in msg
    assert out.read_text() == "my plan\n"
    r = invoke("staff", FORECAST, "--aht", 180, "--out", out, "--force")
    assert r.exit_code == 0, r.output
    assert "agents" in pd.read_csv(out).columns


def test_run_and_sweep_refuse_a_foreign_folder_and_force_keeps_other_files(tiny, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    (mine / "points.csv").write_text("not a sweep\n")
    before = snapshot(mine)
    assert "--force" in refused(run_tiny(tiny, mine))
    assert "--force" in refused(invoke("sweep", tiny, "--set", "pools.agents.agents=2,3", "-n", 2,
                                       "--workers", 1, "--quiet", "--out", mine))
    assert snapshot(mine) == before and not (mine / LOCK_NAME).exists()
    r = run_tiny(tiny, mine, "--force")
    assert r.exit_code == 0, r.output
    assert (mine / "notes.txt").read_text() == "mine"  # only bposim's own names are written
    assert json.loads((mine / "manifest.json").read_text())["status"] == "complete"


def test_run_force_starts_afresh_over_another_scenarios_results(tiny, tmp_path):
    res = tmp_path / "res"
    assert run_tiny(tiny, res, "-n", 3).exit_code == 0
    assert "another scenario or seed" in refused(run_tiny(tiny, res, "--seed", 8))
    r = run_tiny(tiny, res, "--seed", 8, "-n", 2, "--force")
    assert r.exit_code == 0, r.output
    manifest = json.loads((res / "manifest.json").read_text())
    assert manifest["seed"] == 8
    assert sorted(p.name for p in (res / "replications").iterdir()) == ["rep-00000", "rep-00001"]


# --- locking ---------------------------------------------------------------------------

HOLD = ("import sys, time\nfrom bposim.outputs import locked\n"
        "with locked(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(float(sys.argv[2]))\n")


def _holder(folder: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_directory_in_use_is_refused_clearly(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(bposim.outputs, "LOCK_WAIT_SECONDS", 0.5)
    res = tmp_path / "same"
    holder = _holder(res, 60)
    try:
        msg = refused(run_tiny(tiny, res))
        assert "in use by another bposim process" in msg and f"pid {holder.pid}" in msg
        assert not (res / "manifest.json").exists()
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the system drops the lock
        holder.wait()
    r = run_tiny(tiny, res)
    assert r.exit_code == 0, r.output


def test_a_second_run_waits_for_a_short_holder(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(bposim.outputs, "LOCK_WAIT_SECONDS", 20)
    res = tmp_path / "same"
    holder = _holder(res, 1.0)
    try:
        started = time.monotonic()
        r = run_tiny(tiny, res)
        assert r.exit_code == 0, r.output
        assert holder.poll() is not None or time.monotonic() - started >= 0.9
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_two_runs_into_one_directory_at_once(tiny, tmp_path):
    """The issue's case: both processes start together; one finishes, the other either
    finds the results complete (it waited) or says the directory is in use. Never a
    traceback, and the directory ends complete and consistent."""
    res = tmp_path / "same"
    cmd = [sys.executable, "-m", "bposim", "run", str(tiny), "-n", "4", "--workers", "1",
           "--quiet", "--out", str(res)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode in (0, 2) and "Traceback" not in err, err
        if p.returncode == 2:
            assert "in use by another bposim process" in err
    assert 0 in [p.returncode for p in procs]
    manifest = json.loads((res / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 4


# --- bad manifests and hand-edited copies --------------------------------------------


def test_a_manifest_that_is_not_an_object_is_a_clear_error(tiny, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text("[]")
    before = snapshot(site)
    assert "manifest" in refused(run_tiny(tiny, site))
    assert "manifest" in refused(invoke("report", site))
    assert snapshot(site) == before


def test_a_hand_edited_scenario_copy_is_a_clear_error(tiny, tmp_path):
    res = tmp_path / "res"
    assert run_tiny(tiny, res).exit_code == 0
    copy = res / "scenario.yaml"
    text = copy.read_text()
    assert "target: 0.8" in text
    copy.write_text(text.replace("target: 0.8", "target: abc"))
    line = next(i for i, t in enumerate(copy.read_text().splitlines(), 1) if "abc" in t)
    msg = refused(invoke("report", res))
    assert f"scenario.yaml:{line}:" in msg and "queues[0].service_level.target" in msg and "abc" in msg


# --- stale outputs --------------------------------------------------------------------


def test_a_report_never_outlives_the_results_it_describes(tiny, tmp_path):
    res = tmp_path / "res"
    assert run_tiny(tiny, res, "-n", 4).exit_code == 0
    (res / "figures").mkdir()
    derived = [res / "report.html", *(res / "figures" / f"{s}.png" for s in REPORT_FIGURES)]
    for path in derived:  # what `bposim report` writes (its content does not matter here)
        path.write_text("of 4 replications")
    (res / "my-notes.txt").write_text("mine")
    assert run_tiny(tiny, res, "-n", 4).exit_code == 0  # the same results: the report stays
    assert all(p.is_file() for p in derived)
    assert run_tiny(tiny, res, "-n", 2).exit_code == 0  # other results: the report goes
    assert not any(p.exists() for p in derived) and not (res / "figures").exists()
    assert (res / "my-notes.txt").read_text() == "mine"
    (res / "figures").mkdir()
    for path in derived[:2]:
        path.write_text("of 2 replications")
    assert run_tiny(tiny, res, "-n", 3).exit_code == 0  # resumed to 3: gone again
    assert not any(p.exists() for p in derived)


def test_report_figure_names_are_the_ones_a_new_run_removes(tiny, tmp_path):
    import bposim.report as report

    res = tmp_path / "res"
    assert run_tiny(tiny, res).exit_code == 0
    draw = getattr(report, "report_figures", report.build_figures)  # every figure a report draws
    assert {slug for slug, *_ in draw(report.load_results(res))} <= set(REPORT_FIGURES)


# --- outbound-only summaries ------------------------------------------------------------


def test_cap_warnings_name_the_measure_over_the_cap():
    summary = pd.DataFrame([
        ("abandon_rate", "campaign:c", 0.02, 0.015, 0.025),
        ("max_daily_abandon_rate", "campaign:c", 0.12, 0.10, 0.14),
        ("max_30day_abandon_rate", "campaign:c", 0.029, 0.02, 0.038),
    ], columns=["metric", "scope", "mean", "ci_low", "ci_high"])
    warnings = cap_warnings(summary, {"c": 0.03})
    assert len(warnings) == 1 and "Ofcom" in warnings[0] and "12.0 %" in warnings[0]
    assert cap_warnings(summary, {"c": 0.2}) == []
    assert len(cap_warnings(summary, {"c": 0.01})) == 3


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    out = tmp_path_factory.mktemp("collections") / "res"
    r = invoke("run", ROOT / "scenarios" / "collections_predictive.yaml", "-n", 1,
               "--quiet", "--out", out, "--report")
    assert r.exit_code == 0, r.output
    return r.output, out


def test_outbound_only_summary_is_honest(collections):
    """AMD at 90 % accuracy hangs up on about a tenth of the people who answer: Ofcom's
    measure (which counts them) must be over a 3 % cap, and the summary must say so."""
    output, _ = collections
    assert "Queues" not in output  # no queues: no empty table
    pools = output[output.index("Pools"):output.index("Outbound campaigns")]
    assert "handled" not in pools  # no pool takes inbound contacts
    assert "cap: the campaign's abandon_target, on abandoned ÷ live answers" in output
    warnings = [line for line in output.splitlines() if line.startswith("Warning:")]
    assert any("Ofcom" in w and "over its 3 % cap" in w for w in warnings), output


def test_outbound_only_report_leaves_out_queue_sections(collections):
    _, out = collections
    html = (out / "report.html").read_text()
    assert "Queues, beside the Erlang baseline" not in html
    assert 'id="fig-service_level"' not in html and not (out / "figures" / "service_level.png").exists()
    assert "Over the cap" in html and "Ofcom" in html
    # figures with nothing to show are left out; the staffing figure shows the pools only
    assert "<h3>Agents on duty</h3>" in html and 'id="fig-net_staffing"' not in html
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["occupancy.png", "staffing.png"]
