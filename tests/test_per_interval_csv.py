"""``staffing: {per_interval_csv: FILE}``: a pool's headcount per interval from a CSV file,
in the format ``bposim staff --out`` writes, so Erlang staffing feeds a scenario directly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

import bposim
from bposim import erlang
from bposim.cli.analytic import staff_command
from bposim.errors import ScenarioError
from bposim.scenario.schema import Staffing

FORECAST = "queue,interval_start,volume,aht\n" + "".join(
    f"{q},{h:02d}:{m:02d},{v if 8 <= h < 18 else 0},{a}\n"
    for q, v, a in (("sales", 60, 240), ("care", 90, 300))
    for h in range(24) for m in (0, 30)
)

SCENARIO = """\
name: staffed from a file
horizon: {{start: 2026-01-05, days: {days}, interval_minutes: 30}}
queues:
  - id: sales
    handle_time: {{dist: exponential, mean: 240}}
    arrivals: {{forecast_csv: forecast.csv}}
    service_level: {{answer_within: 20, target: 0.8}}
  - id: care
    handle_time: {{dist: exponential, mean: 300}}
    arrivals: {{forecast_csv: care.csv}}
    service_level: {{answer_within: 20, target: 0.8}}
pools:
  - id: sales
    skills: [sales]
    shrinkage: 0.3
    staffing: {{per_interval_csv: {file}}}
  - id: care
    skills: [care]
    shrinkage: 0.3
    staffing: {{per_interval_csv: {file}}}
