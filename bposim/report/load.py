"""Read a results directory back for reporting: manifest, scenario facts and frames.

A finished directory is read from its combined tables. An interrupted one (manifest
status ``running`` or ``partial``, or combined tables missing) is rebuilt from the
replications already written under ``replications/rep-*``, and marked partial so
that the report can say so. The scenario copy is read as plain YAML for its facts
(names, targets, horizon), because a scenario built in code is stored in a form the
loader may not accept; the per-interval Erlang baseline needs the full scenario and
is left out when it cannot be rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bposim.errors import InputError, Problem, ScenarioError
from bposim.metrics import ReplicationMetrics
from bposim.montecarlo import combine, summarise
from bposim.outputs import read_manifest
from bposim.scenario.load import load_scenario_data
from bposim.scenario.schema import DEFERRABLE_CHANNELS, ServiceLevelTarget

COMBINED = ("summary.csv", "intervals.parquet", "pools.parquet",
            "interval_summary.parquet", "pool_summary.parquet")


@dataclass
class QueueInfo:
    id: str
    answer_within: float
    target: float
    definition: str
    due_hours: float | None = None  # email/back office: items are due this long after arrival
    channel: str = "voice"


@dataclass
class PoolInfo:
    id: str
    tier: str
    site: str = ""
    inbound: bool = True  # False: a pool without skills, working outbound campaigns only

    @property
    def is_sme(self) -> bool:
        return self.tier == "sme"


@dataclass
class ResultsData:
    """Everything a report shows, read from one results directory."""

    path: Path
    manifest: dict
    name: str
    description: str
    horizon: dict
    warmup_minutes: float
    currency: str
    site_kinds: dict[str, str]
    queues: list[QueueInfo]
    pools: list[PoolInfo]
    replications: list[int]
    summary: pd.DataFrame
    intervals: pd.DataFrame
    pools_frame: pd.DataFrame
    interval_summary: pd.DataFrame
    pool_summary: pd.DataFrame
    baseline: pd.DataFrame  # run level, one row per queue (may be empty)
    interval_baseline: pd.DataFrame | None = None  # per interval x queue, when available
    contacts: pd.DataFrame | None = None
    partial: bool = False
    partial_reason: str = ""
    notes: list[str] = field(default_factory=list)
    campaign_caps: dict[str, float] = field(default_factory=dict)  # id -> abandon_target
    measure: str = ""  # simulation.measure in words ("" : every interval)

    @property
    def seed(self):
        return self.manifest.get("seed")

    @property
    def requested(self) -> int:
        return int(self.manifest.get("replications_requested") or len(self.replications))

    def targets(self) -> dict[str, float]:
        return {q.id: q.target for q in self.queues}

    def answer_within(self) -> dict[str, float]:
        """Answer times of the real-time queues (a backlog has a due time instead)."""
        return {q.id: q.answer_within for q in self.queues if q.due_hours is None}


CONTACT_COLUMNS = ["replication", "queue", "arrival", "wait", "outcome"]  # all the report needs


def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow and pandas raise many kinds
        reason = " ".join(str(exc).split())[:200]
        raise InputError(f"{path}: unreadable table ({reason})") from exc


def _summarise(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Mean and CI per interval of every numeric column, whichever key columns the
    replications were written with (older directories lack some)."""
    by = [k for k in keys if k in frame.columns]
    values = [c for c in frame.select_dtypes("number").columns if c not in {"replication", *by}]
    return summarise(frame, by, values)


def _rep_folders(path: Path) -> list[Path]:
    reps = path / "replications"
    if not reps.is_dir():
        return []
    return sorted(p for p in reps.iterdir()
                  if p.is_dir() and p.name.startswith("rep-") and p.name[4:].isdigit()
                  and all((p / f"{n}.parquet").is_file() for n in ("totals", "intervals", "pools")))


def _items(value) -> list:
    return value if isinstance(value, list) else []


class _Facts:
    """Numbers read from the scenario copy, with a clear error naming the file, the
    field path and its line when one is not a number (the copy was edited by hand)."""

    def __init__(self, file: Path, lines: dict[str, int]):
        self.file, self.lines = file, lines

    def number(self, value, default: float, where: str) -> float:
        if value is None:
            return default
        try:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        except (TypeError, ValueError):
            problem = Problem(str(self.file), where, f"must be a number, got {value!r}",
                              self.lines.get(where))
            raise InputError(f"{problem} (the scenario copy of these results was edited; "
                             "restore it or run the scenario again)") from None


