"""bposim serve: every endpoint of the what-if page through Starlette's TestClient.

Figures are checked against independent computations: the Erlang panel against
:mod:`bposim.erlang` on the queue's own numbers, a run against :func:`bposim.compare`
on the same variant built by hand (same seed: common random numbers). Paths out of
the served directory, bad values and bad scenarios are refused with clear errors.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

starlette = pytest.importorskip("starlette", reason="bposim serve needs the extra: pip install 'bposim[serve]'")
from click.testing import CliRunner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import bposim  # noqa: E402
from bposim.cli import main  # noqa: E402
from bposim.overlay import apply_overrides  # noqa: E402
from bposim.report.load import load_results  # noqa: E402
from bposim.scenario.load import load_scenario_data  # noqa: E402
from bposim.serve.app import create_app  # noqa: E402

SMALL = """\
name: Small what-if
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: calls
    arrivals:
      volumes: [0, 0, 0, 0, 0, 0, 0, 0, 30, 30, 30, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    handle_time: {dist: exponential, mean: 300}
    patience: {dist: exponential, mean: 120}
    service_level: {answer_within: 20, target: 0.8}
    escalations:
      - {to: experts, probability: 0.1}
  - id: experts
    handle_time: {dist: exponential, mean: 400}
pools:
  - id: agents
    skills: [calls]
    staffing: {agents: 3}
  - id: sme
    tier: sme
    skills: [experts]
    staffing: {agents: 1}
simulation: {replications: 4, seed: 11}
"""

BROKEN = """\
name: Broken
horizon: {start: 2026-01-05, days: 1}
queues:
  - id: calls
    arrivals: {volumes: [1, 2]}
    handle_time: {dist: exponential, mean: -5}
pools: []
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "small.yaml").write_text(SMALL)
    (root / "broken.yaml").write_text(BROKEN)
    (root / "notes.txt").write_text("not a scenario")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.yaml").write_text(SMALL)
    (root / "link.yaml").symlink_to(outside / "secret.yaml")
    app = create_app(root)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield root, client