"""


def _files(tmp_path):
    """One forecast per queue for the scenario, and the two-queue one for staff."""
    rows = FORECAST.splitlines()[1:]
    for q, name in (("sales", "forecast.csv"), ("care", "care.csv")):
        body = "".join(",".join(r.split(",")[1:]) + "\n" for r in rows if r.startswith(q + ","))
        (tmp_path / name).write_text("interval_start,volume,aht\n" + body)
    (tmp_path / "both.csv").write_text(FORECAST)


def _scenario(tmp_path, staffing_csv: str, *, days: int = 1, name: str = "plan.csv"):
    (tmp_path / name).write_text(staffing_csv)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(file=name, days=days))
    return bposim.load_scenario(path)


def test_staff_out_feeds_a_scenario_and_meets_the_target_by_erlang(tmp_path):
    _files(tmp_path)
    res = CliRunner().invoke(staff_command, [str(tmp_path / "both.csv"), "--target", "80/20",
                                   "--shrinkage", "0.3", "--out", str(tmp_path / "plan.csv")])
    assert res.exit_code == 0, res.output
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(file="plan.csv", days=2))
    sc = bposim.load_scenario(path)
    model = bposim.compile_scenario(sc)
    base = bposim.queue_baseline(model)
    for pool, (volume, aht) in zip(model.pools, ((60, 240), (90, 300))):
        # independent count: Erlang C's requirement for the open hours, grossed up for shrinkage
        need = erlang.required_agents(volume * aht / 1800, aht, 20, 0.8)
        heads = pool.headcount.reshape(2, 48)  # one day of the file, repeated
        assert (heads[:, 16:36] == np.ceil(need / 0.7 - 1e-9)).all()
        assert (heads[:, :16] == 0).all() and (heads[:, 36:] == 0).all()
        # after shrinkage the pool still has what Erlang needs: 80/20 in every open interval
        mine = base[(base["queue"] == pool.id) & (base["expected_offered"] > 0)]
        assert (mine["erlang_service_level"] >= 0.8).all()


def test_a_file_equals_the_same_counts_given_inline(tmp_path):
    counts = [0] * 16 + [3, 4, 5, 6] * 5 + [0] * 12
    text = "pool,interval_start,agents\n" + "".join(
        f"{p},{i // 2:02d}:{30 * (i % 2):02d},{c}\n" for p in ("sales", "care") for i, c in enumerate(counts))
    _files(tmp_path)
    from_file = _scenario(tmp_path, text)
    pools = tuple(replace(p, staffing=Staffing(per_interval=tuple(counts))) for p in from_file.pools)
    inline = replace(from_file, pools=pools)
    assert from_file.pools[0].staffing.per_interval == tuple(counts)
    assert from_file.pools[0].staffing.per_interval_csv == "plan.csv"
    a = bposim.run(from_file, replications=2, seed=3, executor="serial").totals
    b = bposim.run(inline, replications=2, seed=3, executor="serial").totals
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_whole_horizon_file_with_site_column(tmp_path):
    _files(tmp_path)
    rows = []
    for p in ("sales", "care"):
        for day in (5, 6):
            for i in range(48):
                rows.append(f"2026-01-{day:02d} {i // 2:02d}:{30 * (i % 2):02d}:00,{p},,{day - 4}")
    sc = _scenario(tmp_path, "interval_start,pool,site,agents\n" + "\n".join(rows) + "\n", days=2)
    assert sc.pools[1].staffing.per_interval == (1,) * 48 + (2,) * 48


def _error(tmp_path, text, days=1):
    _files(tmp_path)
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, text, days=days)
    return str(err.value)


def _day(pool_rows: dict[str, str] | None = None, column_pool: bool = True) -> list[str]:
    rows = []
    for p in ("sales", "care"):
        for i in range(48):
            t = f"{i // 2:02d}:{30 * (i % 2):02d}"
            rows.append(f"{p},{t},{(pool_rows or {}).get((p, t), 2)}" if column_pool else f"{t},2")
    return rows


@pytest.mark.parametrize("change, line, words", [
    ({("sales", "09:00"): "-1"}, 20, "agents must be a whole number >= 0, got -1"),
    ({("care", "10:30"): "2.5"}, 71, "agents must be a whole number >= 0, got 2.5"),
    ({("care", "10:30"): "many"}, 71, "agents must be a whole number, got 'many'"),
    ({("sales", "00:00"): "nan"}, 2, "agents must be a whole number >= 0"),
])
def test_bad_agents_name_the_file_and_row(tmp_path, change, line, words):
    text = _error(tmp_path, "pool,interval_start,agents\n" + "\n".join(_day(change)) + "\n")
    assert f"plan.csv:{line}:" in text and words in text, text
    assert "pools[0].staffing.per_interval_csv" in text or "pools[1].staffing.per_interval_csv" in text


def test_unknown_pool(tmp_path):
    rows = _day() + ["saels,09:00,3"]
    text = _error(tmp_path, "pool,interval_start,agents\n" + "\n".join(rows) + "\n")
    assert "plan.csv:98:" in text and "unknown pool 'saels'; did you mean 'sales'?" in text, text


def test_wrong_interval_grid(tmp_path):
    rows = [f"{p},{i // 4:02d}:{15 * (i % 4):02d},2" for p in ("sales", "care") for i in range(96)]
    text = _error(tmp_path, "pool,interval_start,agents\n" + "\n".join(rows) + "\n")
    assert "plan.csv:3:" in text and "'00:15' is not the start of a 30-minute interval" in text, text


def test_missing_intervals(tmp_path):
    rows = [r for r in _day() if not r.startswith(("sales,03:", "sales,04:00"))]
    text = _error(tmp_path, "pool,interval_start,agents\n" + "\n".join(rows) + "\n")
    assert "no row for pool 'sales' at 03:00, 03:30, 04:00; it needs every interval" in text, text
    assert "pools[0].staffing.per_interval_csv" in text


def test_no_rows_for_a_pool_and_duplicates(tmp_path):
    rows = [r for r in _day() if r.startswith("sales")] + ["sales,09:00,3"]
    text = _error(tmp_path, "pool,interval_start,agents\n" + "\n".join(rows) + "\n")
    assert "plan.csv has no rows for pool 'care'" in text, text
    assert "plan.csv:50:" in text and "interval 09:00 appears twice for pool 'sales' (first on row 20)" in text


def test_site_must_be_the_pools(tmp_path):
    rows = ["interval_start,pool,site,agents"] + [
        f"{i // 2:02d}:{30 * (i % 2):02d},{p},manila,1" for p in ("sales", "care") for i in range(48)]
    text = _error(tmp_path, "\n".join(rows) + "\n")
    assert "plan.csv:2:" in text and "site 'manila' does not match: pool 'sales' has no site" in text


def test_missing_column_and_two_forms(tmp_path):
    text = _error(tmp_path, "interval_start,headcount\n09:00,3\n")
    assert "plan.csv:1:" in text and "missing agents" in text, text
    text = _error(tmp_path, "pool,interval_start,agents\nsales,09:00,1\nsales,2026-01-05 09:30,1\n")
    assert "plan.csv:3:" in text and "mixes times of day and date-times" in text
    text = _error(tmp_path, "interval_start,agents\n09:00,1\n")
    assert "give exactly one of" not in text  # one form given: the file


def test_a_variant_replaces_the_file_with_a_headcount(tmp_path):
    _files(tmp_path)
    (tmp_path / "plan.csv").write_text("interval_start,agents\n" + "".join(
        f"{i // 2:02d}:{30 * (i % 2):02d},2\n" for i in range(48)))
    text = SCENARIO.format(file="plan.csv", days=1) + "variants:\n  more: {pools.sales.agents: 9}\n"
    (tmp_path / "s.yaml").write_text(text)
    variants = bposim.load_variants(tmp_path / "s.yaml")
    assert variants["more"].pools[0].staffing.agents == 9
    assert variants["s"].pools[0].staffing.per_interval == (2,) * 48


def test_times_with_zero_seconds_are_read(tmp_path):
    _files(tmp_path)
    rows = "".join(f"{i // 2:02d}:{30 * (i % 2):02d}:00,{i % 3}\n" for i in range(48))
    sc = _scenario(tmp_path, "interval_start,agents\n" + rows)
    assert sc.pools[0].staffing.per_interval == tuple(i % 3 for i in range(48))
    text = _error(tmp_path, "interval_start,agents\n" + rows.replace("09:00:00", "09:00:30"))
    assert "plan.csv:20:" in text and "interval_start must be 'HH:MM'" in text, text
