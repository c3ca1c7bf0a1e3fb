"""The calibration report (one self-contained HTML page and its PNG figures) and the
backtest figure. Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot
state); files are written atomically and never replace a user's file unless forced.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bposim.calibration.fits import frozen
from bposim.outputs import atomic_write_bytes, atomic_write_text, refuse_existing

FIGURES = ("handle_time", "patience", "arrivals", "staffing")
REPORT = "calibration.html"


def _grid(n: int, title: str, width: float = 4.2, height: float = 3.2):
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig, axes


def _theta(fit) -> np.ndarray:
    return np.array([math.log(fit.mean)] + ([math.log(fit.cv)] if fit.cv is not None else []))


def handle_time_figure(cal) -> Figure:
    """Per queue: the log's handle times (histogram) and the fitted densities."""
    fig, axes = _grid(len(cal.queues), "Handle time: log (histogram) and fitted distributions")
    for ax, (q, qf) in zip(axes, cal.queues.items()):
        x = qf.handle_sample
        top = float(np.quantile(x, 0.99)) if x.size else 1.0
        ax.hist(x[x <= top], bins=40, density=True, color="0.8", label=f"log (n = {x.size})")
        grid = np.linspace(max(top / 400, 0.5), top, 300)
        for c in qf.handle.candidates:
            style = "-" if c.family == qf.handle.chosen else "--"
            ax.plot(grid, frozen(c.family, _theta(c)).pdf(grid), style,
                    label=f"{c.family}{' (chosen)' if c.family == qf.handle.chosen else ''}")
        if qf.handle.chosen == "empirical":
            ax.plot([], [], " ", label="chosen: empirical")
        ax.set_title(f"{q}: mean {x.mean():.0f} s")
        ax.set_xlabel("seconds")
        ax.legend(fontsize=7)
    return fig


