"""Golden digests: the per-interval frames of every example scenario, pinned by hash.

Each case is one example scenario file under ``scenarios/`` (or one of its
``variants``), run for one replication with seed :data:`SEED` on a horizon cut to
:data:`BASE_DAYS` days (variants: :data:`VARIANT_DAYS`), so that the whole set runs in
seconds. The frames ``bposim.simulate`` returns — ``intervals`` (interval × queue),
``pools`` (interval × pool), ``outbound`` (interval × campaign) and ``totals`` (one row,
a column per ``metric [scope]``) — are put in a canonical form and hashed:

- rows sorted by their keys (queue / pool / campaign, interval), columns by name;
- integers (and integral floats) written as integers, other floats to
  :data:`DIGITS` significant digits, magnitudes below :data:`TINY` as 0, so that
  floating-point noise of another platform does not change a digest but any change
  of behaviour (one more contact, a wait a millisecond longer) does;
- a SHA-256 per frame, and a short digest per column so that a failure can name the
  first column that changed.

``tests/data/golden.json`` holds the expected digests. When a change of behaviour is
intended, regenerate it with ``BPOSIM_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and say in the commit which behaviour changed and why (see docs/validation.md,
"Golden tests"). A digest only pins; it says nothing about being right: that is the
job of the tests against theory and independent counts.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

import bposim
from bposim.scenario.load import load_scenario_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
GOLDEN_FILE = Path(__file__).resolve().parent / "data" / "golden.json"
UPDATE_ENV = "BPOSIM_UPDATE_GOLDEN"
SEED = 20261201
BASE_DAYS = 2  # a scenario file's own horizon is cut to at most this many days
VARIANT_DAYS = 1  # a variant differs in one setting: one day shows it
DIGITS = 9  # significant digits of floats in the canonical form
TINY = 1e-9  # floats smaller than this in magnitude count as 0
FRAMES = ("intervals", "pools", "outbound", "totals")
KEYS = ("queue", "pool", "campaign", "metric", "interval")  # row keys, in sort order


@dataclass(frozen=True)
class Case:
    """One golden case: a scenario file, or one of its variants (``variant`` set)."""

    file: Path
    variant: str | None = None

    @property
    def name(self) -> str:
        return self.file.stem + (f":{self.variant}" if self.variant else "")

    @property
    def days(self) -> int:
        return VARIANT_DAYS if self.variant else BASE_DAYS


def cases() -> list[Case]:
    """Every example scenario file and each variant it declares, in a stable order."""
    out = []
    for file in sorted(SCENARIOS.glob("*.yaml")):
        out.append(Case(file))
        data, _ = load_scenario_data(file)
        out += [Case(file, str(name)) for name in (data.get("variants") or {})]
    return out


def shorten(scenario, days: int):
    """``scenario`` with its horizon cut to at most ``days`` days."""
    if scenario.horizon.days <= days:
        return scenario
    return replace(scenario, horizon=replace(scenario.horizon, days=days))


def scenario_of(case: Case):
    """The scenario a case runs (horizon already shortened)."""
    if case.variant is None:
        sc = bposim.load_scenario(case.file)
    else:
        sc = bposim.load_variants(case.file)[case.variant]
    return shorten(sc, case.days)


def frames_of(result) -> dict[str, pd.DataFrame]:
    """The frames of one replication that are pinned, by name (``outbound`` only with
    campaigns); ``totals`` becomes one row with a column per ``metric [scope]``."""
    t = result.totals
    totals = pd.DataFrame({f"{m} [{s}]": [v] for m, s, v in zip(t["metric"], t["scope"], t["value"])})
    frames = {"intervals": result.intervals, "pools": result.pools, "totals": totals}
    if result.outbound is not None:
        frames["outbound"] = result.outbound
    return {name: frames[name] for name in FRAMES if name in frames}


def _token(x) -> str:
    if x is None or x is pd.NA or x is pd.NaT:
        return "null"
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if abs(x) < TINY:
            return "0"
        if x == int(x) and abs(x) < 2.0**53:
            return str(int(x))
        return format(x, f".{DIGITS}g")
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(x).isoformat()
    return str(x)


def canonical(frame: pd.DataFrame) -> dict[str, str]:
    """Each column of ``frame`` (rows sorted by their keys) as text, one value a line."""
    keys = [k for k in KEYS if k in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="mergesort")
    return {str(col): "\n".join(map(_token, frame[col].tolist())) for col in frame.columns}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(frames: dict[str, pd.DataFrame]) -> dict:
    """``{frame: {"rows", "sha256", "columns": {column: short digest}}}``; the frame's
    SHA-256 covers every column (sorted by name) with its name and row count."""
    out = {}
    for name, frame in frames.items():
        cols = canonical(frame)
        body = "\0".join(f"{c}\0{cols[c]}" for c in sorted(cols))
        out[name] = {
            "rows": len(frame),
            "sha256": _sha(f"{len(frame)}\0{body}"),
            # in the frame's own order, so that "first" means first in the frame
            "columns": {c: _sha(f"{c}\0{text}")[:16] for c, text in cols.items()},
        }
    return out


def file_sha(path: Path) -> str:
    return _sha(Path(path).read_text(encoding="utf-8"))


def record(case: Case) -> dict:
    """Run ``case`` and return its golden entry."""
    result = bposim.simulate(scenario_of(case), seed=SEED)
    return {"file": case.file.relative_to(ROOT).as_posix(), "file_sha256": file_sha(case.file),
            "days": case.days, "seed": SEED, "frames": digest(frames_of(result))}


def differences(name: str, expected: dict, actual: dict) -> list[str]:
    """What changed between two golden entries of case ``name``, first change first;
    empty when every frame hashes the same."""
    out = []
    for frame in FRAMES:
        old, new = expected["frames"].get(frame), actual["frames"].get(frame)
        if old is None and new is None:
            continue
        if old is None or new is None:
            out.append(f"{name}: frame '{frame}' is {'new' if old is None else 'gone'}")
            continue
        if old["sha256"] == new["sha256"]:
            continue
        if old["rows"] != new["rows"]:
            out.append(f"{name}: frame '{frame}' has {new['rows']} rows, golden {old['rows']}")
        changed = [c for c in new["columns"] if old["columns"].get(c, new["columns"][c]) != new["columns"][c]]
        gone = [c for c in old["columns"] if c not in new["columns"]]
        added = [c for c in new["columns"] if c not in old["columns"]]
        for what, cols in (("changed", changed), ("missing", gone), ("new", added)):
            if cols:
                also = ", ".join(f"'{c}'" for c in cols[1:])
                out.append(f"{name}: frame '{frame}' column '{cols[0]}' {what}"
                           + (f"; also {what}: {also}" if also else ""))
    if out and expected.get("file_sha256") != actual.get("file_sha256"):
        out.append(f"{name}: note: {actual['file']} itself changed since the golden file was written")
    return out


def load_golden() -> dict:
    if not GOLDEN_FILE.exists():
        return {"cases": {}}
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))


def save_golden(golden: dict) -> None:
    from bposim.outputs import atomic_write_text

    golden["about"] = ("Digests of the per-interval frames of every example scenario (see "
                       "tests/golden.py). Regenerate only for an intended behaviour change: "
                       f"{UPDATE_ENV}=1 pytest tests/test_golden.py")
    golden["cases"] = dict(sorted(golden["cases"].items()))
    atomic_write_text(GOLDEN_FILE, json.dumps(golden, indent=1, sort_keys=False) + "\n")


def updating() -> bool:
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")
