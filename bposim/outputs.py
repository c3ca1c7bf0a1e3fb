"""Results directories: atomic writes, resumable batches, reading back.

Layout::

    manifest.json          format version, bposim version, scenario hash, seed,
                           replications requested and completed, status, timings
    scenario.yaml          a copy of the scenario as run
    replications/rep-00007/{totals,intervals,pools[,contacts]}.parquet
    totals.parquet intervals.parquet pools.parquet [contacts.parquet]
    summary.csv            metric, scope, mean, ci_low, ci_high, n
    interval_summary.parquet pool_summary.parquet baseline.csv

Each replication's folder is written under a temporary name and renamed into place,
so a folder either is complete or does not exist; rerunning the same command on an
interrupted directory runs only the replications that are missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from bposim import __version__
from bposim.errors import InputError
from bposim.metrics import ReplicationMetrics
from bposim.montecarlo import Results
from bposim.scenario.schema import Scenario

FORMAT_VERSION = 1
FRAMES = ("totals", "intervals", "pools", "contacts", "agent_states", "outbound")


def _plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "source"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def scenario_hash(scenario: Scenario) -> str:
    """A stable fingerprint of what the scenario says (not where it was read from)."""
    text = json.dumps(_plain(scenario), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _umask_mode() -> int:
    """The mode a newly created file gets (mkstemp's temporary files are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Have ``write(tmp)`` fill a temporary file beside ``path``, then rename it into
    place: a reader sees the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_frame(frame: pd.DataFrame, path: Path) -> None:
    """A frame as CSV (``.csv``) or Parquet (anything else), written atomically."""
    if Path(path).suffix == ".csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


class ResultsDir:
    """A results directory for one scenario and seed; resumes if it already holds some."""

    def __init__(self, path: str | Path, scenario: Scenario, seed: int, replications: int):
        self.path = Path(path)
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.hash = scenario_hash(scenario)
        self._check_existing()

    def _check_existing(self) -> None:
        manifest = self.path / "manifest.json"
        if not manifest.exists():
            if self.path.exists() and any(self.path.iterdir()):
                raise InputError(f"{self.path} exists and is not a bposim results directory; "
                                 "choose another --out")
            return
        m = read_manifest(self.path)
        if m.get("bposim_version") != __version__:
            raise InputError(f"{self.path} was written by bposim {m.get('bposim_version')}; this is "
                             f"{__version__}, whose replications may differ: choose another --out")
        if m.get("scenario_hash") != self.hash or m.get("seed") != self.seed:
            raise InputError(f"{self.path} holds results of another scenario or seed "
                             f"(hash {m.get('scenario_hash')}, seed {m.get('seed')}); "
                             "choose another --out or remove it")

    def completed(self) -> list[int]:
        """Replication indices already written in full."""
        reps = self.path / "replications"
        if not reps.is_dir():
            return []
        return sorted(int(p.name[4:]) for p in reps.iterdir()
                      if p.is_dir() and p.name.startswith("rep-") and p.name[4:].isdigit())

    def start(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        source = self.scenario.source
        text = (Path(source).read_text() if source and Path(source).is_file()
                else yaml.safe_dump(_plain(self.scenario), sort_keys=False))
        atomic_write_text(self.path / "scenario.yaml", text)
        self._manifest("running", self.completed(), {})

    def write_replication(self, result: ReplicationMetrics) -> None:
        rep = int(result.totals["replication"].iloc[0])
        final = self.path / "replications" / f"rep-{rep:05d}"
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-rep-"))
        try:
            for name in FRAMES:
                frame = getattr(result, name)
                if frame is not None:
                    frame.to_parquet(tmp / f"{name}.parquet", index=False)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def load_replications(self, reps: list[int] | None = None) -> list[ReplicationMetrics]:
        out = []
        for rep in self.completed() if reps is None else reps:
            folder = self.path / "replications" / f"rep-{rep:05d}"
            frames = {name: (pd.read_parquet(folder / f"{name}.parquet")
                             if (folder / f"{name}.parquet").exists() else None) for name in FRAMES}
            out.append(ReplicationMetrics(**frames))
        return out

    def finish(self, results: Results, baseline: pd.DataFrame, timings: dict,
               interval_baseline: pd.DataFrame | None = None) -> None:
        """Write the combined tables and mark the directory complete (or partial)."""
        p = self.path
        atomic_write_frame(results.totals, p / "totals.parquet")
        atomic_write_frame(results.intervals, p / "intervals.parquet")
        atomic_write_frame(results.pools, p / "pools.parquet")
        if results.contacts is not None:
            atomic_write_frame(results.contacts, p / "contacts.parquet")
        if results.outbound is not None:
            atomic_write_frame(results.outbound, p / "outbound.parquet")
            atomic_write_frame(results.outbound_summary, p / "outbound_summary.parquet")
        atomic_write_frame(results.summary, p / "summary.csv")
        atomic_write_frame(results.interval_summary, p / "interval_summary.parquet")
        atomic_write_frame(results.pool_summary, p / "pool_summary.parquet")
        atomic_write_frame(baseline, p / "baseline.csv")
        if interval_baseline is not None:
            atomic_write_frame(interval_baseline, p / "interval_baseline.csv")
        status = "complete" if len(results.replications) >= self.replications else "partial"
        self._manifest(status, results.replications, timings)

    def _manifest(self, status: str, completed: list[int], timings: dict) -> None:
        data = {
            "format_version": FORMAT_VERSION,
            "bposim_version": __version__,
            "scenario": self.scenario.name,
            "scenario_hash": self.hash,
            "seed": self.seed,
            "replications_requested": self.replications,
            "replications_completed": len(completed),
            "status": status,
            "timings": timings,
            "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        atomic_write_text(self.path / "manifest.json", json.dumps(data, indent=2) + "\n")


def read_manifest(path: str | Path) -> dict:
    """The manifest of a results directory, or an InputError saying why not."""
    path = Path(path)
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise InputError(f"{path} is not a bposim results directory (no manifest.json)")
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{manifest}: unreadable manifest ({exc})") from exc
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(f"{path} was written by a newer bposim (format {data['format_version']}); "
                         "upgrade bposim to read it")
    return data
