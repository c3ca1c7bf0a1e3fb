"""What customers and routing did besides arriving, waiting and being served:
transfers between queues, redials after abandoning, and priority overtaking.

Transfers are simulated (queue ``escalations``). Redials and a delay-based priority
head start are estimated and reported only: the redialled calls are already in the
volumes, and priority classes share a queue in the log (the engine can simulate both,
with a queue's ``retrial`` and ``head_start``, once the scenario is set up for them).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim.calibration.logs import ContactLog

Z95 = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval of a proportion k / n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    d = 1 + Z95**2 / n
    c = (p + Z95**2 / (2 * n)) / d
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / d
    return max(c - h, 0.0), min(c + h, 1.0)


def transfers(log: ContactLog) -> pd.DataFrame:
    """Per (from queue, to queue): transfers, answered contacts of the source, rate, 95 % CI.

    A transfer is an answered contact with ``transfer_to`` set, or a contact whose
    ``parent`` is an answered contact of the log (either counts once)."""
    f = log.frame
    answered = f[f["outcome"] == "answered"]
    pairs = []
    if answered["transfer_to"].notna().any():
        t = answered[answered["transfer_to"].notna()]
        pairs.append(pd.DataFrame({"id": t["id"], "from": t["queue"], "to": t["transfer_to"]}))
    children = f[f["parent"].notna()]
    if not children.empty:
        queue_of = dict(zip(answered["id"], answered["queue"]))
        src = children["parent"].map(queue_of)
        ok = src.notna()
        pairs.append(pd.DataFrame({"id": children.loc[ok, "parent"], "from": src[ok],
                                   "to": children.loc[ok, "queue"]}))
    if not pairs:
        return pd.DataFrame(columns=["from", "to", "transfers", "answered", "rate", "ci_low", "ci_high"])
    p = pd.concat(pairs).drop_duplicates(subset=["id", "to"])
    base = answered.groupby("queue").size()
    rows = []
    for (a, b), g in p.groupby(["from", "to"]):
        n, k = int(base.get(a, 0)), len(g)
        lo, hi = wilson(k, n)
        rows.append(dict(**{"from": a, "to": b}, transfers=k, answered=n, rate=k / n if n else math.nan,
                         ci_low=lo, ci_high=hi))
    return pd.DataFrame(rows)


def redials(log: ContactLog, window_hours: float = 24.0) -> dict | None:
    """Share of abandoned contacts (of identified customers) followed by another contact
    of the same customer within ``window_hours``, and the delay until it; ``None``
    when the log names no customers."""
    f = log.frame[log.frame["customer"].notna()]
    if f.empty:
        return None
    origin = pd.Timestamp(min(log.days))
    t0 = (pd.to_datetime(f["day"]) - origin).dt.total_seconds().to_numpy() + f["arrival"].to_numpy()
    t1 = t0 - f["arrival"].to_numpy() + f["end"].to_numpy()
    g = pd.DataFrame({"c": f["customer"].to_numpy(), "t0": t0, "t1": t1,
                      "ab": (f["outcome"] == "abandoned").to_numpy()}).sort_values(["c", "t0"])
    nxt = g.groupby("c")["t0"].shift(-1)
    ab = g["ab"].to_numpy()
    gap = (nxt - g["t1"]).to_numpy()
    back = ab & (gap <= window_hours * 3600) & ~np.isnan(gap)
    n, k = int(ab.sum()), int(back.sum())
    if n == 0:
        return None
    lo, hi = wilson(k, n)
    delays = gap[back]
    return dict(abandoned=n, redialled=k, probability=k / n, ci_low=lo, ci_high=hi,
                window_hours=window_hours,
                delay_mean=float(delays.mean()) if k else math.nan,
                delay_median=float(np.median(delays)) if k else math.nan,
                customers_identified=float(len(f) / len(log.frame)))


def overtaking(log: ContactLog) -> pd.DataFrame:
    """Per queue with priority classes: how often a high-priority contact was answered
    before regular contacts that had arrived earlier, and by how much earlier they
    had arrived (the head start a delay-based priority rule would need)."""
    f = log.frame[(log.frame["outcome"] == "answered") & log.frame["priority"].notna()]
    if f.empty:
        return pd.DataFrame()
    high = set(log.high_priority) or {str(f["priority"].max())}
    is_high = f["priority"].map(lambda v: (f"{v:g}" in high) or (str(v) in high))
    rows = []
    for q, g in f.groupby("queue"):
        h, r = g[is_high[g.index]], g[~is_high[g.index]]
        if len(h) < 10 or len(r) < 10:
            continue
        gaps, overtook = [], 0
        for day, hd in h.groupby("day"):
            rd = r[r["day"] == day]
            if rd.empty:
                continue
            ra, rs = rd["arrival"].to_numpy(), rd["answer"].to_numpy()
            for start in range(0, len(hd), 500):
                part = hd.iloc[start:start + 500]
                ha, hs = part["arrival"].to_numpy()[:, None], part["answer"].to_numpy()[:, None]
                passed = (ra < ha) & (rs > hs)
                first = np.where(passed, ra, np.inf).min(axis=1)
                got = np.isfinite(first)
                overtook += int(got.sum())
                gaps.append((ha[:, 0] - first)[got])
        gaps = np.concatenate(gaps) if gaps else np.empty(0)
        rows.append(dict(queue=q, high=len(h), regular=len(r), overtook=overtook,
                         share=overtook / len(h), head_start_median=float(np.median(gaps)) if gaps.size else 0.0,
                         head_start_p90=float(np.quantile(gaps, 0.9)) if gaps.size else 0.0,
                         asa_high=float(h["wait"].mean()), asa_regular=float(r["wait"].mean())))
    return pd.DataFrame(rows)
