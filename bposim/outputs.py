"""Results directories: atomic writes, resumable batches, reading back.

Layout::

    manifest.json          format version, bposim version, scenario hash, seed,
                           replications requested and completed, status, timings
                           (the fast engine's compile time apart), engine (requested, used)
    scenario.yaml          a copy of the scenario as run
    replications/rep-00007/{totals,intervals,pools[,contacts]}.parquet
    totals.parquet intervals.parquet pools.parquet [contacts.parquet]
    summary.csv            metric, scope, mean, ci_low, ci_high, n
    interval_summary.parquet pool_summary.parquet baseline.csv

Each replication's folder is written under a temporary name and renamed into place,
so a folder either is complete or does not exist; rerunning the same command on an
interrupted directory runs only the replications that are missing.

Ownership: bposim replaces only files it wrote itself. A results directory is recognised
by its manifest; anything else that exists is the user's and is refused (an
:class:`InputError`) unless the caller passes ``force``. A directory in use is locked
(:func:`locked`), and the files derived from its results (``report.html`` and its
figures) are removed as soon as the results they came from change (:func:`remove_derived`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

try:  # advisory locks are POSIX; elsewhere a directory is simply not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

import pandas as pd
import yaml

from bposim import __version__
from bposim.errors import InputError
from bposim.metrics import ReplicationMetrics
from bposim.montecarlo import Results
from bposim.scenario.schema import Scenario

FORMAT_VERSION = 1
FRAMES = ("totals", "intervals", "pools", "contacts", "agent_states", "outbound")
LOCK_NAME = ".bposim.lock"
#: What a report writes into a results directory: derived from the results, so removed
#: whenever they change (every figure name a report draws).
REPORT_NAME = "report.html"
REPORT_FIGURES = ("service_level", "answer_times", "volumes", "staffing", "occupancy",
                  "cost_service", "net_staffing", "sl_heatmap", "occupancy_heatmap")
#: Everything a results directory holds besides ``replications/`` (``--force`` clears these).
RESULT_FILES = ("manifest.json", "scenario.yaml", "totals.parquet", "intervals.parquet",
                "pools.parquet", "contacts.parquet", "outbound.parquet",
                "outbound_summary.parquet", "summary.csv", "interval_summary.parquet",
                "pool_summary.parquet", "baseline.csv", "interval_baseline.csv",
                "interval_summary.csv", "pool_summary.csv")


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
    """A stable fingerprint of what the scenario says (not where it was read from, nor
    which engine runs it: both engines give identical results)."""
    data = _plain(scenario)
    if isinstance(data.get("simulation"), dict):
        data["simulation"].pop("engine", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _umask_mode() -> int:
    """The mode a newly created file gets (mkstemp's temporary files are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def exists_message(path: Path) -> str:
    return f"{path} already exists; use --force to overwrite it"


def refuse_existing(paths: Iterable[Path], force: bool = False) -> None:
    """Raise an :class:`InputError` for the first of ``paths`` that exists (unless
    ``force``): checked before anything is written, so a refusal leaves all untouched."""
    if force:
        return
    for path in paths:
        if os.path.lexists(path):
            raise InputError(exists_message(Path(path)))


def check_output_folder(path: str | os.PathLike, option: str = "--out") -> None:
    """Raise an :class:`InputError` unless ``path`` is a folder or can be made one:
    neither it nor its nearest existing parent may be a file. Checked before any work
    or writing, so that a file in the way is a clear refusal, not a late traceback."""
    path = Path(path)
    for p in (path, *path.parents):
        if os.path.lexists(p):
            if not os.path.isdir(p):
                where = "" if p == path else f"{path}: "
                raise InputError(f"{where}{p} is a file, not a folder; choose another {option}")
            return


def atomic_write(path: Path, write: Callable[[str], None], *, overwrite: bool = True) -> None:
    """Have ``write(tmp)`` fill a temporary file beside ``path``, then rename it into
    place: a reader sees the old file or the whole new one, never half of it. With
    ``overwrite=False`` an existing ``path`` is never replaced (an :class:`InputError`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode())
        if overwrite:
            os.replace(tmp, path)
        else:
            _place_new(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _place_new(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` unless ``path`` exists (a hard link never replaces)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise InputError(exists_message(path)) from None
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(path):
            raise InputError(exists_message(path)) from None
        os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), overwrite=overwrite)


def atomic_write_text(path: Path, text: str, *, overwrite: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def atomic_write_frame(frame: pd.DataFrame, path: Path, *, overwrite: bool = True) -> None:
    """A frame as CSV (``.csv``) or Parquet (anything else), written atomically."""
    if Path(path).suffix == ".csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False), overwrite=overwrite)
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False), overwrite=overwrite)


def has_user_files(path: Path) -> bool:
    """``path`` is a directory holding something other than bposim's lock file."""
    path = Path(path)
    return path.is_dir() and any(p.name != LOCK_NAME for p in path.iterdir())


_held: dict[str, list] = {}  # real path -> [pid, fd, depth] of the locks this process holds


LOCK_WAIT_SECONDS = 5.0  # how long a second process waits for a directory in use


@contextmanager
def locked(path: str | Path, *, wait: float | None = None, required: bool = True) -> Iterator[None]:
    """Hold an advisory lock on directory ``path`` (created if missing) for the block.

    Another bposim process using the same directory waits up to ``wait`` seconds
    (default :data:`LOCK_WAIT_SECONDS`), then
    gets an :class:`InputError` saying the directory is in use. The lock is an
    ``fcntl.flock`` on ``path/.bposim.lock``: the system drops it when the holder exits
    or dies, so a crash never leaves a directory locked. Re-entrant within a process.
    With ``required=False`` a directory where no lock file can be made (read-only) is
    used without one.
    """
    path = Path(path)
    key = os.path.realpath(path)
    held = _held.get(key)
    if held is not None and held[0] == os.getpid():  # this process holds it already
        held[2] += 1
        try:
            yield
        finally:
            held[2] -= 1
        return
    fd = _open_lock(path, required) if fcntl is not None else None
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InputError(f"{path} is in use by another bposim process{_holder(fd)}; "
                                     "try again when it has finished") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = [os.getpid(), fd, 1]
        try:
            yield
        finally:
            del _held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock(path: Path, required: bool) -> int | None:
    """The lock file's descriptor; None when it cannot be made and is not required."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        return os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        if not required:
            return None
        raise InputError(f"cannot use {path}: {exc.strerror or exc}") from None


def _holder(fd: int) -> str:
    """`` (pid N)`` from the lock file, when it says."""
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def remove_derived(path: Path) -> list[Path]:
    """Remove the report and figures a results directory holds (they describe results
    that are about to change); return what was removed. Other files are left alone."""
    path = Path(path)
    gone = []
    for f in [path / REPORT_NAME, *(path / "figures" / f"{s}.png" for s in REPORT_FIGURES)]:
        if f.is_file():
            f.unlink()
            gone.append(f)
    figures = path / "figures"
    if figures.is_dir() and not any(figures.iterdir()):
        figures.rmdir()
    return gone


def is_results_dir(path: Path) -> bool:
    """``path`` holds a readable bposim manifest."""
    try:
        read_manifest(path)
    except InputError:
        return False
    return True


def _unusable(path: Path, exc: OSError) -> str:
    """One line saying why the output folder ``path`` cannot be used."""
    return f"{path}: cannot use this output folder: {exc.strerror or exc}; choose another --out"


class ResultsDir:
    """A results directory for one scenario and seed; resumes if it already holds some."""

    def __init__(self, path: str | Path, scenario: Scenario, seed: int, replications: int,
                 *, force: bool = False):
        self.path = Path(path)
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.hash = scenario_hash(scenario)
        self.force = force
        self.previous: dict | None = None  # the manifest found, if any
        try:
            self._check_existing()
        except OSError as exc:  # e.g. a name too long for the file system
            raise InputError(_unusable(self.path, exc)) from None

    def _check_existing(self) -> None:
        """Refuse a folder that is not ours or holds other results (``force``: write into
        a foreign folder, or start a mismatched results directory afresh)."""
        manifest = self.path / "manifest.json"
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"{self.path} is a file, not a directory; choose another --out")
        if not manifest.exists():
            if has_user_files(self.path) and not self.force:
                raise InputError(f"{self.path} exists and is not a bposim results directory; "
                                 "choose another --out, or use --force to write into it")
            return
        try:
            m = read_manifest(self.path)
        except InputError as exc:
            if self.force:
                return
            raise InputError(f"{exc}; choose another --out, or use --force to start afresh") from None
        problem = None
        if m.get("bposim_version") != __version__:
            problem = (f"{self.path} was written by bposim {m.get('bposim_version')}; this is "
                       f"{__version__}, whose replications may differ")
        elif m.get("scenario_hash") != self.hash or m.get("seed") != self.seed:
            problem = (f"{self.path} holds results of another scenario or seed "
                       f"(hash {m.get('scenario_hash')}, seed {m.get('seed')})")
        if problem is None:
            self.previous = m
        elif not self.force:
            raise InputError(f"{problem}: choose another --out, or use --force to replace them")

    def clear(self) -> None:
        """Remove the results (and derived files) of an earlier run, leaving anything else."""
        shutil.rmtree(self.path / "replications", ignore_errors=True)
        for name in RESULT_FILES:
            (self.path / name).unlink(missing_ok=True)
        remove_derived(self.path)

    def unchanged(self) -> bool:
        """The combined results on disk are those this batch will give (same scenario,
        seed and replications, complete): derived files stay valid."""
        m = self.previous or {}
        return (m.get("status") == "complete" and m.get("replications_requested") == self.replications
                and m.get("replications_completed") == self.replications)

    def completed(self) -> list[int]:
        """Replication indices already written in full."""
        reps = self.path / "replications"
        if not reps.is_dir():
            return []
        return sorted(int(p.name[4:]) for p in reps.iterdir()
                      if p.is_dir() and p.name.startswith("rep-") and p.name[4:].isdigit())

    def start(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. no permission to create it
            raise InputError(_unusable(self.path, exc)) from None
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
        engine = getattr(results, "engine", None)
        self._manifest(status, results.replications, timings,
                       None if engine is None else engine.describe())

    def _manifest(self, status: str, completed: list[int], timings: dict,
                  engine: dict | None = None) -> None:
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
            **({"engine": engine} if engine else {}),
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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{manifest}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("format_version", 0), int):
        raise InputError(f"{manifest}: not a bposim manifest (expected a JSON object "
                         "with a format_version)")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(f"{path} was written by a newer bposim (format {data['format_version']}); "
                         "upgrade bposim to read it")
    return data
