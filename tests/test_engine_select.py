"""Engine choice (``simulation.engine``, ``engine=``, ``--engine``): auto / simpy / fast.

The choice logic is tested with a stand-in for the fast engine (it runs the SimPy engine
and claims not to cover scenarios with a given queue id), so that notes, errors and the
manifest are checked independently of what the real fast engine covers; the tests at
the end run the real fast engine and compare its results with the SimPy engine's.
"""

from __future__ import annotations

import json
import logging
import types
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import single_queue

import bposim
from bposim.cli import main
from bposim.engine import select
from bposim.engine.core import simulate_model
from bposim.errors import InputError, ScenarioError
from bposim.outputs import scenario_hash
from bposim.scenario.schema import with_settings

ROOT = Path(__file__).resolve().parent.parent
SQ = ROOT / "scenarios" / "single_queue_erlang_c.yaml"


def _yaml(tmp_path: Path, engine: str | None = None, queue: str = "calls", days: int = 1) -> Path:
    """The Erlang C example cut to a morning of 8 intervals, with ``engine`` set."""
    text = SQ.read_text().replace("id: calls", f"id: {queue}").replace("skills: [calls]", f"skills: [{queue}]")
    text = text.replace("days: 1", f"days: {days}").replace("replications: 20", "replications: 3")
    if engine is not None:
        text += f"  engine: {engine}\n"
    path = tmp_path / f"sq_{queue}_{engine}.yaml"
    path.write_text(text)
    return path


class Fake:
    """Stands in for bposim.engine.fast: covers every scenario but those with a queue
    named ``outbound_like``; simulates on the SimPy engine; counts its calls."""

    def __init__(self):
        self.compiles = 0
        self.runs = 0

    def unsupported(self, model):
        return ["outbound campaigns (stand-in)"] if any(q.id == "outbound_like" for q in model.queues) else []

    def ensure_compiled(self):
        self.compiles += 1
        return (2.5, False) if self.compiles == 1 else (0.0, True)

    def simulate_fast(self, model, streams):
        self.runs += 1
        return simulate_model(model, streams)


@pytest.fixture
def fake(monkeypatch):
    stand_in = Fake()
    module = types.SimpleNamespace(unsupported=stand_in.unsupported, simulate_fast=stand_in.simulate_fast,
                                   ensure_compiled=stand_in.ensure_compiled)
    monkeypatch.setattr(select, "_fast", lambda: module)
    monkeypatch.setattr(select, "_compiled", None)
    return stand_in


# --- the scenario setting -------------------------------------------------------------


def test_engine_defaults_to_auto_and_accepts_the_three_names(tmp_path):
    assert bposim.load_scenario(_yaml(tmp_path)).simulation.engine == "auto"
    for name in ("auto", "simpy", "fast"):
        assert bposim.load_scenario(_yaml(tmp_path, name)).simulation.engine == name


def test_an_unknown_engine_is_refused_with_its_line(tmp_path):
    path = _yaml(tmp_path, "fastest")
    line = path.read_text().splitlines().index("  engine: fastest") + 1
    with pytest.raises(ScenarioError) as err:
        bposim.load_scenario(path)
    text = str(err.value)
    assert f"{path}:{line}: simulation.engine: must be one of auto, simpy, fast" in text
    assert "'fastest'" in text


def test_the_engine_is_not_part_of_the_scenario_fingerprint(tmp_path):
    sc = bposim.load_scenario(_yaml(tmp_path))
    assert scenario_hash(sc) == scenario_hash(with_settings(sc, engine="simpy"))
    assert scenario_hash(sc) != scenario_hash(with_settings(sc, seed=1))


def test_an_unknown_engine_argument_is_an_input_error():
    with pytest.raises(InputError, match="choose one of auto, simpy, fast"):
        bposim.run(single_queue(60, 180, 5, hours=2), replications=2, engine="turbo")


# --- the choice ----------------------------------------------------------------------


def test_auto_runs_the_fast_engine_where_it_covers_the_scenario(fake):
    sc = single_queue(60, 180, 5, hours=2)
    res = bposim.run(sc, replications=3, seed=1, executor="serial")
    assert res.engine.engine == "fast" and res.engine.requested == "auto"
    assert fake.runs == 3 and fake.compiles == 1
    assert res.timings["engine_compile_seconds"] == 2.5
    assert res.timings["engine_loaded_from_cache"] is False
    simpy = bposim.run(sc, replications=3, seed=1, executor="serial", engine="simpy")
    assert simpy.engine.engine == "simpy" and fake.runs == 3
    assert "engine_compile_seconds" not in simpy.timings


