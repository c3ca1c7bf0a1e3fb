"""The report as one self-contained HTML page: inline CSS, figures as data: PNGs.

No script and no external reference of any kind (a Content-Security-Policy meta tag
forbids both), so the file can be mailed, archived or opened offline as it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass
from html import escape

from bposim import __version__, numfmt
from bposim.abandon_caps import CAP_MEASURE, cap_warnings
from bposim.report.load import ResultsData
from bposim.report.views import met_flag, views_html

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
 color:#1f2328;background:#fff;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0 0;font-size:1.7rem}
h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.sub{color:#57606a;margin:.2rem 0 1rem}
.partial{background:#fff1e5;border:2px solid #bc4c00;color:#762c00;padding:.8rem 1rem;border-radius:6px;
 font-size:1.05rem;margin:1rem 0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .9rem;min-width:11rem;flex:1}
.card .label{color:#57606a;font-size:.85rem}.card .value{font-size:1.5rem;font-weight:600}
.ci{color:#57606a;font-size:.85em;white-space:nowrap}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #d8dee4;padding:.3rem .6rem;text-align:right;vertical-align:top}
th{background:#f6f8fa}th:first-child,td:first-child{text-align:left}
table.facts td{text-align:left}table.facts th{text-align:left;width:12rem}
.erlang{background:#f3f0ff}
figure{margin:1.2rem 0}figure img{max-width:100%;height:auto;border:1px solid #d8dee4}
figcaption{color:#57606a;font-size:.9rem;margin-top:.3rem}
.notes li{margin:.2rem 0}footer{color:#57606a;font-size:.85rem;margin-top:2rem}
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass
class FigurePng:
    slug: str
    title: str
    caption: str
    png: bytes


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt(v, kind: str = "num", digits: int = 1) -> str:
    """A number for a table cell: ``pct``, ``int`` or plain; a dash when missing (the
    CLI's formatter, :func:`bposim.numfmt.fmt`)."""
    return numfmt.fmt(v, kind, digits)


def _metric(summary, metric: str, scope: str):
    row = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
    if row.empty:
        return None
    r = row.iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]), int(r["n"])


def with_ci(summary, metric: str, scope: str, kind: str = "num", digits: int = 1) -> str:
    """``mean`` with its 95 % CI beneath it as in the terminal tables (``± h``, or
    ``+a/-b`` where the interval is not centred on the mean), HTML-ready."""
    m = _metric(summary, metric, scope)
    if m is None:
        return "–"
    mean, lo, hi, _ = m
    text = escape(fmt(mean, kind, digits))
    if _nan(lo) or _nan(hi) or _nan(mean) or hi <= lo:
        return text  # no interval (one replication) or none to show (the same in every one)
    return f'{text}<br><span class="ci">{escape(numfmt.ci_text(mean, lo, hi, kind, digits))}</span>'


def _sl_flag(summary, scope: str, target: float) -> str:
    """"met" / "missed" against the target under a service-level cell."""
    m = _metric(summary, "service_level", scope)
    if m is None or _nan(target):
        return ""
    return f'<br><span class="ci">{escape(met_flag(m[0], m[1], m[2], target))}</span>'


