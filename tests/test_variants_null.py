"""``null`` in a variant or sweep point removes a field, so it takes its default: an
optional block (callback, retrial, qa_review) is switched off (review 10, finding 12).

The independent reference is the same scenario with the block deleted from the text:
the null variant must build the same scenario and, run with the same seed, give
identical results. A required field set to null stays an error on the setting's line.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from bposim.cli import main
from bposim.errors import ScenarioError
from bposim.experiments import sweep
from bposim.scenario.load import parse_scenario
from bposim.scenario.variants import load_variants

CALLBACK = "    callback: {offer_when_wait_over: 30, acceptance: 0.5}\n"
RETRIAL = "    retrial: {probability: 0.3, delay: {dist: exponential, mean: 600}}\n"
QA = "    qa_review: {share: 0.2, of: [team], time: {dist: exponential, mean: 300}}\n"
BASE = f"""\
name: Null variants
horizon: {{start: 2026-01-05, days: 1, interval_minutes: 60}}
queues:
  - id: calls
    arrivals: {{daily_volume: 240}}
    handle_time: {{dist: exponential, mean: 300}}
    patience: {{dist: exponential, mean: 60}}
{CALLBACK}{RETRIAL}pools:
  - id: team
    skills: [calls]
    staffing: {{agents: 1}}
  - id: experts
    tier: sme
    skills: [calls]
    staffing: {{agents: 1}}
{QA}"""
VARIANTS = """\
variants:
  no_callback: {queues.calls.callback: null}
  plain: {queues.calls.callback: null, queues.calls.retrial: null, pools.experts.qa_review: null}
"""
NO_CALLBACK = BASE.replace(CALLBACK, "")
PLAIN = NO_CALLBACK.replace(RETRIAL, "").replace(QA, "")


def _named(scenario, name="x"):
    return dataclasses.replace(scenario, name=name)


def test_null_variant_builds_the_scenario_without_the_block(tmp_path):
    file = tmp_path / "f.yaml"
    file.write_text(BASE + VARIANTS)
    scenarios = load_variants(file)
    assert scenarios["f"].queue("calls").callback is not None  # the base keeps its blocks
    assert _named(scenarios["no_callback"]) == _named(parse_scenario(NO_CALLBACK))
    assert _named(scenarios["plain"]) == _named(parse_scenario(PLAIN))


def test_required_field_set_to_null_is_an_error_on_its_line(tmp_path):
    file = tmp_path / "f.yaml"
    file.write_text(BASE + "variants:\n  ok: {queues.calls.retrial: null}\n"
                    "  bad:\n    queues.calls.handle_time: null\n    queues.calls.callback.acceptance: null\n")
    with pytest.raises(ScenarioError) as info:
        load_variants(file)
    lines = (BASE + "variants:\n").count("\n")
    got = {(p.path, p.line, p.message) for p in info.value.problems}
    required = "is required, so it cannot be switched off with null"
    assert got == {("variants.bad: queues[0].handle_time", lines + 3, required),
                   ("variants.bad: queues[0].callback.acceptance", lines + 4, required)}
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 2 and f"f.yaml:{lines + 3}: variants.bad: queues[0].handle_time" in result.output


def _totals(folder) -> pd.DataFrame:
    frame = pd.read_parquet(folder / "totals.parquet")
    return frame.sort_values(["replication", "metric", "scope"]).reset_index(drop=True)


def test_compare_null_variant_runs_like_the_scenario_without_the_block(tmp_path):
    (tmp_path / "f.yaml").write_text(BASE + VARIANTS)
    (tmp_path / "no_callback.yaml").write_text(NO_CALLBACK)
    (tmp_path / "plain.yaml").write_text(PLAIN)
    common = ["-n", "2", "--seed", "5", "--workers", "1", "--engine", "simpy", "--quiet"]
    runs = [["compare", str(tmp_path / "f.yaml"), "--out", str(tmp_path / "variants"), *common],
            ["compare", str(tmp_path / "no_callback.yaml"), str(tmp_path / "plain.yaml"),
             "--out", str(tmp_path / "files"), *common]]
    for args in runs:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    base = _totals(tmp_path / "variants" / "f")
    for name in ("no_callback", "plain"):
        by_variant, by_file = _totals(tmp_path / "variants" / name), _totals(tmp_path / "files" / name)
        pd.testing.assert_frame_equal(by_variant, by_file)
        assert not by_variant.equals(base)  # the blocks matter here, so equality says something
    callbacks = base[base.metric.str.contains("callback")]
    assert callbacks.value.sum() > 0


def test_sweep_point_can_switch_a_block_off():
    settings = dict(replications=2, seed=5, workers=1, engine="simpy")
    table = sweep(yaml.safe_load(BASE), {"queues.calls.callback": [None]}, **settings)
    reference = sweep(yaml.safe_load(NO_CALLBACK), {"queues.calls.patience.mean": [60]}, **settings)
    columns = ["metric", "scope", "mean", "ci_low", "ci_high", "n"]
    pd.testing.assert_frame_equal(table[columns], reference[columns])


def test_sweep_point_setting_a_required_field_to_null_says_so(tmp_path):
    """As for a variant: not "missing", but required and so not switchable off; the
    point is shown with null as written, not Python's None."""
    (tmp_path / "f.yaml").write_text(BASE)
    result = CliRunner().invoke(main, ["sweep", str(tmp_path / "f.yaml"), "--set",
                                       "queues.calls.handle_time=null", "-n", "2", "--quiet",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert ("sweep point 0 (queues.calls.handle_time=null): queues[0].handle_time: "
            "is required, so it cannot be switched off with null") in result.output
    assert not (tmp_path / "out").exists()  # refused before anything runs
