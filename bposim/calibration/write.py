"""Write a calibration as a commented scenario YAML that bposim loads and runs.

The horizon is a typical week (at most 7 days) from the first training day; each
day's volumes and staffing are the means of the training days on that weekday.
Every fitted value carries its interval and how it was chosen as a comment; what is
measured but not set (redials, which are already in the volumes; priority overtaking
within a queue; handle time that varies by time of day) is written as comments saying
so and how to simulate it.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from bposim.calibration.arrivals import weekday
from bposim.distributions import DistributionSpec

_BAD = re.compile(r"[^A-Za-z0-9_\-]")


def ident(name: str) -> str:
    """A scenario id for a queue or pool name of the log (other characters become _)."""
    out = _BAD.sub("_", str(name))
    return out if out and out[0] != "-" else "_" + out


def _num(v: float) -> str:
    """Four significant digits, never in exponent form (YAML would read 2e+04 as text)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    text = f"{v:.4g}"
    return text if "e" not in text else (f"{v:.12f}".rstrip("0").rstrip(".") or "0")


def _dist(spec: DistributionSpec) -> str:
    if spec.kind in ("exponential", "deterministic"):
        return f"{{dist: {spec.kind}, mean: {_num(spec.mean)}}}"
    if spec.kind == "empirical":
        return "{dist: empirical, values: [" + ", ".join(_num(v) for v in spec.values) + "]}"
    return f"{{dist: {spec.kind}, mean: {_num(spec.mean)}, cv: {_num(spec.cv)}}}"


def horizon_days(cal) -> list[dt.date]:
    """The scenario's days: a week at most, from the first training day."""
    first, last = cal.train_days[0], cal.train_days[-1]
    n = min(7, (last - first).days + 1)
    return [first + dt.timedelta(days=k) for k in range(n)]


def _rows(values_by_day: list[tuple[str, list[str]]], indent: str) -> str:
    lines = [f"{indent}  {', '.join(v)},   # {label}" for label, v in values_by_day]
    lines[-1] = lines[-1].replace(",   #", "    #", 1)
    return "[\n" + "\n".join(lines) + f"\n{indent}]"