def test_auto_falls_back_to_simpy_with_one_note_naming_the_feature(fake, caplog):
    sc = single_queue(60, 180, 5, hours=2)
    q = sc.queues[0]
    from dataclasses import replace

    from bposim.scenario.schema import Skill

    sc = replace(sc, queues=(replace(q, id="outbound_like"),),
                 pools=(replace(sc.pools[0], skills=(Skill("outbound_like"),)),))
    with caplog.at_level(logging.INFO, logger="bposim.engine"):
        res = bposim.run(sc, replications=4, seed=1, executor="serial")
    assert res.engine.engine == "simpy" and fake.runs == 0 and fake.compiles == 0
    notes = [r.getMessage() for r in caplog.records if r.name == "bposim.engine"]
    assert notes == ["engine: SimPy, not the fast engine (it does not cover outbound campaigns (stand-in))"]
    with pytest.raises(InputError, match=r"engine fast: the fast engine does not cover outbound campaigns"):
        bposim.run(sc, replications=2, engine="fast")


def test_a_choice_made_for_one_scenario_is_made_again_for_a_variant_it_does_not_cover(fake):
    from dataclasses import replace

    from bposim.scenario.schema import Skill

    covered = single_queue(60, 180, 5, hours=2)
    choice = select.choose_engine(covered)
    assert choice.engine == "fast"
    q = covered.queues[0]
    other = replace(covered, queues=(replace(q, id="outbound_like"),),
                    pools=(replace(covered.pools[0], skills=(Skill("outbound_like"),)),))
    model = bposim.compile_scenario(other)
    assert select.choose_engine(other, choice, model=model).engine == "simpy"
    with pytest.raises(InputError):
        select.choose_engine(other, select.choose_engine(covered, "fast"), model=model)
    # each replication checks its own model: a batch given the other scenario's choice
    # still runs this one on SimPy
    res = bposim.run(other, replications=2, seed=1, executor="serial", engine=choice)
    assert fake.runs == 0 and len(res.replications) == 2


def test_a_missing_fast_engine_is_a_note_under_auto_and_an_error_under_fast(monkeypatch):
    def broken():
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(select, "_fast", broken)
    sc = single_queue(60, 180, 5, hours=2)
    choice = select.choose_engine(sc)
    assert choice.engine == "simpy" and "No module named 'numba'" in choice.note
    with pytest.raises(InputError, match="install numba"):
        select.choose_engine(sc, "fast")


