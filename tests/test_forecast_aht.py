"""Forecast CSV ``aht`` and ``patience`` columns: per-interval means in the engine and baseline.

The engine draws a contact's handle, wrap and patience as usual and scales them to the
forecast's mean for the contact's arrival interval. Checks: simulated means per
interval against the file (t-interval over replications), abandonment against Erlang A
with each interval's patience, the Erlang baseline against erlang.py on each interval's
AHT, and line-numbered errors for bad cells.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches

import bposim
from bposim import erlang
from bposim.errors import ScenarioError
from bposim.montecarlo import t_interval

SCENARIO = """\
name: aht per interval
horizon: {{start: 2026-01-05, days: 1, interval_minutes: 60}}
queues:
  - id: calls
    handle_time: {{dist: lognormal, mean: 150, cv: 0.5}}
    after_work: {{dist: exponential, mean: 50}}
{patience}    service_level: {{answer_within: 20, target: 0.8}}
    arrivals: {{forecast_csv: forecast.csv}}
pools:
  - id: agents
    skills: [calls]
    staffing: {{agents: {agents}}}
simulation: {{replications: 8, seed: 11, keep_contacts: true}}
"""


def _scenario(tmp_path, csv_text: str, *, agents: int = 40, patience: str = ""):
    (tmp_path / "forecast.csv").write_text(csv_text)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(agents=agents, patience=patience))
    return bposim.load_scenario(path)


def test_handle_time_follows_each_intervals_aht(tmp_path):
    # two intervals with different AHTs (half and twice the queue's own 150 + 50 s);
    # the queue's lognormal handle and exponential wrap keep their shapes
    sc = _scenario(tmp_path, "interval_start,volume,aht\n08:00,80,100\n09:00,80,400\n")
    res = bposim.run(sc, replications=8, seed=3, executor="serial")
    c = res.contacts[res.contacts["outcome"] == "answered"].copy()
    c["interval"] = (c["arrival"] // 3600).astype(int)
    for interval, aht in ((8, 100.0), (9, 400.0)):
        mine = c[c["interval"] == interval]
        per_rep = mine.groupby("replication")
        total = per_rep.apply(lambda f: (f["handle_time"] + f["wrap_time"]).mean()).to_numpy()
        assert_matches(total, aht, label=f"AHT at {interval}:00")
        # the split between handle and wrap is the queue's (150:50), scaled
        assert_matches(per_rep["handle_time"].mean().to_numpy(), aht * 0.75, label="handle")
        # the shape is kept: the handle time's CV stays the lognormal's 0.5
        cv = per_rep["handle_time"].std().to_numpy() / per_rep["handle_time"].mean().to_numpy()
        assert_matches(cv, 0.5, rel_bias=0.05, label="handle CV")


def test_an_aht_equal_to_the_queues_mean_changes_nothing(tmp_path):
    plain = _scenario(tmp_path, "interval_start,volume\n08:00,80\n09:00,80\n", agents=12)
    same = _scenario(tmp_path, "interval_start,volume,aht\n08:00,80,200\n09:00,80,200\n", agents=12)
    a = bposim.run(plain, replications=2, seed=5, executor="serial").totals
    b = bposim.run(same, replications=2, seed=5, executor="serial").totals
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_patience_follows_each_intervals_mean(tmp_path):
    # no agents: every contact abandons after exactly its patience, so the mean wait
    # per interval is the mean patience drawn for that interval
    sc = _scenario(tmp_path, "interval_start,volume,patience\n08:00,60,30\n09:00,60,300\n",
                   agents=0, patience="    patience: {dist: exponential, mean: 100}\n")
    res = bposim.run(sc, replications=8, seed=4, executor="serial")
    c = res.contacts.copy()
    assert set(c["outcome"]) <= {"abandoned", "unanswered_at_end"}
    c["interval"] = (c["arrival"] // 3600).astype(int)
    for interval, patience in ((8, 30.0), (9, 300.0)):
        waits = c[c["interval"] == interval].groupby("replication")["wait"].mean().to_numpy()
        assert_matches(waits, patience, label=f"patience at {interval}:00")


def test_abandonment_per_interval_matches_erlang_a(tmp_path):
    # 12 h at mean patience 60 s, then 12 h at 240 s: each half's abandonment is Erlang A's
    rows = [f"{h:02d}:00,200,180,{60 if h < 12 else 240}" for h in range(24)]
    text = "interval_start,volume,aht,patience\n" + "\n".join(rows) + "\n"
    (tmp_path / "forecast.csv").write_text(text)
    yaml = SCENARIO.format(agents=10, patience="    patience: {dist: exponential, mean: 100}\n")
    yaml = yaml.replace("    after_work: {dist: exponential, mean: 50}\n", "")
    yaml = yaml.replace("{dist: lognormal, mean: 150, cv: 0.5}", "{dist: exponential, mean: 100}")
    (tmp_path / "s.yaml").write_text(yaml)
    sc = bposim.load_scenario(tmp_path / "s.yaml")
    res = bposim.run(sc, replications=8, seed=8, executor="serial")
    iv = res.intervals[res.intervals["queue"] == "calls"]
    load = 200 * 180 / 3600
    for hours, patience in ((range(2, 12), 60.0), (range(14, 24), 240.0)):
        part = iv[iv["interval"].isin(list(hours))].groupby("replication")[["abandoned", "offered"]].sum()
        rate = (part["abandoned"] / part["offered"]).to_numpy()
        theory = float(erlang.erlang_a(load, 10, 180, patience, 20).p_abandon)
        # the first hour after the switch carries the previous regime's queue: skipped
        assert_matches(rate, theory, rel_bias=0.03, label=f"P(abandon), patience {patience:g}")


def test_erlang_baseline_uses_each_intervals_aht_and_patience(tmp_path):
    sc = _scenario(tmp_path, "interval_start,volume,aht,patience\n08:00,100,120,60\n09:00,100,360,200\n",
                   patience="    patience: {dist: exponential, mean: 100}\n")
    base = bposim.queue_baseline(bposim.compile_scenario(sc))
    for interval, aht, patience in ((8, 120.0, 60.0), (9, 360.0, 200.0)):
        row = base[base["interval"] == interval].iloc[0]
        load = 100 * aht / 3600
        assert row["load_erlangs"] == pytest.approx(load)
        need = erlang.required_agents_erlang_a(load, aht, patience, 20, 0.8)
        assert row["erlang_required_agents"] == need
        theory = erlang.erlang_a(load, 40, aht, patience, 20)
        assert row["erlang_service_level"] == pytest.approx(float(theory.service_level))


def test_aht_per_interval_in_a_whole_horizon_forecast(tmp_path):
    text = "interval_start,volume,aht\n2026-01-05 08:00,50,100\n2026-01-05 09:00,50,300\n"
    sc = _scenario(tmp_path, text)
    q = bposim.compile_scenario(sc).queues[0]
    assert q.mean_handle[8] == pytest.approx(100.0)
    assert q.mean_handle[9] == pytest.approx(300.0)
    assert q.mean_handle[10] == pytest.approx(200.0)  # no row: the queue's own mean


def test_small_counts_two_contacts_a_day(tmp_path):
    sc = _scenario(tmp_path, "interval_start,volume,aht\n08:00,1,60\n16:00,1,600\n", agents=2)
    res = bposim.run(sc, replications=40, seed=2, executor="serial")
    c = res.contacts[res.contacts["outcome"] == "answered"].copy()
    early = (c["arrival"] // 3600 == 8)
    for mask, aht in ((early, 60.0), (~early, 600.0)):
        times = (c.loc[mask, "handle_time"] + c.loc[mask, "wrap_time"]).to_numpy()
        mean, low, high = t_interval(times, confidence=0.999)
        assert low <= aht <= high, (aht, mean, low, high)


@pytest.mark.parametrize("csv_text, line, words", [
    ("interval_start,volume,aht\n08:00,10,0\n", 2, "aht must be a finite number of seconds > 0"),
    ("interval_start,volume,aht\n08:00,10,-5\n", 2, "aht must be a finite number of seconds > 0"),
    ("interval_start,volume,aht\n08:00,10,120\n09:00,10,inf\n", 3, "finite number"),
    ("interval_start,volume,aht\n08:00,10,nan\n", 2, "finite number"),
    ("interval_start,volume,aht\n08:00,10,120\n09:00,10,\n", 3, "aht is empty"),
    ("interval_start,volume,aht\n08:00,10,120\n09:00,10\n", 3, "has 2 columns"),
    ("interval_start,volume,aht\n08:00,10,fast\n", 2, "aht must be a number of seconds"),
    ("interval_start,volume,patience\n08:00,10,0\n", 2, "patience must be a finite number"),
])
def test_bad_cells_name_the_file_and_row(tmp_path, csv_text, line, words):
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, csv_text, patience="    patience: {dist: exponential, mean: 100}\n")
    text = str(err.value)
    assert f"forecast.csv:{line}:" in text and words in text, text
    assert "queues[0].arrivals.forecast_csv" in text


def test_patience_column_needs_a_patience_distribution(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, "interval_start,volume,patience\n08:00,10,60\n")
    assert "queues[0].patience" in str(err.value) and "patience column" in str(err.value)


TWO_QUEUES = """\
name: one forecast for two queues
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: sales
    handle_time: {dist: exponential, mean: 200}
    arrivals: {forecast_csv: forecast.csv}
  - id: care
    handle_time: {dist: exponential, mean: 200}
    arrivals: {forecast_csv: forecast.csv}
