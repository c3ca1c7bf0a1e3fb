"""The page's controls: what a scenario offers, and control values turned into a variant.

Control values never touch a :class:`~bposim.scenario.schema.Scenario` directly:
they become path-addressed settings (:mod:`bposim.overlay`, as ``bposim sweep`` and
``variants`` use) on the scenario's plain data, and the result is validated by the
normal loader, so every limit of the scenario format applies. Each value is also
bounded here, before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bposim.errors import InputError
from bposim.overlay import apply_overrides
from bposim.scenario.schema import Scenario
from bposim.serve.library import Entry, Library
from bposim.workload import Workload, WorkloadError, check_workload, estimate_workload

MAX_REPLICATIONS = 50
PERCENT = (1.0, 1000.0)        # volume, AHT, headcount and site scale, in %
MAX_AGENTS = 100_000
MAX_SEED = 2**63 - 1
MAX_PATIENCE = 86_400.0
# The page runs the base and then the variant in one worker thread while someone waits
# at the page, so it takes less than ``bposim run`` (whose limits, bposim.workload.LIMITS,
# also apply): at most this many contacts × replications per scenario, counted as
# estimate_workload counts them (arrivals, escalations, repeats and dials). At the
# estimate's measured cost per contact (bposim.workload.SECONDS_PER_CONTACT, 60 µs) that
# is about 4 minutes of one core for each of base and variant: minutes, not hours.
MAX_CONTACT_REPLICATIONS = 4_000_000


@dataclass(frozen=True)
class Variant:
    """Validated control values: the scenario data with them applied, and the run size."""

    settings: dict[str, Any]     # overlay path → value (only what differs from the base)
    data: dict                   # the variant's plain scenario data
    scenario: Scenario           # ... validated
    replications: int
    seed: int


def describe(entry: Entry) -> dict:
    """The controls a scenario offers, with the base's values (JSON-ready)."""
    sc, data = entry.scenario, entry.data
    raw_queues = {q.get("id"): q for q in data.get("queues", []) if isinstance(q, Mapping)}
    queues = []
    for q in sc.queues:
        raw = raw_queues.get(q.id, {})
        arrivals = raw.get("arrivals") if isinstance(raw.get("arrivals"), Mapping) else {}
        patience = raw.get("patience") if isinstance(raw.get("patience"), Mapping) else {}
        from_csv = q.arrivals is not None and q.arrivals.patience is not None
        queues.append({
            "id": q.id,
            "external": q.arrivals is not None,
            "scalable": "forecast_csv" not in arrivals,
            "csv_aht": q.arrivals is not None and q.arrivals.aht is not None,
            "handle_time_mean": q.handle_time.mean,
            "patience": patience.get("mean") if "mean" in patience and not from_csv else None,
            "channel": q.channel,
            "service_level": {"target": q.service_level.target,
                              "answer_within": q.service_level.answer_within,
                              # a backlog (email, back office): the share closed within this
                              "due_within_hours": q.due_within_hours if q.deferrable else None},
            "escalations": [{"index": k, "to": e.to, "mode": e.mode, "probability": e.probability}
                            for k, e in enumerate(q.escalations)],
        })
    pools = []
    for p in sc.pools:
        pools.append({"id": p.id, "tier": p.tier, "site": p.site, "form": _form(p.staffing),
                      "csv": p.staffing.per_interval_csv,
                      "agents": p.staffing.agents,
                      "shrinkage": p.shrinkage})
    sites = sorted({p.site for p in sc.pools if p.site})
    return {
        "key": entry.key, "name": sc.name, "source": entry.source,
        "queues": queues, "pools": pools, "sites": sites,
        "replications": min(sc.simulation.replications, MAX_REPLICATIONS),
        "max_replications": MAX_REPLICATIONS, "seed": sc.simulation.seed,
        "currency": sc.currency,
    }


def _form(staffing) -> str:
    """How a pool is staffed: ``agents``, ``per_interval`` (inline or read from a
    ``per_interval_csv`` file: the loader has the counts either way) or ``shifts``."""
    if staffing.agents is not None:
        return "agents"
    return "per_interval" if staffing.per_interval is not None else "shifts"


def _number(values: Mapping, key: str, low: float, high: float, default, *, integer=False,
            where: str = "") -> Any:
    """``values[key]`` as a bounded number (``default`` when absent)."""
    value = values.get(key, default)
    name = where or key
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, not {value!r}")
    if integer and value != int(value):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, not {value!r}")
    return int(value) if integer else float(value)


def _mapping(values: Mapping, key: str) -> Mapping:
    value = values.get(key) or {}
    if not isinstance(value, Mapping):
        raise InputError(f"{key} must be a mapping")
    return value


