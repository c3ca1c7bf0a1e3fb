"""Calibrate a scenario from a contact log: every estimate, its interval, and the choices.

:func:`calibrate` reads the log, keeps the training days, and fits per queue the
arrival profile by weekday and its over-dispersion, the handle time, the patience
(censored), the transfers between queues, redials and priority overtaking (reported,
not simulated), and the staffing from agent activity. The result is a
:class:`Calibration`; its scenario text is a commented YAML scenario that
:func:`bposim.load_scenario` accepts.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bposim.calibration import arrivals as A
from bposim.calibration import behaviour as B
from bposim.calibration.fits import DurationFit, fit_handle_time, fit_patience, kaplan_meier, time_blocks
from bposim.calibration.logs import ContactLog, parse_days, read_log
from bposim.calibration.sessions import InferredStaffing, infer_staffing
from bposim.errors import InputError
from bposim.outputs import atomic_write_text, check_output_folder, refuse_existing


@dataclass
class QueueFit:
    """What the log says about one queue over the training days."""

    queue: str
    offered: int
    external: int
    answered: int
    abandoned: int
    handle: DurationFit
    blocks: list[dict]
    patience: DurationFit | None
    km: tuple[np.ndarray, np.ndarray, np.ndarray]
    dispersion: A.Dispersion
    profiles: dict[str, np.ndarray]  # weekday -> mean external arrivals per interval
    handle_sample: np.ndarray = field(default_factory=lambda: np.empty(0))  # the log's handle times


@dataclass
class Calibration:
    """A calibrated model of the log's centre, with everything needed to judge it."""

    file: str
    train_days: list[dt.date]
    interval_minutes: int
    answer_within: float
    notes: dict[str, int]
    queues: dict[str, QueueFit]
    transfers: pd.DataFrame
    redials: dict | None
    overtaking: pd.DataFrame
    staffing: InferredStaffing
    counts: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    scenario_text: str = ""

    def scenario(self):
        """The calibrated scenario, parsed and validated (a :class:`bposim.Scenario`)."""
        from bposim.scenario import parse_scenario

        return parse_scenario(self.scenario_text, source="<calibrated scenario>")

    def parameters(self) -> pd.DataFrame:
        """One row per estimate: queue, parameter, estimate, 95 % interval, how it was chosen."""
        rows = []
        for q, f in self.queues.items():
            h = f.handle
            best = h.best()
            if best is None or h.chosen == "empirical":  # the sample mean and its normal interval
                half = 1.959964 * float(np.std(f.handle_sample, ddof=1)) / np.sqrt(f.handle_sample.size)
                lo, hi = h.empirical_mean - half, h.empirical_mean + half
            else:
                lo, hi = best.mean_ci
            rows.append(dict(queue=q, parameter="handle_time mean (s)", estimate=h.empirical_mean
                             if best is None or h.chosen == "empirical" else best.mean, ci_low=lo,
                             ci_high=hi, note=h.reason))
            if best is not None and h.chosen == best.family:
                rows.append(dict(queue=q, parameter="handle_time cv", estimate=best.cv,
                                 ci_low=best.cv_ci[0], ci_high=best.cv_ci[1], note=""))
            if f.patience is None:
                rows.append(dict(queue=q, parameter="patience", estimate=np.nan, ci_low=np.nan,
                                 ci_high=np.nan, note="no abandonment: not identifiable, none used"))
            else:
                p = f.patience.best()
                rows.append(dict(queue=q, parameter="patience mean (s)", estimate=p.mean,
                                 ci_low=p.mean_ci[0], ci_high=p.mean_ci[1], note=f.patience.reason))
                if p.cv is not None:
                    rows.append(dict(queue=q, parameter="patience cv", estimate=p.cv,
                                     ci_low=p.cv_ci[0], ci_high=p.cv_ci[1], note=""))
            d = f.dispersion
            rows.append(dict(queue=q, parameter="busyness_cv", estimate=d.cv, ci_low=d.cv_low,
                             ci_high=d.cv_high, note=d.note or f"Poisson dispersion test p = {d.p_value:.3g}"))
            n = len(self.train_days)
            rows.append(dict(queue=q, parameter="external arrivals per day", estimate=f.external / n,
                             ci_low=(f.external - 1.96 * np.sqrt(f.external)) / n,
                             ci_high=(f.external + 1.96 * np.sqrt(f.external)) / n,
                             note="Poisson interval"))
        for t in self.transfers.to_dict("records"):
            rows.append(dict(queue=t["from"], parameter=f"transfer to {t['to']}", estimate=t["rate"],
                             ci_low=t["ci_low"], ci_high=t["ci_high"], note="Wilson interval"))
        return pd.DataFrame(rows)