def patience_figure(cal) -> Figure:
    """Per queue: Kaplan-Meier survival of patience (95 % band) and the fitted curves."""
    fig, axes = _grid(len(cal.queues), "Patience: Kaplan-Meier (served waits censored) and censored ML fits")
    for ax, (q, qf) in zip(axes, cal.queues.items()):
        t, s, se = qf.km
        if qf.patience is None or t.size == 0:
            ax.text(0.5, 0.5, "nobody abandoned:\npatience not identifiable", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_title(q)
            continue
        ax.step(np.r_[0, t], np.r_[1, s], where="post", color="k", label="Kaplan-Meier")
        ax.fill_between(np.r_[0, t], np.r_[1, np.clip(s - 1.96 * se, 0, 1)],
                        np.r_[1, np.clip(s + 1.96 * se, 0, 1)], step="post", color="0.85")
        grid = np.linspace(0, t.max(), 300)
        for c in qf.patience.candidates:
            style = "-" if c.family == qf.patience.chosen else "--"
            ax.plot(grid, frozen(c.family, _theta(c)).sf(grid), style,
                    label=f"{c.family} mean {c.mean:.0f} s{' (chosen)' if c.family == qf.patience.chosen else ''}")
        ax.set_title(f"{q}: {qf.abandoned} abandons of {qf.offered}")
        ax.set_xlabel("wait (s)")
        ax.set_ylabel("P(patience > wait)")
        ax.legend(fontsize=7)
    return fig


def arrivals_figure(cal) -> Figure:
    """Per queue: mean external arrivals per interval for each weekday of the training days."""
    queues = [q for q, f in cal.queues.items() if f.profiles]
    fig, axes = _grid(max(len(queues), 1), f"Arrivals from outside per {cal.interval_minutes}-min "
                      "interval, mean by weekday")
    hours = np.arange(24 * 60 // cal.interval_minutes) * cal.interval_minutes / 60
    for ax, q in zip(axes, queues):
        for w, v in cal.queues[q].profiles.items():
            ax.plot(hours, v, label=w)
        ax.set_title(q)
        ax.set_xlabel("hour of day")
        ax.legend(fontsize=7, ncol=2)
    return fig


def staffing_figure(cal) -> Figure:
    """Inferred agents in session per interval and pool, mean over the training days."""
    st = cal.staffing
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.subplots()
    hours = np.arange(st.table.shape[1]) * cal.interval_minutes / 60
    for pid in st.pools:
        ax.plot(hours, st.table.loc[pid].to_numpy().mean(axis=0), label=pid)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("agents in session")
    ax.set_title(f"Staffing inferred from agent activity (sessions: gaps under {st.gap_minutes:g} min), "
                 "mean over the training days")
    ax.legend(fontsize=7, ncol=2)
    return fig


def backtest_figure(bt) -> Figure:
    """Observed vs simulated and vs Erlang A per interval, one panel per metric."""
    fig = Figure(figsize=(13, 4.5), layout="constrained")
    axes = fig.subplots(1, 3)
    f = bt.intervals[bt.intervals["offered"] >= bt.min_offered]
    labels = {"sl": "service level", "abandon": "abandonment", "asa": "ASA (s)"}
    s = bt.summary[bt.summary["level"] == "interval"].set_index(["metric", "model"])
    for ax, (m, label) in zip(axes, labels.items()):
        for model, col, mark in (("simulation", f"sim_{m}", "o"), ("Erlang A", f"erlang_{m}", "x")):
            mae = s.loc[(m, model), "mae"] if (m, model) in s.index else np.nan
            ax.plot(f[f"obs_{m}"], f[col], mark, alpha=0.6, label=f"{model} (MAE {mae:.3g})")
        lo = np.nanmin([f[f"obs_{m}"].min(), f[f"sim_{m}"].min(), 0])
        hi = np.nanmax([f[f"obs_{m}"].max(), f[f"sim_{m}"].max(), f[f"erlang_{m}"].max()])
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xlabel(f"observed {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.set_title(f"{label} per interval (>= {bt.min_offered} contacts)")
        ax.legend(fontsize=8)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def save_figure(fig: Figure, path: Path, overwrite: bool = True) -> None:
    atomic_write_bytes(Path(path), _png(fig), overwrite=overwrite)


def _table(frame: pd.DataFrame) -> str:
    if frame is None or frame.empty:
        return "<p>none</p>"
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, classes="t", na_rep="")


def write_calibration_report(cal, out: Path, force: bool = False) -> list[Path]:
    """Write ``calibration.html`` and one PNG per figure into directory ``out``."""
    out = Path(out)
    paths = [out / REPORT] + [out / f"{n}.png" for n in FIGURES]
    refuse_existing(paths, force)
    builders = (handle_time_figure, patience_figure, arrivals_figure, staffing_figure)
    images = {}
    for name, build in zip(FIGURES, builders):
        data = _png(build(cal))
        images[name] = data
        atomic_write_bytes(out / f"{name}.png", data, overwrite=force)
    esc = html.escape
    blocks = []
    for q, f in cal.queues.items():
        b = pd.DataFrame(f.blocks)
        if not b.empty:
            b.insert(0, "queue", q)
            blocks.append(b)
    redial = pd.DataFrame([cal.redials]) if cal.redials else None
    notes = "".join(f"<li>{esc(k)}: {v}</li>" for k, v in cal.notes.items() if v)
    warn = "".join(f"<li>{esc(w)}</li>" for w in cal.warnings)
    img = lambda n: f'<img alt="{n}" src="data:image/png;base64,{base64.b64encode(images[n]).decode()}">'  # noqa: E731
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Calibration: {esc(cal.file)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}} img{{max-width:100%}}
table.t{{border-collapse:collapse;font-size:85%}} table.t td,table.t th{{padding:2px 8px;border-bottom:1px solid #ddd}}</style>
</head><body><h1>Calibration of {esc(cal.file)}</h1>
<p>Training days: {len(cal.train_days)} ({cal.train_days[0]} to {cal.train_days[-1]});
intervals of {cal.interval_minutes} min. 95 % intervals throughout.</p>
<h2>Warnings</h2><ul>{warn or "<li>none</li>"}</ul>
<h2>Log rows left out or corrected</h2><ul>{notes or "<li>none</li>"}</ul>
<h2>Estimates</h2>{_table(cal.parameters())}
<h2>Handle time</h2>{img("handle_time")}
<h3>By time of day (a block differs materially: &gt; 10 % from the queue's mean and its interval
excludes it; the scenario has one distribution per queue, so this is reported, not simulated)</h3>
{_table(pd.concat(blocks) if blocks else None)}
<h2>Patience</h2>{img("patience")}
<h2>Arrivals</h2>{img("arrivals")}
<h2>Transfers between queues (simulated as escalations)</h2>{_table(cal.transfers)}
<h2>Redials after abandoning (not set in the scenario: these calls are in its volumes; a queue's
<code>retrial</code> setting simulates them instead)</h2>{_table(redial)}
<h2>Priority overtaking (not set in the scenario: each of its queues has one priority class; a
queue per class with a <code>head_start</code> simulates it)</h2>
<p>A high-priority contact overtook when it was answered before regular contacts that had
arrived earlier; the head start is how much earlier the earliest of them had arrived.</p>
{_table(cal.overtaking)}
<h2>Staffing inferred from agent activity</h2>{img("staffing")}
<p>Effect of the session gap (services closer than the gap are one work session):</p>
{_table(cal.staffing.gap_effect)}
<h2>Scenario written</h2><pre>{esc(cal.scenario_text)}</pre>
</body></html>"""
    atomic_write_text(out / REPORT, page, overwrite=force)
    return paths