def wait(client, job_id, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = client.get(f"/api/runs/{job_id}").json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {job_id} did not finish in {timeout} s")


def figure(state, metric, scope):
    return next(f for f in state["results"]["figures"] if f["metric"] == metric and f["scope"] == scope)


def test_the_page_and_its_assets_are_served_with_a_strict_policy(served):
    _root, client = served
    page = client.get("/")
    assert page.status_code == 200 and "bposim what-if" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/app.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_only_yaml_files_inside_the_directory_are_listed(served):
    _root, client = served
    listing = client.get("/api/scenarios").json()
    assert listing["files"] == ["broken.yaml", "small.yaml"]  # not notes.txt, not the symlink out


@pytest.mark.parametrize("key", ["../outside/secret.yaml", "/etc/passwd", "sub/small.yaml", "link.yaml",
                                 "..", "small.txt", "missing.yaml", "upload:99"])
def test_paths_outside_the_directory_or_unknown_are_refused(served, key):
    _root, client = served
    r = client.get("/api/scenario", params={"key": key})
    assert r.status_code == 400
    assert r.json()["error"]
    assert "Small what-if" not in r.text


def test_an_invalid_scenario_file_shows_every_problem_with_its_line(served):
    _root, client = served
    r = client.get("/api/scenario", params={"key": "broken.yaml"})
    assert r.status_code == 400
    problems = r.json()["problems"]
    mean = [p for p in problems if p["path"] == "queues[0].handle_time.mean"]
    assert mean and mean[0]["line"] == 6 and mean[0]["file"] == "broken.yaml"


def test_controls_describe_the_scenario(served):
    _root, client = served
    info = client.get("/api/scenario", params={"key": "small.yaml"}).json()
    assert [q["id"] for q in info["queues"]] == ["calls", "experts"]
    assert info["queues"][0]["patience"] == 120 and info["queues"][1]["patience"] is None
    assert info["queues"][0]["escalations"] == [{"index": 0, "to": "experts", "mode": "transfer",
                                                 "probability": 0.1}]
    assert [(p["id"], p["form"], p["agents"]) for p in info["pools"]] == [("agents", "agents", 3),
                                                                         ("sme", "agents", 1)]
    assert info["replications"] == 4 and info["seed"] == 11


def test_uploads_are_validated_capped_and_kept(served):
    _root, client = served
    bad = client.post("/api/upload", json={"filename": "mine.yaml", "text": "name: [unclosed\n"})
    assert bad.status_code == 400 and bad.json()["problems"][0]["line"] is not None
    assert bad.json()["problems"][0]["file"] == "mine.yaml"
    big = client.post("/api/upload", json={"filename": "big.yaml", "text": "#" * 400_000})
    assert big.status_code == 413
    forecast = SMALL.replace("volumes: [0, 0, 0, 0, 0, 0, 0, 0, 30, 30, 30, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
                             "forecast_csv: ../outside/forecast.csv")
    out = client.post("/api/upload", json={"filename": "f.yaml", "text": forecast})
    assert out.status_code == 400
    assert out.json()["problems"][0]["path"] == "queues[0].arrivals.forecast_csv"
    assert out.json()["problems"][0]["line"] == 6
    ok = client.post("/api/upload", json={"filename": "../../mine.yaml", "text": SMALL})
    assert ok.status_code == 200 and ok.json()["key"].startswith("upload:")
    assert ok.json()["source"] == "mine.yaml"
    listed = client.get("/api/scenarios").json()["uploads"]
    assert {"key": ok.json()["key"], "name": "mine.yaml"} in listed


def test_requests_must_be_json_from_a_loopback_host(served):
    _root, client = served
    r = client.post("/api/erlang", content='{"scenario": "small.yaml"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert client.post("/api/erlang", content="{nope", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/erlang", json=[1, 2]).status_code == 400
    assert client.get("/api/scenarios", headers={"host": "evil.example"}).status_code == 400


def test_erlang_figures_follow_the_controls_as_erlang_a_says(served):
    _root, client = served
    r = client.post("/api/erlang", json={"scenario": "small.yaml",
                                         "values": {"pools": {"agents": {"agents": 4}}, "aht_pct": 120}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["settings"] == {"queues.calls.handle_time.mean": 360.0, "queues.experts.handle_time.mean": 480.0,
                                "pools.agents.agents": 4}
    # 30 calls an hour of 360 s = 3 Erlangs on 4 agents, exponential patience of 120 s
    expected = bposim.erlang.erlang_a(3.0, 4, 360.0, 120.0, 20.0)
    calls = body["erlang"]["calls"]
    assert calls["service_level"] == pytest.approx(float(expected.service_level), rel=1e-9)
    assert calls["abandon_rate"] == pytest.approx(float(expected.p_abandon), rel=1e-9)
    assert calls["expected_offered"] == pytest.approx(120.0)


@pytest.mark.parametrize("values, word", [
    ({"pools": {"agents": {"agents": -1}}}, "agents of agents"),
    ({"pools": {"agents": {"agents": 2.5}}}, "whole number"),
    ({"pools": {"agents": {"shrinkage": 0.99}}}, "shrinkage"),
    ({"escalations": {"calls.0": 1.5}}, "escalation calls.0"),
    ({"patience": {"calls": "long"}}, "patience of calls"),
    ({"replications": 51}, "replications"),
    ({"replications": 0}, "replications"),
    ({"volume_pct": 1e9}, "volume_pct"),
    ({"seed": -3}, "seed"),
])
def test_control_values_are_bounded(served, values, word):
    _root, client = served
    for url in ("/api/erlang", "/api/runs"):
        r = client.post(url, json={"scenario": "small.yaml", "values": values})
        assert r.status_code == 400 and word in r.json()["error"], r.text


def test_a_variant_the_loader_refuses_is_shown_with_its_problems(served):
    _root, client = served
    two = SMALL.replace("      - {to: experts, probability: 0.1}\n",
                        "      - {to: experts, probability: 0.1}\n      - {to: experts, probability: 0.2, mode: consult}\n")
    key = client.post("/api/upload", json={"filename": "two.yaml", "text": two}).json()["key"]
    r = client.post("/api/erlang", json={"scenario": key, "values": {"escalations": {"calls.0": 0.6,
                                                                                     "calls.1": 0.6}}})
    assert r.status_code == 400
    problem = r.json()["problems"][0]
    assert problem["path"] == "queues[0].escalations" and "add up to 1.2" in problem["message"]


@pytest.fixture(scope="module")
def finished(served):
    root, client = served
    r = client.post("/api/runs", json={"scenario": "small.yaml", "label": "four agents",
                                       "values": {"pools": {"agents": {"agents": 4}}, "replications": 3}})
    assert r.status_code == 202, r.text
    state = wait(client, r.json()["id"])
    assert state["status"] == "done", state["error"]
    return state


def test_a_run_equals_compare_on_the_same_variant_and_seed(served, finished):
    root, _client = served
    base = bposim.load_scenario(root / "small.yaml")
    data, _ = apply_overrides(load_scenario_data(root / "small.yaml")[0], {"pools.agents.agents": 4})
    variant = bposim.parse_scenario(data, "variant", root)
    cmp = bposim.compare({"base": base, "v": variant}, replications=3, seed=11, executor="serial")
    for metric, scope in [("service_level", "queue:calls"), ("asa", "queue:calls"),
                          ("abandon_rate", "queue:calls"), ("occupancy", "pool:agents"),
                          ("sme_utilisation", "all")]:
        shown, row = figure(finished, metric, scope), cmp.row("v", metric, scope)
        base_row = cmp.row("base", metric, scope)
        assert shown["value"][0] == pytest.approx(row["mean"], rel=1e-12, abs=1e-12), metric
        assert shown["base"][0] == pytest.approx(base_row["mean"], rel=1e-12, abs=1e-12), metric
        assert shown["diff"] == pytest.approx([row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"]],
                                              rel=1e-9, abs=1e-12), metric
    # one more agent on the same customers: service level up, in every replication
    assert figure(finished, "service_level", "queue:calls")["diff"][1] > 0
    svg = finished["results"]["charts"][0]["svg"]
    assert svg.startswith("<svg") and "target 80%" in svg and "<script" not in svg


def test_the_same_variant_is_not_run_twice_at_once_and_runs_can_be_cancelled(served):
    _root, client = served
    request = {"scenario": "small.yaml", "values": {"pools": {"agents": {"agents": 5}}, "replications": 50}}
    first = client.post("/api/runs", json=request).json()
    again = client.post("/api/runs", json=request).json()
    assert again["id"] == first["id"]
    queued = client.post("/api/runs", json={**request, "values": {"replications": 2, "aht_pct": 90}}).json()
    assert client.post(f"/api/runs/{queued['id']}/cancel", json={}).json()["status"] == "cancelled"
    end = time.monotonic() + 60
    while client.get(f"/api/runs/{first['id']}").json()["done"] < 1 and time.monotonic() < end:
        time.sleep(0.05)
    client.post(f"/api/runs/{first['id']}/cancel", json={})
    state = wait(client, first["id"])
    assert state["status"] == "cancelled" and state["done"] < state["total"]
    assert wait(client, queued["id"])["status"] == "cancelled"
    assert client.delete(f"/api/runs/{first['id']}").status_code == 204
    assert client.get(f"/api/runs/{first['id']}").status_code == 400
    assert client.get("/api/runs/../../etc").status_code == 404


def test_saving_writes_a_new_scenario_and_results_bposim_report_reads(served, finished):
    root, client = served
    (root / "taken.yaml").write_text("# mine\n")
    r = client.post(f"/api/runs/{finished['id']}/save", json={"name": "taken"})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved == {"scenario": "taken-2.yaml", "results": os.path.join("results", "taken-2")}
    assert (root / "taken.yaml").read_text() == "# mine\n"       # never overwritten
    again = client.post(f"/api/runs/{finished['id']}/save", json={"name": "../../taken"}).json()
    assert again["scenario"] == "taken-3.yaml"
    sc = bposim.load_scenario(root / "taken-2.yaml")
    assert sc.pools[0].staffing.agents == 4 and sc.simulation.replications == 3
    res = bposim.run(sc, executor="serial")
    shown = figure(finished, "service_level", "queue:calls")["value"][0]
    assert res.metric("service_level", "queue:calls")["mean"] == pytest.approx(shown, rel=1e-12)
    manifest = bposim.read_manifest(root / saved["results"])
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 3
    report = load_results(root / saved["results"])      # what bposim report reads
    assert report.replications == [0, 1, 2] and not report.partial
    assert [q.id for q in report.queues] == ["calls", "experts"]
    assert "taken-2.yaml" in client.get("/api/scenarios").json()["files"]


def test_saving_needs_a_finished_run(served):
    _root, client = served
    assert client.post("/api/runs/12345/save", json={"name": "x"}).status_code == 400


def test_cli_serve_explains_the_missing_extra_and_bad_folders(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)
    r = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert r.exit_code == 2 and "pip install 'bposim[serve]'" in r.output
    monkeypatch.undo()
    r = CliRunner().invoke(main, ["serve", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "is not a folder" in r.output


def test_static_assets_name_no_outside_address():
    static = Path(bposim.__file__).parent / "serve" / "static"
    for asset in static.iterdir():
        text = asset.read_text()
        for bad in ("http:", "https:", "//cdn", "@import", "url(", "src=\"//", "href=\"//"):
            assert bad not in text, f"{asset.name} names {bad}"


@pytest.fixture(scope="module")
def examples():
    root = Path(__file__).resolve().parents[1] / "scenarios"
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        yield root, client


def test_every_example_scenario_offers_its_controls(examples):
    root, client = examples
    files = client.get("/api/scenarios").json()["files"]
    assert files == sorted(p.name for p in root.glob("*.yaml"))
    for name in files:
        r = client.get("/api/scenario", params={"key": name})
        assert r.status_code == 200, (name, r.text)


def test_headcount_of_shifts_sites_and_per_interval_pools_scales_each_number(examples):
    root, client = examples
    data = load_scenario_data(root / "sourcing_mix.yaml")[0]
    shifts = {p["id"]: [s["agents"] for s in p["staffing"]["shifts"]] for p in data["pools"]}
    site = {p["id"]: p["site"] for p in data["pools"]}
    values = {"sites": {"manila": 50}, "pools": {"manila_t1": {"headcount_pct": 200},
                                                 "bogota_t1": {"headcount_pct": 150}}}
    r = client.post("/api/erlang", json={"scenario": "sourcing_mix.yaml", "values": values})
    assert r.status_code == 200, r.text
    expected = {}
    for pid, agents in shifts.items():
        factor = {"manila": 0.5}.get(site[pid], 1.0) * {"manila_t1": 2.0, "bogota_t1": 1.5}.get(pid, 1.0)
        if factor != 1:
            expected.update({f"pools.{pid}.staffing.shifts.{k}.agents": int(round(n * factor))
                             for k, n in enumerate(agents)})
    assert r.json()["settings"] == expected
    assert not any(k.startswith("pools.manila_t1") for k in expected)   # 50 % × 200 %

    multi = load_scenario_data(root / "customer_service_multiskill.yaml")[0]
    pool = next(p for p in multi["pools"] if "per_interval" in p["staffing"])
    r = client.post("/api/erlang", json={"scenario": "customer_service_multiskill.yaml",
                                         "values": {"pools": {pool["id"]: {"headcount_pct": 110}}}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {f"pools.{pool['id']}.per_interval":
                                    [int(round(n * 1.1)) for n in pool["staffing"]["per_interval"]]}
    refused = client.post("/api/erlang", json={"scenario": "customer_service_multiskill.yaml",
                                               "values": {"volume_pct": 110}})
    assert refused.status_code == 400 and "forecast CSV" in refused.json()["error"]


def test_two_arrivals_a_day_run_and_empty_figures_stay_valid_json(served):
    root, client = served
    (root / "quiet.yaml").write_text(SMALL.replace("30, 30, 30, 30", "1, 0, 0, 1"))
    r = client.post("/api/runs", json={"scenario": "quiet.yaml", "values": {"replications": 3}})
    state = wait(client, r.json()["id"])
    assert state["status"] == "done", state["error"]
    offered = figure(state, "offered", "queue:calls")
    assert offered["value"] == offered["base"] and offered["diff"][0] == 0
    base = bposim.run(bposim.load_scenario(root / "quiet.yaml"), 3, 11, executor="serial")
    assert offered["value"][0] == base.metric("offered", "queue:calls")["mean"]
    assert figure(state, "offered", "queue:experts")["value"][0] <= 2
    assert client.get("/api/runs").status_code == 200
    nan = client.post("/api/erlang", content='{"scenario": "quiet.yaml", "values": {"aht_pct": NaN}}',
                      headers={"content-type": "application/json"})
    assert nan.status_code == 400


def test_forecast_csv_handle_times_and_a_results_folder_leading_out_are_refused(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "f.csv").write_text("interval_start,volume,aht,patience\n09:00,3,240,60\n09:30,2,260,80\n")
    (root / "f.yaml").write_text(SMALL.replace(
        "volumes: [0, 0, 0, 0, 0, 0, 0, 0, 30, 30, 30, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
        "forecast_csv: f.csv").replace("interval_minutes: 60", "interval_minutes: 30"))
    (tmp_path / "elsewhere").mkdir()
    (root / "results").symlink_to(tmp_path / "elsewhere")
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        info = client.get("/api/scenario", params={"key": "f.yaml"})
        assert info.status_code == 200, info.text
        assert info.json()["queues"][0]["patience"] is None     # the CSV sets it per interval
        r = client.post("/api/erlang", json={"scenario": "f.yaml", "values": {"aht_pct": 110}})
        assert r.status_code == 400 and "forecast CSV" in r.json()["error"]
        run = client.post("/api/runs", json={"scenario": "f.yaml", "values": {"replications": 1}}).json()
        assert wait(client, run["id"])["status"] == "done"
        saved = client.post(f"/api/runs/{run['id']}/save", json={"name": "x"})
        assert saved.status_code == 400 and "results folder" in saved.json()["error"]
    assert not list((tmp_path / "elsewhere").iterdir()) and not (root / "x.yaml").exists()


def test_a_wildcard_host_accepts_any_name_a_loopback_one_only_loopback(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    with TestClient(create_app(tmp_path, host="0.0.0.0"), base_url="http://bposim.lan") as wide:
        assert wide.get("/api/scenarios").status_code == 200
    with TestClient(create_app(tmp_path), base_url="http://bposim.lan") as narrow:
        assert narrow.get("/api/scenarios").status_code == 400


def test_a_pool_staffed_from_a_csv_file_scales_its_counts_and_saves_a_loadable_scenario(tmp_path):
    root = tmp_path / "served"
    (root / "staff").mkdir(parents=True)
    counts = [0] * 8 + [3, 4, 4, 3] + [0] * 12
    (root / "staff" / "plan.csv").write_text(
        "interval_start,agents\n" + "".join(f"{h:02d}:00,{n}\n" for h, n in enumerate(counts)))
    csv_before = (root / "staff" / "plan.csv").read_text()
    (root / "csv.yaml").write_text(SMALL.replace("staffing: {agents: 3}",
                                                 "staffing: {per_interval_csv: staff/plan.csv}"))
    (tmp_path / "outside.csv").write_text((root / "staff" / "plan.csv").read_text())
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        info = client.get("/api/scenario", params={"key": "csv.yaml"}).json()
        pool = info["pools"][0]
        assert (pool["form"], pool["csv"], pool["agents"]) == ("per_interval", "staff/plan.csv", None)
        doubled = [2 * n for n in counts]
        r = client.post("/api/erlang", json={"scenario": "csv.yaml",
                                             "values": {"pools": {"agents": {"headcount_pct": 200}}}})
        assert r.status_code == 200, r.text
        assert r.json()["settings"] == {"pools.agents.per_interval": doubled}
        saved = {}
        for pct in (200, 100):
            run = client.post("/api/runs", json={"scenario": "csv.yaml", "values": {
                "pools": {"agents": {"headcount_pct": pct}}, "replications": 1}}).json()
            assert wait(client, run["id"])["status"] == "done"
            r = client.post(f"/api/runs/{run['id']}/save", json={"name": f"csv-{pct}"})
            assert r.status_code == 201, r.text
            saved[pct] = bposim.load_scenario(root / r.json()["scenario"])
        # doubled: the counts inline, the file left alone; unchanged: still read from the file
        assert saved[200].pools[0].staffing.per_interval == tuple(doubled)
        assert saved[200].pools[0].staffing.per_interval_csv is None
        assert saved[100].pools[0].staffing.per_interval == tuple(counts)
        assert saved[100].pools[0].staffing.per_interval_csv == "staff/plan.csv"
        assert (root / "staff" / "plan.csv").read_text() == csv_before
        out = client.post("/api/upload", json={"filename": "out.yaml", "text": SMALL.replace(
            "staffing: {agents: 3}", "staffing: {per_interval_csv: ../outside.csv}")})
        assert out.status_code == 400
        assert out.json()["problems"][0]["path"] == "pools[0].staffing.per_interval_csv"


def test_runs_beyond_the_work_estimate_are_refused_with_the_estimate(served):
    from bposim.serve.controls import MAX_CONTACT_REPLICATIONS
    from bposim.workload import estimate_workload

    _root, client = served
    # 4 hours of 300 000 calls, 10 % escalated: 1.32 million contacts per replication
    big = SMALL.replace("30, 30, 30, 30", "300000, 300000, 300000, 300000")
    key = client.post("/api/upload", json={"filename": "big.yaml", "text": big}).json()["key"]
    assert estimate_workload(bposim.parse_scenario(big, "big.yaml")).contacts == pytest.approx(1.32e6)
    assert 3 * 1.32e6 <= MAX_CONTACT_REPLICATIONS < 4 * 1.32e6
    runs_before = len(client.get("/api/runs").json())
    r = client.post("/api/runs", json={"scenario": key, "values": {"replications": 4}})
    assert r.status_code == 400
    error = r.json()["error"]
    assert "too large for the what-if page" in error and "about 1.32 million contacts" in error, error
    assert len(client.get("/api/runs").json()) == runs_before
    assert client.post("/api/erlang", json={"scenario": key, "values": {"replications": 3}}).status_code == 200
    # a small variant of a base too large: the base is simulated too, so it is refused, by name
    r = client.post("/api/erlang", json={"scenario": key, "values": {"replications": 4, "volume_pct": 10}})
    assert r.status_code == 400 and r.json()["error"].startswith("big.yaml: "), r.text
    # beyond the limits of every run (bposim.workload.LIMITS: 200 000 agents)
    crowd = SMALL.replace("{agents: 3}", "{agents: 100000}").replace(
        "{agents: 1}", "{per_interval: [" + ", ".join(["150000"] * 24) + "]}")
    key = client.post("/api/upload", json={"filename": "crowd.yaml", "text": crowd}).json()["key"]
    r = client.post("/api/erlang", json={"scenario": key, "values": {"replications": 1}})
    error = r.json()["error"]
    assert r.status_code == 400 and "more than 200 thousand agents" in error and "250 thousand agents" in error
    assert "cannot lift" in error