def settings_from(entry: Entry, values: Mapping) -> dict[str, Any]:
    """Overlay settings (path → value) for the control ``values``; unchanged ones are left out."""
    if not isinstance(values, Mapping):
        raise InputError("control values must be a JSON object")
    info = describe(entry)
    data = entry.data
    raw_queues = [q for q in data.get("queues", []) if isinstance(q, Mapping)]
    staffing = {p.id: p.staffing for p in entry.scenario.pools}
    out: dict[str, Any] = {}
    volume = _number(values, "volume_pct", *PERCENT, 100.0) / 100
    aht = _number(values, "aht_pct", *PERCENT, 100.0) / 100
    escalations, patience = _mapping(values, "escalations"), _mapping(values, "patience")
    for q, raw in zip(info["queues"], raw_queues):
        qid = q["id"]
        arrivals = raw.get("arrivals") if isinstance(raw.get("arrivals"), Mapping) else {}
        if volume != 1 and q["external"]:
            if not q["scalable"]:
                raise InputError(f"queue {qid} reads its volumes from a forecast CSV; volume % "
                                 "cannot scale it (edit the CSV instead)")
            if "volumes" in arrivals:
                out[f"queues.{qid}.arrivals.volumes"] = [round(v * volume, 6) for v in arrivals["volumes"]]
            if "daily_volume" in arrivals:
                out[f"queues.{qid}.arrivals.daily_volume"] = round(arrivals["daily_volume"] * volume, 6)
        if aht != 1:
            if q["csv_aht"]:
                raise InputError(f"queue {qid} takes its handle time per interval from a forecast CSV; "
                                 "handle time % cannot scale it (edit the CSV instead)")
            out.update(_scaled_distribution(raw.get("handle_time"), f"queues.{qid}.handle_time", aht))
        for e in q["escalations"]:
            key = f"{qid}.{e['index']}"
            p = _number(escalations, key, 0.0, 1.0, e["probability"], where=f"escalation {key}")
            if p != e["probability"]:
                out[f"queues.{qid}.escalations.{e['index']}.probability"] = p
        if q["patience"] is not None:
            m = _number(patience, qid, 1.0, MAX_PATIENCE, q["patience"], where=f"patience of {qid}")
            if m != q["patience"]:
                out[f"queues.{qid}.patience.mean"] = m
    pools, sites = _mapping(values, "pools"), _mapping(values, "sites")
    site_scale = {s: _number(sites, s, 0.0, PERCENT[1], 100.0, where=f"site {s} headcount %") / 100
                  for s in info["sites"]}
    for p in info["pools"]:
        pid = p["id"]
        given = pools.get(pid) or {}
        if not isinstance(given, Mapping):
            raise InputError(f"pools.{pid} must be a mapping")
        factor = site_scale.get(p["site"], 1.0)
        if p["form"] == "agents":
            n = _number(given, "agents", 0, MAX_AGENTS, p["agents"], integer=True, where=f"agents of {pid}")
            n = int(round(n * factor))
            if n != p["agents"]:
                out[f"pools.{pid}.agents"] = n
        else:
            pct = _number(given, "headcount_pct", 0.0, PERCENT[1], 100.0, where=f"headcount % of {pid}")
            scale = pct / 100 * factor
            if scale != 1:
                out.update(_scaled_staffing(staffing[pid], pid, p["form"], scale))
        s = _number(given, "shrinkage", 0.0, 0.95, p["shrinkage"], where=f"shrinkage of {pid}")
        if s != p["shrinkage"]:
            out[f"pools.{pid}.shrinkage"] = s
    return out


def _scaled_distribution(raw: object, path: str, factor: float) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for key in ("mean", "low", "high"):
        if isinstance(raw.get(key), (int, float)):
            out[f"{path}.{key}"] = round(raw[key] * factor, 6)
    if isinstance(raw.get("values"), list):
        out[f"{path}.values"] = [round(v * factor, 6) for v in raw["values"]]
    return out


def _scaled_staffing(staffing, pid: str, form: str, scale: float) -> dict[str, Any]:
    """Rostered agents × ``scale`` (rounded to whole agents) for per-interval or shift staffing.

    Per-interval counts are the loaded ones, so a pool reading them from a
    ``per_interval_csv`` file gets the scaled counts inline (``per_interval`` replaces
    the file in the variant; the file itself is never touched)."""
    if form == "per_interval":
        return {f"pools.{pid}.per_interval": [int(round(n * scale)) for n in staffing.per_interval]}
    return {f"pools.{pid}.staffing.shifts.{k}.agents": int(round(s.agents * scale))
            for k, s in enumerate(staffing.shifts)}


def variant(library: Library, entry: Entry, values: Mapping) -> Variant:
    """The validated variant of ``entry`` for control ``values`` (:class:`InputError` or
    :class:`ScenarioError` when a value or the resulting scenario is invalid,
    :class:`~bposim.workload.WorkloadError` when the run would be too large)."""
    settings = settings_from(entry, values)
    replications = _number(values, "replications", 1, MAX_REPLICATIONS,
                           min(entry.scenario.simulation.replications, MAX_REPLICATIONS), integer=True)
    seed = _number(values, "seed", 0, MAX_SEED, entry.scenario.simulation.seed, integer=True)
    data = {k: v for k, v in entry.data.items() if k != "variants"}
    data, _where = apply_overrides(data, {**settings, "simulation.replications": replications,
                                          "simulation.seed": seed})
    scenario = library.validate(data, f"{entry.source} (what-if)")
    check_size(scenario, replications, f"{entry.source} (what-if)")
    if settings:  # a run simulates the base too, with the variant's replications
        check_size(entry.scenario, replications, entry.source)
    return Variant(settings, data, scenario, replications, seed)


def check_size(scenario: Scenario, replications: int, source: str) -> Workload:
    """The work estimate of a page run of ``scenario`` (named ``source`` in messages);
    :class:`WorkloadError` with the estimate for one beyond :data:`MAX_CONTACT_REPLICATIONS`
    or the limits of every run."""
    work = estimate_workload(scenario, replications)
    name = f"{source}: "
    if (work.contacts + work.dials) * replications > MAX_CONTACT_REPLICATIONS:
        raise WorkloadError(f"{name}this run is too large for the what-if page (more than "
                            f"{MAX_CONTACT_REPLICATIONS:,} contacts × replications): {work.summary()}. "
                            "Use fewer replications, or bposim run")
    try:
        return check_workload(scenario, replications)
    except WorkloadError as exc:
        text = str(exc).removeprefix(f"{scenario.source}: ")  # named as the page names it
        raise WorkloadError(f"{name}{text}. The what-if page cannot lift these limits; "
                            "bposim run --allow-large can") from None