def scenario_text(cal) -> str:
    """The commented scenario YAML of calibration ``cal``."""
    days = horizon_days(cal)
    per_day = 24 * 60 // cal.interval_minutes
    seen = {}
    for d in cal.train_days:
        seen.setdefault(weekday(d), []).append(d)
    span = f"{cal.train_days[0]} to {cal.train_days[-1]}"
    out = [
        f"# Calibrated by `bposim calibrate` from {cal.file}: {len(cal.train_days)} training day(s), {span}.",
        "# A typical week (at most 7 days) from the first training day; each day's",
        "# volumes and staffing are the means of the training days on that weekday.",
        "# Times are the log's local times (the horizon's zone is nominal).",
        "# Every estimate has its 95 % interval beside it. See the calibration report.",
    ]
    out += [f"# Log: {k}: {v}" for k, v in cal.notes.items() if v]
    out += [f"name: {_quote('Calibrated from ' + str(cal.file).split('/')[-1])}",
            "horizon:",
            f"  start: {days[0].isoformat()}   # first training day ({weekday(days[0])})",
            f"  days: {len(days)}",
            f"  interval_minutes: {cal.interval_minutes}",
            "", "queues:"]
    by_from = {}
    for t in cal.transfers.to_dict("records"):
        by_from.setdefault(t["from"], []).append(t)
    for q, f in cal.queues.items():
        out.append(f"  - id: {ident(q)}")
        if ident(q) != q:
            out.append(f"    # the log calls this queue {q!r}")
        out.append(f"    # training days: {f.offered} contacts ({f.external} from outside), "
                   f"{f.answered} answered, {f.abandoned} abandoned")
        if f.external:
            rows = []
            for d in days:
                w = weekday(d)
                v = f.profiles.get(w)
                label = f"{d} {w}: mean of {len(seen.get(w, []))} training day(s)"
                if v is None:
                    v, label = np.zeros(per_day), f"{d} {w}: no training day on a {w}, no arrivals"
                rows.append((label, [_num(round(float(x), 2)) for x in v]))
            disp = f.dispersion
            out += ["    arrivals:",
                    f"      # expected contacts from outside per {cal.interval_minutes}-min interval, one line per day",
                    "      volumes: " + _rows(rows, "      "),
                    f"      busyness_cv: {disp.cv:.3f}   # day-to-day over-dispersion, 95 % CI "
                    f"[{_num(disp.cv_low)}, {_num(disp.cv_high)}], {disp.df} df"
                    + (f"; {disp.note}" if disp.note else f"; Poisson test p = {disp.p_value:.3g}")]
        h = f.handle
        best = h.best()
        out.append(f"    # handle time: {h.reason}" + ("" if best is None else
                   f"; {best.family} mean 95 % CI [{_num(best.mean_ci[0])}, {_num(best.mean_ci[1])}]"
                   + (f", cv [{_num(best.cv_ci[0])}, {_num(best.cv_ci[1])}]" if best.cv_ci else "")))
        out.append(f"    handle_time: {_dist(h.spec)}")
        material = [b for b in f.blocks if b["material"]]
        if material:
            parts = ", ".join(f"{b['start_hour']:02d}-{b['end_hour']:02d} h {b['mean']:.0f} s" for b in material)
            out.append(f"    # NOT SIMULATED: mean handle time differs by time of day ({parts}; overall "
                       f"{h.empirical_mean:.0f} s); the scenario has one distribution per queue")
        if f.patience is None:
            out.append("    # patience: nobody abandoned on the training days, so patience is not")
            out.append("    # identifiable from the log; left out (customers never abandon)")
        else:
            p = f.patience.best()
            out.append(f"    # patience, censored maximum likelihood ({f.patience.events} abandons, "
                       f"{f.patience.n - f.patience.events} served waits as lower bounds): {f.patience.reason};")
            out.append(f"    # mean 95 % CI [{_num(p.mean_ci[0])}, {_num(p.mean_ci[1])}]"
                       + (f", cv [{_num(p.cv_ci[0])}, {_num(p.cv_ci[1])}]" if p.cv_ci else ""))
            out.append(f"    patience: {_dist(f.patience.spec)}")
        out.append(f"    service_level: {{answer_within: {cal.answer_within:g}, target: 0.8, definition: offered}}")
        esc = [t for t in by_from.get(q, []) if t["to"] in cal.queues]
        if esc:
            out.append("    escalations:")
            for t in esc:
                out.append(f"      - {{to: {ident(t['to'])}, probability: {t['rate']:.4f}, mode: transfer}}"
                           f"   # {t['transfers']} of {t['answered']} answered, 95 % CI "
                           f"[{t['ci_low']:.4f}, {t['ci_high']:.4f}]")
        ov = cal.overtaking
        if not ov.empty and q in set(ov["queue"]):
            r = ov[ov["queue"] == q].iloc[0]
            out.append(f"    # NOT SET: priority. {r['share']:.0%} of {r['high']} high-priority contacts "
                       f"were answered before earlier regular ones; head start median {r['head_start_median']:.0f} s, "
                       f"90th percentile {r['head_start_p90']:.0f} s (ASA high {r['asa_high']:.0f} s, "
                       f"regular {r['asa_regular']:.0f} s); to simulate it, split the queue by class "
                       f"and give the high one head_start: {r['head_start_median']:.0f}")
    if cal.redials:
        r = cal.redials
        out.append(f"  # NOT SET: redials. {r['probability']:.1%} of abandoning customers "
                   f"(95 % CI [{r['ci_low']:.1%}, {r['ci_high']:.1%}], identified customers only) called again")
        out.append(f"  # within {r['window_hours']:g} h; delay median {_num(r['delay_median'])} s, mean "
                   f"{_num(r['delay_mean'])} s. Those calls are in the volumes above; to simulate them "
                   "instead, take them out and give the queues retrial: {probability, delay}.")
    st = cal.staffing
    out += ["", "pools:"]
    for pid, skills in st.pools.items():
        rows = []
        for d in days:
            w = weekday(d)
            same = [x for x in seen.get(w, [])]
            if same:
                v = np.rint(np.mean([st.headcount(pid, x) for x in same], axis=0)).astype(int)
                label = f"{d} {w}: mean of {len(same)} training day(s)"
            else:
                v, label = np.zeros(per_day, int), f"{d} {w}: no training day on a {w}, no agents"
            rows.append((label, [str(int(x)) for x in v]))
        agents = sum(1 for p in st.agent_pool.values() if p == pid)
        out += [f"  - id: {ident(pid)}   # {agents} agent(s) whose services were mostly these queues",
                f"    skills: [{', '.join(ident(s) for s in skills)}]",
                "    staffing:",
                f"      # agents in a work session per interval (services less than {st.gap_minutes:g} min apart",
                "      # are one session; idle time inside a session counts as staffed)",
                "      per_interval: " + _rows(rows, "      ")]
    out += ["", "simulation:", "  replications: 10", "  seed: 12345", ""]
    return "\n".join(out)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
