"""``bposim run`` and ``bposim validate`` end to end, through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import bposim
from bposim.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_prints_summary_with_erlang_baseline_and_writes_results(tmp_path):
    out = tmp_path / "res"
    r = invoke("run", ROOT / "scenarios/single_queue_erlang_c.yaml", "-n", 3, "--workers", 1,
               "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert "Erlang SL" in r.output and "service level" in r.output
    assert "calls" in r.output and "agents" in r.output
    # Erlang C for 14 agents at 10 Erlangs: SL 80/20 = 88.8 % (published case)
    assert "88.8 %" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 3
    summary = pd.read_csv(out / "summary.csv")
    assert {"metric", "scope", "mean", "ci_low", "ci_high", "n"} <= set(summary.columns)


def test_run_every_example_scenario(tmp_path):
    # examples estimated to take minutes (scenarios/large_centre.yaml: four weeks of 500
    # agents) run in benchmarks/bench_fast.py; the golden test runs their first two days
    from bposim.workload import estimate_workload

    quick = [p for p in EXAMPLES if estimate_workload(bposim.load_scenario(p), 2).seconds < 20]
    assert len(quick) >= len(EXAMPLES) - 1
    for i, path in enumerate(quick):
        r = invoke("run", path, "-n", 2, "--workers", 1, "--out", tmp_path / str(i), "--quiet")
        assert r.exit_code == 0, (path, r.output)
        assert "Pools" in r.output


def test_keep_contacts_writes_contact_table(tmp_path):
    out = tmp_path / "res"
    r = invoke("run", ROOT / "scenarios/single_queue_erlang_c.yaml", "-n", 1, "--out", out,
               "--keep-contacts", "--quiet")
    assert r.exit_code == 0, r.output
    contacts = pd.read_parquet(out / "contacts.parquet")
    assert len(contacts) > 4000 and "wait" in contacts


def test_user_mistakes_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon: {start: 2026-01-05, dayz: 1}\nqueues: []\npools: []\n")
    for args in (("run", tmp_path / "missing.yaml"), ("run", bad), ("validate", bad)):
        r = invoke(*args)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output
    r = invoke("validate", bad)
    assert "bad.yaml:2" in r.output and "did you mean 'days'" in r.output


def test_validate_examples_ok():
    r = invoke("validate", *EXAMPLES)
    assert r.exit_code == 0, r.output
    assert r.output.count("OK") == len(EXAMPLES)


def test_out_dir_of_another_scenario_is_refused(tmp_path):
    out = tmp_path / "res"
    assert invoke("run", EXAMPLES[0], "-n", 1, "--out", out, "--quiet").exit_code == 0
    r = invoke("run", EXAMPLES[1], "-n", 1, "--out", out, "--quiet")
    assert r.exit_code == 2 and "another scenario" in r.output


def test_run_with_report_writes_a_self_contained_page(tmp_path):
    out = tmp_path / "res"
    r = invoke("run", ROOT / "scenarios/tech_support_tiers.yaml", "-n", 2, "--workers", 1,
               "--out", out, "--report", "--quiet")
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html and "http://" not in html and "https://" not in html
    assert "Report:" in r.output


def test_validate_checks_every_variant(tmp_path):
    bad = tmp_path / "variants.yaml"
    bad.write_text(
        "name: x\nhorizon: {start: 2026-01-05}\nqueues:\n"
        "  - {id: q, arrivals: {daily_volume: 100}, handle_time: {dist: exponential, mean: 100}}\n"
        "pools:\n  - {id: p, skills: [q], staffing: {agents: 3}}\n"
        "variants:\n  more: {pools.p.agents: -2}\n  typo: {pools.p.agentz: 4}\n")
    r = invoke("validate", bad)
    assert r.exit_code == 2
    assert "variants.yaml:8: variants.more: pools[0].staffing.agents: must be >= 0" in r.output
    assert "did you mean 'pools.p.agents'" in r.output
