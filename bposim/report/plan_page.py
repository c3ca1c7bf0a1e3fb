"""The report of a plan folder (``bposim plan --out``): one self-contained HTML page.

Per pool, the agents the plan puts on duty (its shifts, less planned breaks) against the
requirements it was built from (Erlang C, Erlang A, simulated, and what was planned
for), with surplus / deficit bars against the simulated requirement; the attainment of
each target with its 95 % CI and a met / missed flag beside the Erlang C plan; cost,
paid hours and the closed-loop rounds.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

from bposim.errors import InputError
from bposim.numfmt import fmt, metric_kind
from bposim.outputs import atomic_write_bytes, atomic_write_text, refuse_existing
from bposim.report.html import FigurePng, _figures, _table, page
from bposim.report.views import met_flag

PLAN_KIND = "bposim plan"


def is_plan_dir(path: str | Path) -> bool:
    """``path`` is a folder ``bposim plan`` wrote (its manifest says so) with requirements."""
    p = Path(path)
    try:
        kind = json.loads((p / "manifest.json").read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return False
    return kind == PLAN_KIND and (p / "requirements.csv").is_file()


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except Exception as exc:  # pandas raises many kinds
        raise InputError(f"{path}: unreadable table ({' '.join(str(exc).split())[:200]})") from exc


def planned_duty(path: Path) -> pd.DataFrame | None:
    """Per interval × pool: agents on duty in the planned scenario and those not on a
    planned break (None when planned.yaml cannot be read back)."""
    import bposim
    from bposim.engine.model import compile_scenario

    try:
        model = compile_scenario(bposim.load_scenario(path / "planned.yaml"))
    except Exception:  # the page goes on without the duty lines
        return None
    rows = []
    for pm in model.pools:
        for k, (on, brk) in enumerate(zip(pm.headcount, pm.on_break)):
            rows.append((k, pm.id, float(on), float(on - brk)))
    return pd.DataFrame(rows, columns=["interval", "pool", "on_duty", "available"])


def pool_frames(req: pd.DataFrame, duty: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Per pool: requirements and duty per interval, ``net`` = available − simulated."""
    out = {}
    for pool, r in req.groupby(req["pool"].astype(str), sort=False):
        f = r.copy()
        f["start"] = pd.to_datetime(f["start"])
        if duty is not None:
            f = f.merge(duty[duty["pool"].astype(str) == pool][["interval", "on_duty", "available"]],
                        on="interval", how="left")
        f["required"] = f["simulated"].astype(float)
        f["net"] = f.get("available", pd.Series(float("nan"), index=f.index)) - f["required"]
        out[pool] = f
    return out


def _attainment_table(att: pd.DataFrame, reference: pd.DataFrame | None) -> str:
    ref = reference.set_index(["queue", "scope", "metric"]) if reference is not None else None
    rows = []
    for r in att.itertuples(index=False):
        kind = metric_kind(r.metric)
        sim = fmt(r.value, kind)
        if r.ci_low == r.ci_low and r.ci_high == r.ci_high:
            sim += f'<br><span class="ci">[{fmt(r.ci_low, kind)} – {fmt(r.ci_high, kind)}]</span>'
        target = float(r.target)
        higher_is_better = r.metric in ("service_level",) or r.metric.startswith("sl_")
        flag = (met_flag(r.value, r.ci_low, r.ci_high, target) if higher_is_better
                else met_flag(-r.value, -r.ci_high, -r.ci_low, -target))
        key = (r.queue, r.scope, r.metric)
        erlang_c = fmt(ref.loc[key]["value"], kind) if ref is not None and key in ref.index else "–"
        rows.append([escape(str(r.queue)), escape(str(r.scope)), escape(str(r.metric)),
                     fmt(target, kind), sim, escape(flag), erlang_c])
    return _table(["queue", "over", "metric", "target", "simulated (95 % CI)", "plan", "Erlang C plan"],
                  rows, erlang_cols=(6,))


def write_plan_report(path: str | Path, out: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the report of a plan folder (default ``path/report.html``, figures beside it)."""
    from bposim.report import figure_png
    from bposim.report.figures import net_staffing_figure

    path = Path(path)
    if not is_plan_dir(path):
        raise InputError(f"{path}: not a bposim plan folder (no plan manifest or requirements.csv)")
    req = _read(path / "requirements.csv")
    att = _read(path / "attainment.csv") if (path / "attainment.csv").is_file() else pd.DataFrame()
    ref = (_read(path / "reference" / "attainment.csv")
           if (path / "reference" / "attainment.csv").is_file() else None)
    summary = _read(path / "summary.csv") if (path / "summary.csv").is_file() else pd.DataFrame()
    rounds = _read(path / "rounds.csv") if (path / "rounds.csv").is_file() else pd.DataFrame()
    duty = planned_duty(path)
    built = []
    for pool, f in pool_frames(req, duty).items():
        fig = net_staffing_figure(
            f, title=f"Pool {pool}: planned agents vs the requirements",
            required_label="required (simulated)",
            extra={"erlang_c": "Erlang C", "erlang_a": "Erlang A", "planned_for": "planned for"})
        built.append((f"plan_{pool}", f"Pool {pool}: planned staffing",
                      "Agents on duty in the planned shifts (dotted) and not on a planned break "
                      "(solid) against the requirement by simulation (dashed) and by Erlang C / A; "
                      "bars: surplus (+) or deficit (−) against the simulated requirement.", fig))
    out = Path(out) if out is not None else path / "report.html"
    figures = out.parent / "figures"
    ours = out == path / "report.html"
    refuse_existing([out, *(figures / f"{slug}.png" for slug, *_ in built)], ours or force)
    pngs = [FigurePng(slug, title, caption, figure_png(fig)) for slug, title, caption, fig in built]
    for f in pngs:
        atomic_write_bytes(figures / f"{f.slug}.png", f.png)
    facts = "".join(f"<tr><th>{escape(str(r.metric))}</th><td>{fmt(r.value, 'int')}</td></tr>"
                    for r in summary.itertuples(index=False) if str(r.scope) == "all"
                    and r.metric in ("cost", "paid_hours", "simulated_cost"))
    def cell(v) -> str:
        return fmt(v, "num", 2) if isinstance(v, float) else escape(str(v))

    rounds_html = (_table([str(c) for c in rounds.columns],
                          [[cell(v) for v in row] for row in rounds.itertuples(index=False)])
                   if len(rounds) else "")
    html = page(f"{path.name}: bposim plan report", f"""<h1>{escape(path.name)}</h1>
<p class="sub">bposim plan report</p>
<table class="facts"><tbody>{facts}</tbody></table>
<h2>Targets</h2>
<p>Each target over the horizon: the planned scenario simulated (mean with its 95 % CI),
whether it is met (<em>within CI</em>: the interval straddles the target), and the Erlang C
plan through the same scheduler (shaded).</p>
{_attainment_table(att, ref) if len(att) else "<p>No attainment table in this folder.</p>"}
<h2>Closed-loop rounds</h2>
{rounds_html}
<h2>Figures</h2>
{_figures(pngs)}
""", path, "The planned scenario is planned.yaml: <code>bposim run</code> it for the full "
                "single-run report.")
    atomic_write_text(out, html)
    return out