pools:
  - id: agents
    skills: [sales, care]
    staffing: {agents: 10}
"""


def _two_queues(tmp_path, csv_text):
    (tmp_path / "forecast.csv").write_text(csv_text)
    (tmp_path / "s.yaml").write_text(TWO_QUEUES)
    return bposim.load_scenario(tmp_path / "s.yaml")


def test_a_queue_column_splits_one_file_between_queues(tmp_path):
    sc = _two_queues(tmp_path, "queue,interval_start,volume,aht\nsales,08:00,30,100\n"
                               "care,08:00,50,400\ncare,09:00,20,300\n")
    sales, care = bposim.compile_scenario(sc).queues
    assert sales.volumes[8] == 30 and sales.volumes[9] == 0 and sales.mean_handle[8] == pytest.approx(100)
    assert care.volumes[8] == 50 and care.volumes[9] == 20 and care.mean_handle[9] == pytest.approx(300)


def test_a_queue_column_names_known_queues_only(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _two_queues(tmp_path, "queue,interval_start,volume\nsales,08:00,30\nsupport,08:00,5\n")
    text = str(err.value)
    assert "forecast.csv:3:" in text and "unknown queue 'support'; queues are: care, sales" in text
    with pytest.raises(ScenarioError) as err:
        _two_queues(tmp_path, "queue,interval_start,volume\nsales,08:00,30\n")
    assert "forecast.csv has no rows for queue 'care'" in str(err.value), str(err.value)