def _read_copy(file: Path) -> tuple[dict, dict[str, int]]:
    """The scenario copy as plain data with field lines; empty when it is unreadable."""
    if not file.is_file():
        return {}, {}
    try:
        return load_scenario_data(file)
    except (ScenarioError, OSError, ValueError):
        return {}, {}


def _time_of_day(value, default: str) -> str:
    """"HH:MM" from a copy's time: "09:00" as written by hand, "09:00:00" or seconds as
    stored for a scenario built in code."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 3600:02d}:{value % 3600 // 60:02d}"
    return str(value)[:5]


def _measure_text(sim) -> str:
    """``simulation.measure`` of the scenario copy in words: "09:00–17:00 on mon, tue"."""
    m = sim.get("measure") if isinstance(sim, dict) else None
    if not isinstance(m, dict):
        return ""
    start = _time_of_day(m.get("from", m.get("start")), "00:00")
    end = _time_of_day(m.get("to", m.get("end")), "24:00")
    days = m.get("days")
    on = f" on {', '.join(str(d) for d in days)}" if isinstance(days, list) else " every day"
    return f"{start}–{end}{on}"


def _scenario_facts(path: Path, manifest_name: str, frames_queues, frames_pools) -> dict:
    """Name, horizon, queues and pools from scenario.yaml, falling back on the frames."""
    file = path / "scenario.yaml"
    raw, lines = _read_copy(file)
    facts = _Facts(file, lines)
    default = ServiceLevelTarget()
    queues = []
    for i, q in enumerate(_items(raw.get("queues"))):
        if isinstance(q, dict) and "id" in q:
            sl = q.get("service_level") if isinstance(q.get("service_level"), dict) else {}
            at = f"queues[{i}].service_level"
            queues.append(QueueInfo(
                str(q["id"]),
                facts.number(sl.get("answer_within"), default.answer_within, f"{at}.answer_within"),
                facts.number(sl.get("target"), default.target, f"{at}.target"),
                str(sl.get("definition", default.definition)),
                facts.number(q.get("due_within_hours"), 24.0, f"queues[{i}].due_within_hours")
                if q.get("channel") in DEFERRABLE_CHANNELS else None, str(q.get("channel") or "voice")))
    known = {q.id for q in queues}
    queues += [QueueInfo(str(q), default.answer_within, float("nan"), "?")
               for q in frames_queues if q not in known]
    pools = [PoolInfo(str(p["id"]), str(p.get("tier") or "tier1"), str(p.get("site") or ""),
                      bool(p.get("skills")))
             for p in _items(raw.get("pools")) if isinstance(p, dict) and "id" in p]
    caps = {str(c["id"]): facts.number(c.get("abandon_target"), 0.03, f"campaigns[{i}].abandon_target")
            for i, c in enumerate(_items(raw.get("campaigns"))) if isinstance(c, dict) and "id" in c}
    known = {p.id for p in pools}
    pools += [PoolInfo(str(p), str(t)) for p, t in frames_pools if p not in known]
    sim = raw.get("simulation") or {}
    return {
        "name": str(raw.get("name") or manifest_name),
        "description": " ".join(str(raw.get("description") or "").split()),
        "horizon": raw.get("horizon") if isinstance(raw.get("horizon"), dict) else {},
        "currency": str(raw.get("currency") or "USD"),
        "site_kinds": {str(x["id"]): str(x.get("kind") or "") for x in _items(raw.get("sites"))
                       if isinstance(x, dict) and "id" in x},
        "warmup_minutes": (facts.number(sim.get("warmup_minutes"), 0.0, "simulation.warmup_minutes")
                           if isinstance(sim, dict) else 0.0),
        "measure": _measure_text(sim),
        "queues": queues,
        "pools": pools,
        "campaign_caps": caps,
    }


def _load_scenario(path: Path):
    """The scenario as run, or None when the stored copy cannot be built again."""
    import bposim

    try:
        return bposim.load_scenario(path / "scenario.yaml")
    except Exception:  # any failure only costs the per-interval baseline
        return None


def _baselines(path: Path, scenario) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    from bposim.baseline import queue_baseline, run_baseline
    from bposim.engine.model import compile_scenario

    run_level, per_interval = None, None
    for name in ("baseline.csv", "interval_baseline.csv"):
        frame = _read(path / name) if (path / name).is_file() else None
        if frame is not None and {"interval", "erlang_required_agents"} <= set(frame.columns):
            per_interval = frame
        elif frame is not None and "erlang_required_agents_peak" in frame.columns:
            run_level = frame
    note = ""
    if scenario is not None and (per_interval is None or run_level is None):
        try:
            model = compile_scenario(scenario)
            per_interval = queue_baseline(model) if per_interval is None else per_interval
            run_level = run_baseline(model) if run_level is None else run_level
        except Exception as exc:  # the report goes on without the baseline
            note = f"Erlang baseline not recomputed: {' '.join(str(exc).split())[:200]}"
    if run_level is None and per_interval is not None:
        run_level = (per_interval.groupby("queue", sort=False)["erlang_required_agents"].max()
                     .rename("erlang_required_agents_peak").reset_index())
    if per_interval is None and not note:
        note = ("The per-interval Erlang requirement is not shown: the results directory has no "
                "per-interval baseline and its scenario copy could not be read back (for example, "
                "it names a forecast CSV that was not copied with it).")
    return (run_level if run_level is not None else pd.DataFrame(columns=["queue"])), per_interval, note


def load_results(results_dir: str | Path) -> ResultsData:
    """Read ``results_dir``; raise :class:`InputError` when it is not a results directory,
    was written by a newer bposim, or holds no finished replication yet."""
    path = Path(results_dir)
    manifest = read_manifest(path)
    status = manifest.get("status", "?")
    combined_ok = all((path / f).is_file() for f in COMBINED)
    partial = status != "complete" or not combined_ok
    contacts = None
    scenario = _load_scenario(path)
    if not partial:
        summary = _read(path / "summary.csv")
        intervals = _read(path / "intervals.parquet")
        pools = _read(path / "pools.parquet")
        interval_summary = _read(path / "interval_summary.parquet")
        pool_summary = _read(path / "pool_summary.parquet")
        if (path / "contacts.parquet").is_file():
            contacts = _read(path / "contacts.parquet", CONTACT_COLUMNS)
        replications = sorted(int(r) for r in intervals["replication"].unique())
        reason = ""
    else:
        folders = _rep_folders(path)
        if not folders:
            raise InputError(f"{path}: no finished replication yet (status {status}); nothing to report")
        parts = []
        for folder in folders:
            frames = {n: _read(folder / f"{n}.parquet") for n in ("totals", "intervals", "pools")}
            c = folder / "contacts.parquet"
            kept = _read(c, CONTACT_COLUMNS) if c.is_file() else None
            parts.append(ReplicationMetrics(**frames, contacts=kept))
        res = combine(scenario, int(manifest.get("seed") or 0), parts)
        summary, intervals, pools = res.summary, res.intervals, res.pools
        interval_summary = _summarise(intervals, ("interval", "start", "queue"))
        pool_summary = _summarise(pools, ("interval", "start", "pool", "tier", "site"))
        contacts, replications = res.contacts, res.replications
        requested = manifest.get("replications_requested") or "?"
        why = f"run status '{status}'" if status != "complete" else "combined tables missing"
        reason = (f"{len(replications)} of {requested} replications finished ({why}); "
                  "every figure and table covers the finished replications only.")
    facts = _scenario_facts(path, str(manifest.get("scenario") or path.name),
                            list(dict.fromkeys(intervals["queue"])),
                            list(dict.fromkeys(zip(pools["pool"], pools["tier"]))))
    baseline, interval_baseline, note = _baselines(path, scenario)
    return ResultsData(
        path=path, manifest=manifest, replications=replications, summary=summary,
        intervals=intervals, pools_frame=pools, interval_summary=interval_summary,
        pool_summary=pool_summary, baseline=baseline, interval_baseline=interval_baseline,
        contacts=contacts, partial=partial, partial_reason=reason,
        notes=[note] if note else [], **facts,
    )