def _table(headers: list[str], rows: list[list[str]], erlang_cols=(), cls: str = "") -> str:
    """Rows of ready HTML cells; headers are escaped here."""
    def cell(tag, i, content):
        c = ' class="erlang"' if i in erlang_cols else ""
        return f"<{tag}{c}>{content}</{tag}>"

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _scenario_facts(d: ResultsData) -> str:
    m, h = d.manifest, d.horizon
    horizon = (f"{h.get('days', 1)} day(s) from {h.get('start', '?')}, "
               f"{h.get('interval_minutes', 30)}-minute intervals, time zone {h.get('timezone', 'UTC')}"
               if h else "–")
    if d.warmup_minutes:
        horizon += f"; warm-up {d.warmup_minutes:g} min left out of run-level figures"
    if d.measure:
        horizon += f"; run-level figures measured {d.measure} (simulation.measure)"
    queues = ", ".join(f"{q.id} ({q.definition} SL {q.target:.0%} within {q.answer_within:g} s)"
                       if q.target == q.target else q.id for q in d.queues)
    pools = ", ".join(f"{p.id} ({p.tier})" for p in d.pools)
    facts = [
        ("Scenario", d.name), ("Description", d.description or "–"), ("Horizon", horizon),
        ("Queues", queues), ("Pools", pools),
        ("Replications", f"{len(d.replications)} of {d.requested} (run status: {m.get('status', '?')})"),
        ("Seed", str(d.seed)), ("Scenario hash", str(m.get("scenario_hash", "–"))),
        ("bposim version", f"results written by {m.get('bposim_version', '?')}, report by {__version__}"),
        ("Results written", str(m.get("written", "–"))), ("Results directory", str(d.path)),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def _headline(d: ResultsData) -> str:
    s = d.summary
    items = [("Offered contacts (external queues)", "offered", "all", "int"),
             ("Service level (answered in target / offered, all external)", "sl_offered", "all", "pct"),
             ("Abandon rate (external queues)", "abandon_rate", "all", "pct"),
             ("SME utilisation", "sme_utilisation", "all", "pct")]
    items += [(f"Service level, queue {q.id}", "service_level", f"queue:{q.id}", "pct") for q in d.queues]
    items += [(f"Cost ({d.currency})", "cost", "all", "int"),
              (f"Cost per answered contact ({d.currency})", "cost_per_contact", "all", "num")]
    cards = []
    for label, metric, scope, kind in items:
        m = _metric(s, metric, scope)
        if m is None or (metric.startswith("cost") and not m[0]):
            continue
        mean, lo, hi, n = m
        scale = 100 if kind == "pct" else 1
        digits = 0 if kind == "int" else 1
        ci = (f'<span class="ci">n = {n}</span>' if _nan(lo) or _nan(hi) or hi <= lo else
              f'<span class="ci">95 % CI [{scale * lo:,.{digits}f} – {scale * hi:,.{digits}f}], '
              f"n = {n}</span>")
        cards.append(f'<div class="card"><div class="label">{escape(label)}</div>'
                     f'<div class="value">{escape(fmt(mean, kind))}</div>{ci}</div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _queue_table(d: ResultsData) -> str:
    from bposim.metrics import sl_threshold_label, sl_threshold_metrics

    s = d.summary
    base = d.baseline.set_index("queue") if "queue" in d.baseline.columns and len(d.baseline) else None
    extra = sl_threshold_metrics(s.loc[s["scope"].astype(str).str.startswith("queue:"), "metric"])
    rows = []
    for q in d.queues:
        scope = f"queue:{q.id}"
        b = base.loc[q.id] if base is not None and q.id in base.index else {}
        target = (f'{q.target:.0%} in {q.answer_within:g} s<br><span class="ci">{escape(q.definition)}</span>'
                  if q.target == q.target else "–")
        rows.append([
            escape(q.id), target, with_ci(s, "offered", scope, "int", 0),
            with_ci(s, "service_level", scope, "pct") + _sl_flag(s, scope, q.target),
            fmt(b.get("erlang_service_level"), "pct"),
            *(with_ci(s, m, scope, "pct") for m in extra),
            with_ci(s, "asa", scope), fmt(b.get("erlang_asa")),
            with_ci(s, "abandon_rate", scope, "pct"), fmt(b.get("erlang_abandon_rate"), "pct"),
            with_ci(s, "wait_p90", scope), with_ci(s, "escalation_rate", scope, "pct"),
            fmt(b.get("erlang_required_agents_peak"), "int"),
        ])
    headers = ["queue", "target", "offered", "service level", "Erlang SL",
               *(sl_threshold_label(m) for m in extra), "ASA (s)", "Erlang ASA (s)",
               "abandoned", "Erlang abandoned", "p90 wait (s)", "escalated", "Erlang peak agents"]
    k = len(extra)
    return _table(headers, rows, erlang_cols=(4, 6 + k, 8 + k, 11 + k))


def _queue_section(d: ResultsData) -> str:
    """The queue table, left out when the centre has no queues (outbound only)."""
    if not d.queues:
        return ""
    return "<h2>Queues, beside the Erlang baseline</h2>" + _queue_table(d)


def _pool_table(d: ResultsData) -> str:
    s = d.summary
    sites = any(p.site for p in d.pools)
    inbound = any(p.inbound for p in d.pools)  # else no pool handles contacts: no such columns
    cost = s[(s["metric"] == "cost") & s["scope"].astype(str).str.startswith("pool:")]
    costs = bool(len(cost)) and bool((cost["mean"].fillna(0) != 0).any())
    rows = []
    for p in d.pools:
        scope = f"pool:{p.id}"
        rows.append([
            escape(p.id + (" (SME)" if p.is_sme else "")), escape(p.tier),
            *([escape(p.site or "–")] if sites else []),
            with_ci(s, "occupancy", scope, "pct"), with_ci(s, "utilisation", scope, "pct"),
            *(([with_ci(s, "handled", scope, "int", 0), with_ci(s, "escalations_taken", scope, "int", 0)]
               if p.inbound else ["– (outbound)", "–"]) if inbound else []),
            with_ci(s, "paid_hours", scope, "int", 0), with_ci(s, "overrun_hours", scope),
            *([with_ci(s, "cost", scope, "int", 0)] if costs else []),
        ])
    headers = ["pool", "tier", *(["site"] if sites else []), "occupancy", "utilisation",
               *(["handled", "escalations taken"] if inbound else []), "paid hours", "overrun hours",
               *([f"cost ({d.currency})"] if costs else [])]
    return _table(headers, rows)


def _site_table(d: ResultsData) -> str:
    """Sites, when the scenario has them: paid hours, cost, occupancy and utilisation."""
    s = d.summary
    sites = sorted({str(x)[5:] for x in s["scope"] if str(x).startswith("site:")})
    if not sites:
        return ""
    rows = [[escape(site), escape(d.site_kinds.get(site, "") or "–"),
             with_ci(s, "paid_hours", f"site:{site}", "int", 0), with_ci(s, "cost", f"site:{site}", "int", 0),
             with_ci(s, "occupancy", f"site:{site}", "pct"), with_ci(s, "utilisation", f"site:{site}", "pct")]
            for site in sites]
    headers = ["site", "kind", "paid hours", f"cost ({d.currency})", "occupancy", "utilisation"]
    return "<h2>Sites</h2>" + _table(headers, rows)


def _campaign_table(d: ResultsData) -> str:
    """Outbound campaigns, when the scenario has them: output and the abandoned-call rates
    as the two regulators measure them."""
    s = d.summary
    campaigns = sorted({str(x)[9:] for x in s["scope"] if str(x).startswith("campaign:")})
    if not campaigns:
        return ""
    rows = []
    for c in campaigns:
        scope = f"campaign:{c}"
        rows.append([escape(c), with_ci(s, "dials", scope, "int", 0), with_ci(s, "connected", scope, "int", 0),
                     with_ci(s, "right_party", scope, "int", 0), with_ci(s, "abandon_rate", scope, "pct"),
                     with_ci(s, "max_daily_abandon_rate", scope, "pct"),
                     with_ci(s, "max_30day_abandon_rate", scope, "pct"),
                     fmt(d.campaign_caps.get(c), "pct", 0),
                     with_ci(s, "right_party_per_agent_hour", scope),
                     with_ci(s, "talk_minutes_per_agent_hour", scope),
                     with_ci(s, "list_penetration", scope, "pct")])
    headers = ["campaign", "dials", "connects", "right party", "abandoned / live (the cap's measure)",
               "worst day, AMD hang-ups included (Ofcom's 24-hour rule)",
               "worst 30 days (FTC's 30-day rule)",
               "cap", "right party per agent hour", "talk minutes per agent hour", "list reached"]
    warnings = cap_warnings(s, d.campaign_caps)
    notes = (f"<p>The cap is the campaign's <code>abandon_target</code>; it applies to "
             f"{escape(CAP_MEASURE)}.</p>")
    if warnings:
        notes += ('<div class="partial"><strong>Over the cap</strong><ul>'
                  + "".join(f"<li>{escape(w)}.</li>" for w in warnings) + "</ul></div>")
    return "<h2>Outbound campaigns</h2>" + _table(headers, rows) + notes


def _figures(figures: list[FigurePng]) -> str:
    out = []
    for f in figures:
        data = base64.b64encode(f.png).decode("ascii")
        out.append(f'<figure id="fig-{escape(f.slug)}"><h3>{escape(f.title)}</h3>'
                   f'<img alt="{escape(f.title)}" src="data:image/png;base64,{data}">'
                   f"<figcaption>{escape(f.caption)} (also figures/{escape(f.slug)}.png)</figcaption>"
                   "</figure>")
    return "".join(out)


def render_html(d: ResultsData, figures: list[FigurePng]) -> str:
    """The whole page for the results ``d`` and the rendered ``figures``."""
    title = f"{d.name}: bposim report" + (" (PARTIAL)" if d.partial else "")
    partial = (f'<div class="partial"><strong>PARTIAL RESULTS</strong>: {escape(d.partial_reason)}</div>'
               if d.partial else "")
    notes = [
        "Figures in tables are means over replications with their 95 % confidence interval "
        "beneath, in the figure's units (percentage points for percentages): ± its half-width, "
        "or +a/-b where the interval is not centred on the mean (shares near 0 or 100 %, waits, "
        "small counts): it reaches a above and b below the mean.",
        "Erlang columns (shaded) are analytic: Erlang C, or Erlang A when the queue has a patience "
        "distribution (taken as exponential with its mean), at the expected volume including "
        "escalated inflow. Erlang SL, ASA and abandonment are shown only for a queue whose pools "
        "serve it alone, for their pooled headcount less planned breaks and shrinkage; the peak "
        "agents figure is the "
        "largest per-interval requirement for the queue's target.",
        "Erlang assumes a stationary single-skill queue with exponential times; the gap to the "
        "simulation (skills, escalations, shifts, breaks, abandonment) is often the point.",
        *d.notes,
    ]
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body><main>
<h1>{escape(d.name)}</h1>
<p class="sub">bposim simulation report: {len(d.replications)} replication(s), seed {escape(str(d.seed))}</p>
{partial}
<h2>Scenario</h2>
{_scenario_facts(d)}
<h2>Headline</h2>
{_headline(d)}
{_queue_section(d)}
<h2>Pools</h2>
{_pool_table(d)}
{_site_table(d)}
{_campaign_table(d)}
{views_html(d)}
<h2>Figures</h2>
{_figures(figures)}
<h2>Notes</h2>
<ul class="notes">{"".join(f"<li>{escape(n)}</li>" for n in notes)}</ul>
<footer>Generated by bposim {escape(__version__)} at {generated} from {escape(str(d.path))}.</footer>
</main></body>
</html>
"""
