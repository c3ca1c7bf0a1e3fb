"""Write the planned scenario as YAML that ``bposim run`` loads back to the same scenario.

When the scenario came from a file, that file's own data is kept (comments aside) and
only what the plan decides is replaced: each planned pool's staffing (the chosen shifts)
and breaks, the queues' service-level targets when the planning section set them, and
the simulation's replications and seed (so a run reproduces the plan's figures). Paths
to CSV files are rewritten relative to the new file. A scenario built in code is written
field by field. Either way the text is loaded back and compared with the planned
scenario before it is returned, so a file that would run differently is never written
(a variant of a file, whose own data differs, is written field by field).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import yaml

from bposim.distributions import DistributionSpec
from bposim.errors import BposimError
from bposim.outputs import scenario_hash
from bposim.scenario.load import load_scenario_data, parse_scenario
from bposim.scenario.schema import Break, Pool, Scenario, Shift


def _shift(s: Shift) -> dict:
    return {"start": s.start.strftime("%H:%M"), "hours": s.hours, "agents": s.agents, "days": list(s.days)}


def _break(b: Break) -> dict:
    return {"name": b.name, "minutes": b.minutes, "window": [b.earliest, b.latest]}


def _plain(value, default=dataclasses.MISSING):
    """Loader-shaped plain data of a schema value."""
    if isinstance(value, DistributionSpec):
        params = {k: (list(v) if isinstance(v, tuple) else v) for k in ("mean", "cv", "values", "low", "high")
                  if (v := getattr(value, k)) is not None}
        return {"dist": value.kind, **params}
    if isinstance(value, Break):
        return _break(value)
    if isinstance(value, Shift):
        return _shift(value)
    if isinstance(value, Pool):
        out = _fields(value)
        out["skills"] = {s.queue: {"priority": s.priority, "overflow_after": s.overflow_after}
                         for s in value.skills}
        return out
    if dataclasses.is_dataclass(value):
        return _fields(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _fields(obj) -> dict:
    out = {}
    for f in dataclasses.fields(obj):
        if f.name in ("source", "planning"):
            continue
        v = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if v is None or (default is not dataclasses.MISSING and v == default):
            continue
        out[f.name] = _plain(v)
    return out


def _relative(value: str, source_dir: Path, dest_dir: Path) -> str:
    p = Path(value)
    if not p.is_absolute():
        p = source_dir / p
    return os.path.relpath(p.resolve(), dest_dir.resolve())


def _from_source(scenario: Scenario, planned: Scenario, pools: tuple[str, ...], dest: Path) -> dict:
    data, _lines = load_scenario_data(scenario.source)
    data = {k: v for k, v in data.items() if k not in ("variants", "planning")}
    src_dir = Path(scenario.source).parent
    by_id = {p.id: p for p in planned.pools}
    for raw in data.get("pools", []):
        pid = raw.get("id")
        if pid not in pools:
            staffing = raw.get("staffing")
            if isinstance(staffing, dict) and isinstance(staffing.get("per_interval_csv"), str):
                staffing["per_interval_csv"] = _relative(staffing["per_interval_csv"], src_dir, dest.parent)
            continue
        pool = by_id[pid]
        for key in ("breaks", "absenteeism"):
            raw.pop(key, None)
        if pool.staffing.shifts:
            raw["staffing"] = {"shifts": [_shift(s) for s in pool.staffing.shifts]}
            if pool.breaks:
                raw["breaks"] = [_break(b) for b in pool.breaks]
        else:
            raw["staffing"] = {"agents": 0}
        if pool.absenteeism:
            raw["absenteeism"] = pool.absenteeism
    queues = {q.id: q for q in planned.queues}
    for raw in data.get("queues", []):
        q = queues.get(raw.get("id"))
        if q is None:
            continue
        sl = dict(raw.get("service_level") or {})
        if "answer_within" in sl or q.service_level.answer_within != 20.0:
            sl["answer_within"] = q.service_level.answer_within
        if "target" in sl or q.service_level.target != 0.8:
            sl["target"] = q.service_level.target
        if sl:
            raw["service_level"] = sl
        arrivals = raw.get("arrivals")
        if isinstance(arrivals, dict) and isinstance(arrivals.get("forecast_csv"), str):
            arrivals["forecast_csv"] = _relative(arrivals["forecast_csv"], src_dir, dest.parent)
    return data


def planned_yaml(scenario: Scenario, planned: Scenario, pools: tuple[str, ...], dest: Path) -> str:
    """YAML text of ``planned`` (``scenario`` with the plan applied), to be saved at ``dest``."""
    wanted = scenario_hash(dataclasses.replace(planned, planning=None))
    header = (f"# Planned by bposim plan: shifts of {', '.join(pools)} chosen for the targets.\n"
              f"# bposim run {dest.name} reproduces the plan's figures (same seed and replications).\n")
    forms = []
    if scenario.source is not None and Path(scenario.source).is_file():
        forms.append(lambda: _from_source(scenario, planned, pools, dest))
    forms.append(lambda: _fields(planned))  # a scenario built in code, or a variant of a file
    for form in forms:
        data = form()
        sim = dict(data.get("simulation") or {})
        sim["replications"] = planned.simulation.replications
        sim["seed"] = planned.simulation.seed
        data["simulation"] = sim
        text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                                       default_flow_style=None)
        try:
            back = parse_scenario(text, source=str(dest), base_dir=dest.parent)
        except BposimError:
            continue
        if scenario_hash(back) == wanted:
            return text
    raise BposimError("the planned scenario could not be written as YAML that loads back to the "
                      "same scenario (a field the writer does not know?); please report this")