# --- the command line ------------------------------------------------------------------


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_prints_the_fallback_note_once_and_records_the_choice(fake, tmp_path):
    path = _yaml(tmp_path, queue="outbound_like")
    out = tmp_path / "res"
    result = _invoke("run", path, "-n", 3, "--executor", "serial", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    note = "engine: SimPy, not the fast engine (it does not cover outbound campaigns (stand-in))"
    assert result.stderr.count(note) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == {"requested": "auto", "used": "simpy", "note": note}
    assert "engine_compile_seconds" not in manifest["timings"]


def test_run_reports_the_compile_time_apart(fake, tmp_path):
    out = tmp_path / "res"
    result = _invoke("run", _yaml(tmp_path), "-n", 2, "--executor", "serial", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("fast engine: compiled in 2.5 s") == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == {"requested": "auto", "used": "fast"}
    assert manifest["timings"]["engine_compile_seconds"] == 2.5
    assert manifest["timings"]["seconds_this_run"] >= 0


def test_engine_fast_on_a_scenario_it_cannot_cover_stops_before_anything_runs(fake, tmp_path):
    path = _yaml(tmp_path, "fast", queue="outbound_like")
    line = path.read_text().splitlines().index("  engine: fast") + 1
    out = tmp_path / "res"
    result = _invoke("run", path, "--out", out, "--quiet")
    assert result.exit_code == 2
    assert (f"{path}:{line}: simulation.engine: the fast engine does not cover outbound campaigns "
            "(stand-in)") in result.output
    assert "Traceback" not in result.output and not out.exists() and fake.runs == 0
    # the option overrides the scenario, both ways
    result = _invoke("run", path, "--engine", "simpy", "-n", 2, "--executor", "serial", "--quiet",
                     "--out", out)
    assert result.exit_code == 0, result.output
    plain = _yaml(tmp_path, queue="outbound_like")
    result = _invoke("run", plain, "--engine", "fast", "--out", tmp_path / "other", "--quiet")
    assert result.exit_code == 2 and "engine fast: the fast engine does not cover" in result.output
    assert not (tmp_path / "other").exists()


def test_compare_and_sweep_check_every_variant_before_any_runs(fake, tmp_path):
    base = _yaml(tmp_path)
    uncovered = _yaml(tmp_path, queue="outbound_like")
    out = tmp_path / "cmp"
    result = _invoke("compare", base, uncovered, "--engine", "fast", "-n", 2, "--quiet", "--out", out)
    assert result.exit_code == 2 and "does not cover outbound campaigns" in result.output
    assert fake.runs == 0 and not (out / "comparison.csv").exists()
    result = _invoke("compare", base, uncovered, "--engine", "fast", "--at-service-level", "calls=0.8",
                     "-n", 2, "--quiet", "--out", out)
    assert result.exit_code == 2 and "does not cover outbound campaigns" in result.output
    assert fake.runs == 0 and not (out / "comparison.csv").exists()
    result = _invoke("compare", base, uncovered, "-n", 2, "--executor", "serial", "--quiet",
                     "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("engine: SimPy, not the fast engine") == 1
    assert fake.runs == 2  # the covered base ran on the (stand-in) fast engine
    result = _invoke("sweep", uncovered, "--set", "pools.agents.agents=13,14", "-n", 2,
                     "--executor", "serial", "--quiet", "--out", tmp_path / "sw")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("engine: SimPy, not the fast engine") == 1


def test_every_simulating_command_has_the_engine_option():
    for name in ("run", "compare", "sweep", "plan"):
        param = next(p for p in main.commands[name].params if p.name == "engine")
        assert list(param.type.choices) == ["auto", "simpy", "fast"]


def test_a_results_directory_resumes_with_the_other_engine(fake, tmp_path):
    path = _yaml(tmp_path)
    out = tmp_path / "res"
    assert _invoke("run", path, "-n", 2, "--engine", "fast", "--executor", "serial", "--quiet",
                   "--out", out).exit_code == 0
    result = _invoke("run", path, "-n", 3, "--engine", "simpy", "--executor", "serial", "--quiet",
                     "--out", out)
    assert result.exit_code == 0, result.output
    assert "resumed: 2 replication(s)" in result.output
    assert json.loads((out / "manifest.json").read_text())["engine"]["used"] == "simpy"


# --- the real fast engine -------------------------------------------------------------


def _covered(tmp_path: Path) -> Path:
    """The sourcing-mix example cut to one day: three sites, tiers, transfers, a consult,
    shifts with breaks, shrinkage and repeats, all covered by the fast engine."""
    text = (ROOT / "scenarios" / "sourcing_mix.yaml").read_text().replace("days: 2", "days: 1")
    path = tmp_path / "sourcing_mix.yaml"
    path.write_text(text)
    assert not select._uncovered(bposim.load_scenario(path), None)
    return path


def test_run_with_either_engine_writes_identical_results(tmp_path):
    path = _covered(tmp_path)
    outs = {}
    for engine in ("fast", "simpy"):
        outs[engine] = tmp_path / engine
        result = _invoke("run", path, "-n", 2, "--seed", 5, "--engine", engine, "--executor", "serial",
                         "--quiet", "--keep-contacts", "--out", outs[engine])
        assert result.exit_code == 0, result.output
        manifest = json.loads((outs[engine] / "manifest.json").read_text())
        assert manifest["engine"]["used"] == engine
    csvs = sorted(p.name for p in outs["fast"].glob("*.csv"))
    assert "summary.csv" in csvs and csvs == sorted(p.name for p in outs["simpy"].glob("*.csv"))
    for name in csvs:
        assert (outs["fast"] / name).read_bytes() == (outs["simpy"] / name).read_bytes(), name
    contacts = [pd.read_parquet(outs[e] / "contacts.parquet") for e in ("fast", "simpy")]
    pd.testing.assert_frame_equal(*contacts)
    assert len(contacts[0]) > 1000


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_same_seed_same_results_whatever_the_workers(engine, tmp_path):
    sc = bposim.load_scenario(_covered(tmp_path))
    one = bposim.run(sc, replications=3, seed=11, executor="serial", engine=engine)
    two = bposim.run(sc, replications=3, seed=11, workers=2, executor="processes", engine=engine)
    assert one.engine.engine == two.engine.engine == engine
    for frame in ("totals", "intervals", "pools"):
        pd.testing.assert_frame_equal(getattr(one, frame), getattr(two, frame))


def test_plan_makes_the_same_plan_on_either_engine(tmp_path):
    from test_planning_cli import TINY

    src = tmp_path / "tiny.yaml"  # one stage-1 iteration and no closed-loop round: quick
    src.write_text(TINY.replace("  replications: 4\n", "  replications: 2\n  iterations: 1\n"))
    for engine in ("fast", "simpy"):
        result = _invoke("plan", src, "--engine", engine, "--workers", 1, "--rounds", 0, "--quiet",
                         "--out", tmp_path / engine)
        assert result.exit_code == 0, result.output
        assert result.stderr.count("fast engine:") <= 1
    for name in ("requirements.csv", "schedule.csv", "attainment.csv", "reference/schedule.csv"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "simpy" / name).read_bytes(), name


def test_a_batch_compiles_its_scenario_once_per_process(monkeypatch):
    import bposim.montecarlo as mc

    calls = []
    compile_ = mc.compile_scenario
    monkeypatch.setattr(mc, "compile_scenario", lambda sc: calls.append(sc) or compile_(sc))
    sc = single_queue(60, 180, 5, hours=2)
    batch = bposim.run(sc, replications=3, seed=4, executor="serial", engine="simpy")
    assert len(calls) == 1
    alone = [bposim.simulate(sc, mc.replication_seeds(4, 3)[r], engine="simpy").totals["value"]
             for r in range(3)]  # each replication compiled afresh gives the same numbers
    values = batch.totals.groupby("replication")["value"]
    for r, expected in enumerate(alone):
        assert values.get_group(r).tolist() == expected.tolist()
