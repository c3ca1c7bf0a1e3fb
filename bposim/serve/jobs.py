"""Background runs of what-if variants: one worker thread, a short list, cancellable.

A run simulates the base (unless the same base, replications and seed ran already)
and the variant with the same seed — common random numbers — through the API the
CLI uses (:func:`bposim.run`, :func:`bposim.run_to_directory`), then compares them
with :func:`bposim.experiments.comparison_table` (paired differences with CIs). The
variant's results directory is kept in a private working folder until it is saved
or dropped. Runs queue behind one another: the machine's cores go to one run at a
time, and the same variant is never run twice at once.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bposim.errors import BposimError, InputError
from bposim.serve.controls import Variant
from bposim.serve.library import Entry

MAX_VARIANTS = 6     # kept side by side; the oldest finished one makes room
MAX_BASES = 4        # base results cached


class Cancelled(Exception):
    """Raised from the progress callback to stop a run between replications."""


@dataclass
class Job:
    id: int
    entry: Entry
    variant: Variant
    label: str
    values: dict
    status: str = "queued"            # queued, running, done, cancelled, failed
    done: int = 0
    total: int = 0
    error: str | None = None
    view: dict | None = None          # figures, charts (when done)
    folder: Path | None = None        # the variant's results directory
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.time)

    @property
    def signature(self) -> tuple:
        v = self.variant
        return (self.entry.key, tuple(sorted((k, repr(x)) for k, x in v.settings.items())),
                v.replications, v.seed)

    def state(self) -> dict[str, Any]:
        """What the page polls: progress, status and (when done) the results."""
        return {"id": self.id, "label": self.label, "scenario": self.entry.key,
                "status": self.status, "done": self.done, "total": self.total,
                "error": self.error, "values": self.values, "settings": self.variant.settings,
                "replications": self.variant.replications, "seed": self.variant.seed,
                "results": self.view}


class Jobs:
    """The variants of this server, run one at a time by a worker thread."""

    def __init__(self, *, workers: int = 1, executor: str = "serial"):
        self.workers, self.executor = workers, executor
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._bases: OrderedDict[tuple, Any] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bposim-serve")
        self._work: Path | None = None   # made at the first run, removed by close()

    def submit(self, entry: Entry, variant: Variant, label: str, values: dict) -> Job:
        """Queue a run of ``variant``; the same variant already queued or running is
        returned instead of a second run."""
        with self._lock:
            job = Job(0, entry, variant, label, values)
            for other in self._jobs.values():
                if other.signature == job.signature and other.status in ("queued", "running"):
                    return other
            if len(self._jobs) >= MAX_VARIANTS:
                old = next((j for j in self._jobs.values()
                            if j.status not in ("queued", "running")), None)
                if old is None:
                    raise InputError(f"{MAX_VARIANTS} runs are queued or running; cancel one first")
                self._drop(old)
            job.id = next(self._ids)
            job.label = label or f"what-if {job.id}"
            self._jobs[job.id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: int) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise InputError(f"no variant {job_id}")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: int) -> Job:
        job = self.get(job_id)
        with self._lock:   # a queued run is cancelled now, a running one after its replication
            job.cancel.set()
            if job.status == "queued":
                job.status = "cancelled"
        return job

    def remove(self, job_id: int) -> None:
        job = self.get(job_id)
        job.cancel.set()
        with self._lock:
            self._drop(job)

    def _drop(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        if job.status not in ("queued", "running") and job.folder is not None:
            shutil.rmtree(job.folder.parent, ignore_errors=True)

    def close(self) -> None:
        for job in self.all():
            job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)

    # --- the worker ------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        with self._lock:
            if job.cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
        try:
            self._simulate(job)
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except BposimError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # a bug: shown on the page, and the server goes on
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if job.id not in self._jobs and job.folder is not None:
                shutil.rmtree(job.folder.parent, ignore_errors=True)

    def _simulate(self, job: Job) -> None:
        from bposim.batch import run_to_directory
        from bposim.experiments import comparison_table
        from bposim.montecarlo import run
        from bposim.outputs import scenario_hash
        from bposim.serve import views

        v, base_sc = job.variant, job.entry.scenario
        key = (job.entry.key, scenario_hash(base_sc), v.replications, v.seed)
        base = self._bases.get(key)
        job.total = v.replications * (1 if base is not None else 2)
        offset = [0]

        def progress(done: int, _total: int) -> None:
            job.done = offset[0] + done
            if job.cancel.is_set():
                raise Cancelled

        if base is None:
            base = run(base_sc, v.replications, v.seed, workers=self.workers,
                       executor=self.executor, progress=progress)
            with self._lock:
                self._bases[key] = base
                while len(self._bases) > MAX_BASES:
                    self._bases.popitem(last=False)
            offset[0] = v.replications
        with self._lock:
            if self._work is None:
                self._work = Path(tempfile.mkdtemp(prefix="bposim-serve-"))
        folder = Path(tempfile.mkdtemp(prefix=f"variant-{job.id}-", dir=self._work)) / "results"
        job.folder = folder
        outcome = run_to_directory(v.scenario, folder, replications=v.replications, seed=v.seed,
                                   workers=self.workers, executor=self.executor, progress=progress)
        if outcome.interrupted or outcome.results is None:
            raise Cancelled
        table = comparison_table({"base": base, "what-if": outcome.results})
        erlang = views.erlang_figures(v.scenario)
        job.view = {
            "figures": views.figure_rows(v.scenario, table, "what-if"),
            "charts": views.charts(v.scenario, base, outcome.results, erlang),
            "erlang": erlang,
            "currency": v.scenario.currency,
        }

    # --- saving ----------------------------------------------------------------------

    def save(self, job_id: int, library, name: str) -> dict[str, str]:
        """Write the variant as a new scenario file in the served directory and its results
        as ``results/<name>/`` (the layout ``bposim run`` writes; ``bposim report`` reads it).
        Existing files are never overwritten: a taken name gets a ``-2``, ``-3``... suffix."""
        import os

        import yaml

        from bposim.batch import run_to_directory
        from bposim.outputs import atomic_write_text
        from bposim.scenario.load import load_scenario

        job = self.get(job_id)
        if job.status != "done" or job.folder is None:
            raise InputError(f"variant {job_id} has no finished results to save")
        yaml_path, results = library.reserve(name or job.label)
        try:
            settings = "".join(f"#   {k}: {v!r}\n" for k, v in job.variant.settings.items()) or "#   (none)\n"
            header = (f"# What-if variant of {job.entry.source}, saved by bposim serve.\n"
                      f"# Settings changed from the base:\n{settings}")
            atomic_write_text(yaml_path, header + yaml.safe_dump(job.variant.data, sort_keys=False,
                                                                 allow_unicode=True))
            saved = load_scenario(yaml_path)
            results.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{results.name}.", dir=results.parent))
            try:
                shutil.copytree(job.folder, staging / "r")
                os.rename(staging / "r", results)   # fails rather than replace a folder
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            yaml_path.unlink(missing_ok=True)  # the name was reserved for this save
            raise
        # every replication is there already: this only rewrites the summary, the
        # scenario copy (from the saved file) and the manifest
        run_to_directory(saved, results, replications=job.variant.replications,
                         seed=job.variant.seed, executor="serial")
        return {"scenario": yaml_path.name,
                "results": str(results.relative_to(library.root))}
