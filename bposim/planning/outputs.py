"""A plan's output folder: finished stages kept for resuming, final files written atomically.

Layout::

    manifest.json       bposim version, scenario hash, seed, replications, status, timings
    state/stage1.npz    stage 1: Erlang C, Erlang A and simulated requirements
    state/stage1-iteration-<k>.npz   each finished stage-1 iteration
    state/<plan>-round-<k>/   each finished round (requirement, counts, attainment, summary)
    requirements.csv schedule.csv planned.yaml summary.txt summary.csv attainment.csv rounds.csv
    reference/          the same files for the Erlang C plan through the same scheduler

Each round folder is written under a temporary name and renamed into place, so it is
complete or absent; rerunning the same command resumes after the last finished one.
A folder that holds anything else is refused unless ``force``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bposim import __version__
from bposim.errors import InputError
from bposim.outputs import atomic_write, atomic_write_frame, atomic_write_text, scenario_hash
from bposim.planning.loop import Round

KIND = "bposim plan"


class PlanDir:
    """The output folder of one plan (scenario, seed and replications)."""

    def __init__(self, path: str | Path, scenario, seed: int, replications: int, force: bool = False):
        self.path = Path(path)
        self.key = {"scenario_hash": scenario_hash(scenario), "seed": seed, "replications": replications,
                    "bposim_version": __version__}
        manifest = self.path / "manifest.json"
        if manifest.is_file():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, json.JSONDecodeError):
                old = {}
            same = old.get("kind") == KIND and all(old.get(k) == v for k, v in self.key.items())
            if not same:
                if not force:
                    raise InputError(f"{self.path} holds another plan (other scenario, seed, "
                                     "replications or bposim version); choose another --out or use --force")
                shutil.rmtree(self.path / "state", ignore_errors=True)
        elif self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())) and not force:
            raise InputError(f"{self.path} exists and is not a bposim plan folder; choose another --out "
                             "or use --force to write into it")

    def start(self) -> None:
        (self.path / "state").mkdir(parents=True, exist_ok=True)
        (self.path / "reference").mkdir(exist_ok=True)  # relative paths in planned.yaml resolve through it
        self.manifest("running", {})

    def manifest(self, status: str, timings: dict) -> None:
        data = {"kind": KIND, **self.key, "status": status, "timings": timings,
                "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        atomic_write_text(self.path / "manifest.json", json.dumps(data, indent=2) + "\n")

    # --- stage 1 -------------------------------------------------------------------
    def load_stage1(self):
        f = self.path / "state" / "stage1.npz"
        if not f.is_file():
            return None
        with np.load(f) as z:
            return z["erlang_c"], z["erlang_a"], z["simulated"]

    def save_stage1(self, erlang_c, erlang_a, simulated) -> None:
        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, erlang_c=erlang_c, erlang_a=erlang_a, simulated=simulated)
        atomic_write(self.path / "state" / "stage1.npz", write)

    def load_iteration(self, it: int):
        f = self.path / "state" / f"stage1-iteration-{it:02d}.npz"
        if not f.is_file():
            return None
        with np.load(f) as z:
            return z["need"], z["seen_miss"], json.loads(str(z["record"]))

    def save_iteration(self, it: int, need, seen_miss, record: dict) -> None:
        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, need=need, seen_miss=seen_miss, record=np.array(json.dumps(record)))
        atomic_write(self.path / "state" / f"stage1-iteration-{it:02d}.npz", write)

    # --- rounds --------------------------------------------------------------------
    def _round_dir(self, label: str, k: int) -> Path:
        return self.path / "state" / f"{label}-round-{k:02d}"

    def load_round(self, label: str, k: int) -> Round | None:
        d = self._round_dir(label, k)
        if not d.is_dir():
            return None
        with np.load(d / "arrays.npz", allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files if name not in ("need", "counts")}
            need, counts = z["need"], z["counts"]
        meta = json.loads((d / "seconds.json").read_text())
        return Round(need, counts, pd.read_csv(d / "attainment.csv"), pd.read_csv(d / "summary.csv"),
                     arrays, meta)

    def save_round(self, label: str, k: int, r: Round) -> None:
        final = self._round_dir(label, k)
        if final.exists():
            return
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-round-"))
        try:
            with open(tmp / "arrays.npz", "wb") as fh:
                np.savez(fh, need=r.need, counts=r.counts,
                         **{k_: np.asarray(v) for k_, v in r.arrays.items()})
            r.attainment.to_csv(tmp / "attainment.csv", index=False)
            r.summary.to_csv(tmp / "summary.csv", index=False)
            (tmp / "seconds.json").write_text(json.dumps(r.seconds))
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # --- final files ---------------------------------------------------------------
    def write_plan(self, plan, summary_text: str, planned_yaml: str, folder: str = "") -> None:
        base = self.path / folder if folder else self.path
        atomic_write_frame(plan.requirements, base / "requirements.csv")
        atomic_write_frame(plan.schedule, base / "schedule.csv")
        atomic_write_frame(plan.attainment, base / "attainment.csv")
        atomic_write_frame(plan.rounds, base / "rounds.csv")
        atomic_write_frame(plan.summary_frame(), base / "summary.csv")
        atomic_write_text(base / "summary.txt", summary_text + "\n")
        atomic_write_text(base / "planned.yaml", planned_yaml)
