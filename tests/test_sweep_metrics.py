"""Sweep and compare answer the question asked: --metric chooses the columns (SMEs
included by default), constant settings are stated once, tables fit the terminal,
escalations are addressed by their target, and sweep --variant starts from a variant."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_compare import tiny_text

from bposim.cli.columns import check_metrics, fit, parse_metric
from bposim.cli.compare_cmds import compare_command, sweep_command
from bposim.errors import InputError
from bposim.overlay import set_path

ESCALATING = tiny_text(
    "variants:\n"
    "  escalating:\n"
    "    queues.calls.escalations: [{to: expert, probability: 0.2}]\n").replace(
    "    patience: {dist: exponential, mean: 120}\n",
    "    patience: {dist: exponential, mean: 120}\n    escalations: [{to: expert, probability: 0.1}]\n", 1)


@pytest.fixture
def desk(tmp_path):
    path = tmp_path / "desk.yaml"
    path.write_text(ESCALATING)
    return path


def run(command, *args, width=200):
    r = CliRunner().invoke(command, [str(a) for a in args], env={"COLUMNS": str(width)})
    return r


def test_parse_metric():
    assert parse_metric("service_level@queue:expert") == ("service_level", "queue:expert")
    assert parse_metric("sl_offered") == ("sl_offered", "all")
    with pytest.raises(InputError, match="NAME@SCOPE"):
        parse_metric("service_level@expert")


def test_unknown_metric_lists_the_valid_names():
    summary = pd.DataFrame({"metric": ["service_level", "utilisation"], "scope": ["queue:q", "pool:p"]})
    with pytest.raises(InputError, match="valid names: service_level, utilisation"):
        check_metrics([("servicelevel", "queue:q")], summary)
    with pytest.raises(InputError, match="its scopes: pool:p"):
        check_metrics([("utilisation", "pool:x")], summary)


def test_escalation_is_addressed_by_its_target():
    data = {"queues": [{"id": "t1", "escalations": [{"to": "t2", "probability": 0.1},
                                                    {"to": "sme", "probability": 0.05}]}]}
    assert set_path(data, "queues.t1.escalations.sme.probability", 0.2) == \
        "queues[0].escalations[1].probability"
    assert data["queues"][0]["escalations"][1]["probability"] == 0.2


def test_sweep_default_columns_include_the_sme_queue_and_pool(desk, tmp_path):
    r = run(sweep_command, desk, "--set", "queues.calls.escalations.expert.probability=0.1,0.3",
            "--set", "pools.desk.agents=5", "-n", 2, "--executor", "serial", "--quiet",
            "--out", tmp_path / "sw")
    assert r.exit_code == 0, r.output
    assert "pools.desk.agents = 5 at every point" in r.output      # constant: stated once
    header = next(line for line in r.output.splitlines() if line.startswith("point"))
    for column in ("queues.calls.escalations.expert.probability", "service_level@queue:calls",
                   "service_level@queue:expert", "utilisation@pool:desk", "utilisation@pool:sme"):
        assert column in header, column
    assert "pools.desk.agents" not in header
    # more escalations, more work for the SMEs: the expert queue is offered more
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    offered = table[(table["metric"] == "offered") & (table["scope"] == "queue:expert")]
    low, high = offered.sort_values("point")["mean"].tolist()
    assert high > low


def test_metric_option_chooses_the_columns_and_bad_names_are_explained(desk, tmp_path):
    out = tmp_path / "sw"
    r = run(sweep_command, desk, "--set", "pools.sme.agents=1,2", "-n", 2, "--executor", "serial",
            "--quiet", "--out", out, "--metric", "utilisation@pool:sme", "--metric", "asa@queue:expert")
    assert r.exit_code == 0, r.output
    header = next(line for line in r.output.splitlines() if line.startswith("point"))
    assert header.split() == ["point", "pools.sme.agents", "utilisation@pool:sme", "asa@queue:expert"]
    r = run(sweep_command, desk, "--set", "pools.sme.agents=1,2", "-n", 2, "--executor", "serial",
            "--quiet", "--out", out, "--metric", "utilization@pool:sme")
    assert r.exit_code == 2 and "valid names:" in r.output and "utilisation" in r.output


def test_sweep_variant_starts_from_the_variant(desk, tmp_path):
    r = run(sweep_command, desk, "--variant", "escalating", "--set", "pools.sme.agents=1,2", "-n", 2,
            "--executor", "serial", "--quiet", "--out", tmp_path / "sw")
    assert r.exit_code == 0, r.output
    assert "queues.calls.escalations = [{'to': 'expert', 'probability': 0.2}] at every point" in r.output
    r = run(sweep_command, desk, "--variant", "nope", "--set", "pools.sme.agents=1", "-n", 2,
            "--quiet", "--out", tmp_path / "sw2")
    assert r.exit_code == 2 and "variants there: escalating" in r.output


def test_compare_shows_pool_utilisation_and_metric_rows(desk, tmp_path):
    r = run(compare_command, desk, "-n", 2, "--executor", "serial", "--quiet", "--out", tmp_path / "c",
            "--metric", "service_level@queue:expert", "--metric", "utilisation@pool:sme")
    assert r.exit_code == 0, r.output
    rows = [line.split()[0] for line in r.output.splitlines()
            if line.startswith(("service_level@", "utilisation@"))]
    assert rows == ["service_level@queue:expert", "utilisation@pool:sme"]
    r = run(compare_command, desk, "-n", 2, "--executor", "serial", "--quiet", "--out", tmp_path / "c")
    assert "sme (SME): utilisation" in r.output and "desk: utilisation" in r.output


def test_wide_tables_wrap_to_the_width():
    headers = ["point"] + [f"metric_number_{k}@queue:some_queue" for k in range(6)]
    rows = [[str(i)] + ["12.3 % ± 4.5"] * 6 for i in range(3)]
    text = fit(headers, rows, width=80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "shown in" in text and all(h in text for h in headers)
    assert fit(headers[:2], [r[:2] for r in rows], width=80).count("point") == 1