def calibrate(log: str | Path | ContactLog, *, columns=None, preset: str | None = None,
              train_days: str | None = None, interval_minutes: int = 30,
              session_gap_minutes: float = 15.0, min_share: float = 0.10,
              redial_window_hours: float = 24.0, answer_within: float = 20.0,
              out: str | Path | None = None, report: str | Path | None = None,
              force: bool = False) -> Calibration:
    """Calibrate a scenario from the contact log ``log`` (a CSV path or a read log).

    ``columns`` / ``preset``: how to read the log (see :func:`read_log`);
    ``train_days``: which days to fit on ("1-10", "2026-01-05..2026-01-09"; default all);
    ``session_gap_minutes``: services closer than this are one work session.
    ``out`` writes the scenario YAML, ``report`` a report directory (HTML + PNG); an
    existing file is kept unless ``force``.
    """
    if interval_minutes not in (15, 30, 60):
        raise InputError(f"interval_minutes must be 15, 30 or 60, got {interval_minutes}")
    if not session_gap_minutes > 0:
        raise InputError(f"the session gap must be > 0 minutes, got {session_gap_minutes}")
    # every output checked before the log is read or anything written: no half output
    if out is not None:
        out = Path(out)
        if os.path.isdir(out):
            raise InputError(f"{out} is a folder; give --out a file name for the scenario YAML")
        check_output_folder(out.parent, "--out")
        refuse_existing([out], force)
    if report is not None:
        from bposim.calibration.report import FIGURES, REPORT

        report = Path(report)
        if out is not None and os.path.abspath(report) == os.path.abspath(out):
            raise InputError(f"--report {report} is the --out file; give the report its own folder")
        check_output_folder(report, "--report")
        for path in [report / REPORT] + [report / f"{n}.png" for n in FIGURES]:
            if os.path.isdir(path):
                raise InputError(f"{path} is a folder; choose another --report")
        refuse_existing([report / REPORT] + [report / f"{n}.png" for n in FIGURES], force)
    if not isinstance(log, ContactLog):
        log = read_log(log, columns, preset)
    days = parse_days(train_days, log.days, log.file)
    train = log.subset(days)
    table = A.counts(train, interval_minutes)
    staffing = infer_staffing(train, interval_minutes, session_gap_minutes, min_share)
    warnings: list[str] = []
    queues = {}
    f = train.frame
    for q, g in f.groupby("queue", sort=True):
        served = g[g["outcome"] == "answered"]
        if len(served) < 2:
            raise InputError(f"{log.file}:{int(g['line'].min())}: queue {q!r} has "
                             f"{len(served)} answered contact(s) on the training days: its handle "
                             "time cannot be fitted; leave the queue out of the log or add days")
        handle = fit_handle_time(served["handle"].to_numpy())
        abandoned = (g["outcome"] == "abandoned").to_numpy()
        patience = fit_patience(g["wait"].to_numpy(), abandoned)
        if patience is None:
            warnings.append(f"{log.file}: queue {q!r}: no contact abandoned on the training days, so "
                            "patience is not identifiable; the scenario has no patience (nobody abandons)")
        elif patience.notes:
            warnings += [f"{log.file}: queue {q!r}: {n}" for n in patience.notes]
        km = kaplan_meier(g["wait"].to_numpy(), abandoned)
        external = int(g["parent"].isna().sum())
        queues[q] = QueueFit(
            queue=q, offered=len(g), external=external, answered=len(served),
            abandoned=int(abandoned.sum()), handle=handle,
            blocks=time_blocks(served["answer"].to_numpy(), served["handle"].to_numpy()),
            patience=patience, km=km,
            dispersion=A.dispersion(table, q) if q in table.index.get_level_values(0) else
            A.Dispersion(0.0, np.nan, np.nan, 0, np.nan, "no external arrivals"),
            profiles=A.profiles(table, q) if q in table.index.get_level_values(0) else {},
            handle_sample=served["handle"].to_numpy(dtype=float))
    result = Calibration(
        file=log.file, train_days=days, interval_minutes=interval_minutes, answer_within=answer_within,
        notes=dict(log.notes), queues=queues, transfers=B.transfers(train),
        redials=B.redials(train, redial_window_hours), overtaking=B.overtaking(train),
        staffing=staffing, counts=table, warnings=warnings)
    from bposim.calibration.write import scenario_text

    result.scenario_text = scenario_text(result)
    result.scenario()  # the written scenario must validate: a failure here is a bug
    if out is not None:
        atomic_write_text(Path(out), result.scenario_text, overwrite=force)
    if report is not None:
        from bposim.calibration.report import write_calibration_report

        write_calibration_report(result, Path(report), force)
    return result
