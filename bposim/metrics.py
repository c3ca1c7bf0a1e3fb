"""Turn one replication's accumulators into tidy metric frames (pandas only, no SimPy).

Definitions (see docs/concepts.md):
- a contact belongs to the interval in which it *arrived* at a queue;
- service level: ``sl_offered`` = answered within T / offered, ``sl_answered`` =
  answered within T / answered, ``sl_offered_excl_short`` = answered within T /
  (offered - short abandons); ``service_level`` is the queue's chosen definition;
- ASA = mean wait of answered contacts; ``mean_wait`` includes abandoned contacts'
  time to abandon and, for contacts still waiting at the end, the wait so far;
- occupancy = busy / available time, where busy is handling, wrap, consult hold and
  outbound preview, talk and wrap, and available adds idle time and time waiting on
  outbound dials; utilisation = the same busy time / paid (scheduled, attended) time,
  breaks and shrinkage included. Warm-up intervals, and intervals outside the
  scenario's measurement window (``simulation.measure``), are left out of run-level
  figures; per-interval figures cover every interval;
- ``sl_at_<T>s``: service level at a further answer time T (a queue's
  ``report_thresholds``), with the queue's own denominator; ``p_wait``: share of
  offered contacts that waited > 0 (abandoned and still-waiting ones count as waited).

Every column and run-level figure is an entry of :mod:`bposim.metric_registry`
(name, scope, unit, label, channels). Those with a ``compute`` recipe there are
computed by :func:`_extend` after the core columns below; a metric that does not apply
to a queue's channel (e.g. ASA for an email queue) is NaN in its rows of the frame and
left out of its totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim import metric_registry as registry
from bposim.engine.model import Model
from bposim.metrics_backlog import add_due
from bposim.engine.recorder import (
    AGENT_STATE_COLUMNS, AWAY, BREAK, BUSY_STATES, CAMPAIGN_COUNTS, CONTACT_COLUMNS, DIALING, IDLE,
    OUTBOUND_STATES, STATE_NAMES, TASK_STATES, Recording,
)

PERCENTILES = registry.PERCENTILES


@dataclass
class ReplicationMetrics:
    """One replication's results as frames."""

    intervals: pd.DataFrame  # interval x queue
    pools: pd.DataFrame  # interval x pool
    totals: pd.DataFrame  # tidy: metric, scope, value
    contacts: pd.DataFrame | None = None
    agent_states: pd.DataFrame | None = None
    outbound: pd.DataFrame | None = None  # interval x campaign, when there are campaigns


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _percentiles(values: np.ndarray) -> list[float]:
    if values.size == 0:
        return [np.nan] * len(PERCENTILES)
    return list(np.percentile(values, PERCENTILES))


def sl_name(threshold: float) -> str:
    """Name of the service-level metric at answer time ``threshold`` seconds: ``sl_at_60s``."""
    return f"sl_at_{threshold:g}s"


def sl_threshold_metrics(metrics) -> list[str]:
    """The ``sl_at_<T>s`` names among ``metrics``, once each, by answer time."""
    found = {}
    for m in map(str, metrics):
        if m.startswith("sl_at_") and m.endswith("s"):
            try:
                found[m] = float(m[6:-1])
            except ValueError:
                continue
    return sorted(found, key=found.get)


def sl_threshold_label(metric: str) -> str:
    """A column heading for ``sl_at_60s``: ``SL at 60 s`` (the registry's label)."""
    return registry.label(metric, "queue")


def _sl_denominator(definition: str, offered, answered, short):
    return {"offered": offered, "answered": answered, "offered_excl_short": offered - short}[definition]


def _wait_counts(waits, thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per interval: wait percentiles, answered contacts that waited > 0, and answered
    within each threshold (columns), from the answered waits of each interval.

    Vectorised over intervals (one sort per queue instead of one ``np.percentile`` call
    per interval); the percentiles repeat ``np.percentile``'s default 'linear' method
    step for step, so the values are identical to it."""
    n = len(waits)
    arrays = [np.frombuffer(w, dtype=float) for w in waits]
    counts = np.fromiter(map(len, arrays), dtype=np.intp, count=n)
    v = np.concatenate(arrays) if n else np.empty(0)
    group = np.repeat(np.arange(n), counts)
    waited = np.bincount(group[v > 0], minlength=n).astype(float)
    within = np.zeros((n, len(thresholds)))
    for k, limit in enumerate(np.asarray(thresholds, dtype=float)):
        within[:, k] = np.bincount(group[v <= limit], minlength=n)
    pcts = np.full((n, len(PERCENTILES)), np.nan)
    rows = np.flatnonzero(counts)
    if rows.size:
        ordered = v[np.lexsort((v, group))]  # each interval's waits, ascending, in interval order
        first = (np.cumsum(counts) - counts)[rows, None]
        last = (counts[rows] - 1)[:, None]
        # np.percentile, method 'linear': virtual index (n - 1) * q, its floor and the next
        # index (both the last element at or above n - 1), gamma = index - floor, then lerp
        virtual = last * np.true_divide(PERCENTILES, 100)[None, :]
        prev = np.floor(virtual)
        nxt = prev + 1
        above = virtual >= last
        prev[above] = -1
        nxt[above] = -1
        gamma = virtual - prev
        prev_i = prev.astype(np.intp)
        next_i = nxt.astype(np.intp)
        a = ordered[first + np.where(prev_i < 0, last, prev_i)]
        b = ordered[first + np.where(next_i < 0, last, next_i)]
        diff = b - a
        result = a + diff * gamma
        upper = gamma >= 0.5
        result[upper] = (b - diff * (1 - gamma))[upper]
        pcts[rows] = result
        has_nan = np.bincount(group[np.isnan(v)], minlength=n) > 0
        pcts[has_nan] = np.nan  # as np.percentile: NaN where an interval has a NaN wait
    return pcts, waited, within


def interval_starts(model: Model) -> pd.DatetimeIndex:
    """Start of each interval as local times of the horizon's reference zone."""
    start = pd.Timestamp(model.horizon.start)
    return start + pd.to_timedelta(np.arange(model.n_intervals) * model.interval, unit="s")


def _queue_frame(model: Model, rec: Recording, starts) -> pd.DataFrame:
    frames = []
    for qm, st in zip(model.queues, rec.queues):
        offered = np.asarray(st.offered, dtype=float)
        answered = np.asarray(st.answered, dtype=float)
        within = np.asarray(st.answered_within, dtype=float)
        short = np.asarray(st.short_abandoned, dtype=float)
        abandoned = np.asarray(st.abandoned, dtype=float)
        at_end = np.asarray(st.unanswered_at_end, dtype=float)
        pcts, waited, within_t = _wait_counts(st.waits, qm.report_thresholds)
        denominator = _sl_denominator(qm.sl_definition, offered, answered, short)
        sl = {
            "sl_offered": _ratio(within, offered),
            "sl_answered": _ratio(within, answered),
            "sl_offered_excl_short": _ratio(within, offered - short),
        }
        f = pd.DataFrame({
            "interval": np.arange(model.n_intervals),
            "start": starts,
            "queue": qm.id,
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "short_abandoned": short,
            "unanswered_at_end": at_end,
            "escalated": np.asarray(st.escalated, dtype=float),
            "repeats": np.asarray(st.repeats, dtype=float),
            "unresolved": np.asarray(st.unresolved, dtype=float),
            "answered_within": within,
            "service_level": sl["sl_" + qm.sl_definition],
            **sl,
            **{sl_name(t): _ratio(within_t[:, k], denominator) for k, t in enumerate(qm.report_thresholds)},
            "p_wait": _ratio(waited + abandoned + at_end, offered),
            "asa": _ratio(st.wait_answered, answered),
            "mean_wait": _ratio(st.wait_all, offered),
            **{f"wait_p{p}": pcts[:, k] for k, p in enumerate(PERCENTILES)},
        })
        frames.append(_extend(model, rec, "queue", qm, st, f))
    if not frames:  # an outbound-only centre
        return pd.DataFrame({"interval": pd.Series(dtype=int), "start": pd.Series(dtype="datetime64[ns]"),
                             "queue": pd.Series(dtype=str)})
    return pd.concat(frames, ignore_index=True)


def _pool_frame(model: Model, rec: Recording, starts) -> pd.DataFrame:
    frames = []
    for pm, st in zip(model.pools, rec.pools):
        # QA review and coaching time: registry columns of the pools that do such work
        t = {name: np.asarray(st.time[k]) for k, name in enumerate(STATE_NAMES) if k and k not in TASK_STATES}
        busy = np.sum([st.time[k] for k in BUSY_STATES], axis=0)
        available = busy + np.asarray(st.time[IDLE]) + np.asarray(st.time[DIALING])
        paid = np.asarray(st.paid)
        on_clock = available + np.asarray(st.time[AWAY]) + np.asarray(st.time[BREAK])
        frames.append(pd.DataFrame({
            "interval": np.arange(model.n_intervals),
            "start": starts,
            "pool": pm.id,
            "tier": pm.tier,
            "site": pm.site or "",
            "scheduled_agents": pm.headcount,
            **{f"{name}_s": v for name, v in t.items()},
            "busy_s": busy,
            "paid_s": paid,
            "absent_s": np.asarray(st.absent),
            "agents_available": available / model.interval,
            "occupancy": _ratio(busy, available),
            "utilisation": _ratio(busy, np.maximum(paid, on_clock)),
            "handled": np.asarray(st.handled, dtype=float),
            "escalations_taken": np.asarray(st.escalations_taken, dtype=float),
            "cost": paid / 3600.0 * pm.cost_per_hour,
        }))
        frames[-1] = _extend(model, rec, "pool", pm, st, frames[-1])
    return pd.concat(frames, ignore_index=True)


def _queue_totals(model: Model, rec: Recording, q: pd.DataFrame) -> list[tuple[str, str, float]]:
    rows = []
    keep = model.measured
    idx = np.flatnonzero(keep)
    for qm, st in zip(model.queues, rec.queues):
        f = q[q["queue"] == qm.id]
        f = f[keep[f["interval"].to_numpy()]]
        s = f[["offered", "answered", "abandoned", "short_abandoned", "unanswered_at_end",
               "escalated", "answered_within", "repeats", "unresolved"]].sum()
        waits = np.concatenate([np.frombuffer(st.waits[i], dtype=float) for i in idx] or [np.empty(0)])
        denominator = _sl_denominator(qm.sl_definition, s.offered, s.answered, s.short_abandoned)
        sl = {
            "sl_offered": _ratio(s.answered_within, s.offered),
            "sl_answered": _ratio(s.answered_within, s.answered),
            "sl_offered_excl_short": _ratio(s.answered_within, s.offered - s.short_abandoned),
        }
        values = {
            "offered": s.offered,
            "answered": s.answered,
            "abandoned": s.abandoned,
            "short_abandoned": s.short_abandoned,
            "unanswered_at_end": s.unanswered_at_end,
            "escalated": s.escalated,
            "repeats": s.repeats,
            "unresolved": s.unresolved,
            "service_level": sl["sl_" + qm.sl_definition],
            **sl,
            **{sl_name(t): _ratio(np.count_nonzero(waits <= t), denominator) for t in qm.report_thresholds},
            "p_wait": _ratio(np.count_nonzero(waits > 0) + s.abandoned + s.unanswered_at_end, s.offered),
            "asa": _ratio(np.asarray(st.wait_answered)[idx].sum(), s.answered),
            "mean_wait": _ratio(np.asarray(st.wait_all)[idx].sum(), s.offered),
            **dict(zip((f"wait_p{p}" for p in PERCENTILES), _percentiles(waits))),
            **_extend_totals(model, rec, "queue", qm, st, q[q["queue"] == qm.id]),
        }
        rows += [(k, registry.scope_key("queue", qm.id), float(v)) for k, v in values.items()
                 if _applies(k, "queue", qm)]
    return rows


def _busy_totals(f: pd.DataFrame) -> dict[str, float]:
    busy, paid = f["busy_s"].sum(), f["paid_s"].sum()
    available = f["busy_s"] + f["idle_s"] + f["dialing_s"]
    return {
        "occupancy": float(_ratio(busy, available.sum())),
        "utilisation": float(_ratio(busy, _paid_or_worked(f, available).sum())),
        "handled": float(f["handled"].sum()),
        "escalations_taken": float(f["escalations_taken"].sum()),
        "paid_hours": float(paid / 3600.0),
        "cost": float(f["cost"].sum()),
    }


def _paid_or_worked(f: pd.DataFrame, available) -> pd.Series:
    """Per interval, the paid time or, when more, the time agents were on the clock
    (available, unavailable or on break): time worked past the end of duty (overrun) is
    paid overtime, so utilisation stays at or below occupancy and 100 %."""
    return np.maximum(f["paid_s"], available + f["unavailable_s"] + f["break_s"])


def _pool_totals(model: Model, rec: Recording, p: pd.DataFrame) -> list[tuple[str, str, float]]:
    rows = []
    whole = p
    p = p[model.measured[p["interval"].to_numpy()]]
    for pm, st in zip(model.pools, rec.pools):
        values = _busy_totals(p[p["pool"] == pm.id])
        values.update({
            "overrun_hours": st.overrun / 3600.0,
            "absent_hours": float(p.loc[p["pool"] == pm.id, "absent_s"].sum() / 3600.0),
            "breaks_planned": float(st.breaks_planned),
            "breaks_taken": float(st.breaks_taken),
            "max_on_break_share": st.max_on_break_share,
            "leavers": float(st.leavers),
            "hires": float(st.hires),
            **_extend_totals(model, rec, "pool", pm, st, whole[whole["pool"] == pm.id]),
        })
        rows += [(k, registry.scope_key("pool", pm.id), v) for k, v in values.items()]
    for tier in sorted(set(p["tier"].unique())):
        rows += [(k, registry.scope_key("tier", tier), v) for k, v in _busy_totals(p[p["tier"] == tier]).items()]
    for site in sorted(set(p["site"].unique()) - {""}):
        rows += [(k, registry.scope_key("site", site), v) for k, v in _busy_totals(p[p["site"] == site]).items()]
    if (p["tier"] == "sme").any():
        rows.append(("sme_utilisation", registry.scope_key("run"), _busy_totals(p[p["tier"] == "sme"])["utilisation"]))
    return rows


def _outbound_frame(model: Model, rec: Recording, starts) -> pd.DataFrame | None:
    if not model.campaigns:
        return None
    frames = []
    for cm, st in zip(model.campaigns, rec.campaigns):
        f = pd.DataFrame({"interval": np.arange(model.n_intervals), "start": starts, "campaign": cm.id,
                          **{k: np.asarray(v, dtype=float) for k, v in st.counts.items()},
                          "talk_s": np.asarray(st.talk)})
        f["abandon_rate"] = _ratio(f["abandoned"], f["live"])
        f["abandon_rate_incl_amd"] = _ratio(f["abandoned"] + f["amd_false_positive"], f["live"])
        frames.append(_extend(model, rec, "campaign", cm, st, f))
    return pd.concat(frames, ignore_index=True)


def _outbound_totals(model: Model, rec: Recording, o: pd.DataFrame, p: pd.DataFrame):
    """Campaign results, with the abandoned-call rate as both regulators measure it:
    abandoned / live answers per 24 h (Ofcom) and over rolling 30 days (FTC), with and
    without answering-machine false positives counted as abandons."""
    rows = []
    per_day = model.horizon.intervals_per_day
    whole = o
    o = o[model.measured[o["interval"].to_numpy()]]
    p = p[model.measured[p["interval"].to_numpy()]]
    for cm, st in zip(model.campaigns, rec.campaigns):
        f = o[o["campaign"] == cm.id]
        total = f[list(CAMPAIGN_COUNTS) + ["talk_s"]].sum()
        day = f["interval"] // per_day
        daily = f.groupby(day)[["abandoned", "amd_false_positive", "live"]].sum()
        window = min(30, model.horizon.days)
        roll = daily.rolling(window, min_periods=1).sum()
        pools = p[p["pool"].isin([model.pools[i].id for i in cm.pools])]
        outbound_s = sum(pools[f"{STATE_NAMES[k]}_s"].sum() for k in OUTBOUND_STATES)
        only = [model.pools[i].id for i in cm.pools if not model.pools[i].levels]
        outbound_s += pools.loc[pools["pool"].isin(only), "idle_s"].sum()
        hours = outbound_s / 3600.0
        values = {
            **{k: float(total[k]) for k in CAMPAIGN_COUNTS},
            "abandon_rate": float(_ratio(total["abandoned"], total["live"])),
            "abandon_rate_incl_amd": float(_ratio(total["abandoned"] + total["amd_false_positive"],
                                                  total["live"])),
            "max_daily_abandon_rate": float(np.nanmax(_ratio(daily["abandoned"] + daily["amd_false_positive"],
                                                             daily["live"]), initial=0.0)),
            "max_30day_abandon_rate": float(np.nanmax(_ratio(roll["abandoned"], roll["live"]), initial=0.0)),
            "outbound_agent_hours": hours,
            "right_party_per_agent_hour": float(_ratio(total["right_party"], hours)),
            "connects_per_agent_hour": float(_ratio(total["connected"], hours)),
            "talk_minutes_per_agent_hour": float(_ratio(total["talk_s"] / 60.0, hours)),
            "list_penetration": float(_ratio(st.records_attempted, cm.n_records)),
            "list_closed": float(_ratio(st.records_closed, cm.n_records)),
            **_extend_totals(model, rec, "campaign", cm, st, whole[whole["campaign"] == cm.id]),
        }
        rows += [(k, registry.scope_key("campaign", cm.id), v) for k, v in values.items()]
    return rows


def _extend(model: Model, rec: Recording, scope: str, item, stats, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (one queue's, pool's or campaign's rows, interval 0..n-1) with the
    registry's computed columns of ``scope`` added in registry order; a queue's columns
    that do not apply to its channel are NaN."""
    src = registry.Source(model, rec, item, stats, frame, model.measured)
    for m in registry.extensions(scope):
        if not m.interval or m.compute.interval is None or (m.applies is not None and not m.applies(item)):
            continue  # a feature this queue / pool / campaign does not have: no column
        frame[m.name] = (np.asarray(m.compute.run("interval", src), dtype=float) if m.applies_to(item)
                         else np.nan)  # another channel's figure: NaN, as below
    if scope == "queue":
        for col in frame.columns:
            if not _applies(col, scope, item):
                frame[col] = np.nan
    return frame


def _extend_totals(model: Model, rec: Recording, scope: str, item, stats, frame: pd.DataFrame) -> dict:
    """The run-level figures of the registry's computed metrics of ``scope`` for one
    queue, pool or campaign (``frame``: its per-interval rows, every interval)."""
    frame = frame.reset_index(drop=True)
    src = registry.Source(model, rec, item, stats, frame, model.measured[frame["interval"].to_numpy()])
    return {m.name: float(m.compute.run("total", src)) for m in registry.extensions(scope)
            if m.total and m.compute.total is not None and m.applies_to(item)}


def _applies(name: str, scope: str, item) -> bool:
    """Whether metric ``name`` exists for ``item`` (unregistered names: yes)."""
    m = registry.find(name, scope)
    return m is None or m.applies_to(item)


def replication_metrics(model: Model, rec: Recording) -> ReplicationMetrics:
    """All frames for one replication."""
    starts = interval_starts(model)
    q = _queue_frame(model, rec, starts)
    p = _pool_frame(model, rec, starts)
    o = _outbound_frame(model, rec, starts)
    rows = _queue_totals(model, rec, q) + _pool_totals(model, rec, p)
    if o is not None:
        rows += _outbound_totals(model, rec, o, p)
    external = [qm for qm in model.queues if qm.volumes.any()]
    keep = model.measured
    f = q[keep[q["interval"].to_numpy()] & q["queue"].isin([qm.id for qm in external])]
    run = registry.scope_key("run")
    if len(f):
        rows.append(("offered", run, float(f["offered"].sum())))
    # contacts that can abandon or wait for an answer (voice, chat) apart from backlog items
    # (email, back office: closed within a due time); a centre without one kind has no figure
    for ids, pairs in (([qm.id for qm in external if qm.channel in registry.REAL_TIME],
                        (("abandon_rate", "abandoned"), ("sl_offered", "answered_within"))),
                       ([qm.id for qm in external if qm.channel in registry.DEFERRABLE],
                        (("sl_due", "answered_within"),))):
        g = f[f["queue"].isin(ids)]
        if len(g):
            off = g["offered"].sum()
            rows += [(name, run, float(_ratio(g[col].sum(), off))) for name, col in pairs]
    cost = float(p.loc[keep[p["interval"].to_numpy()], "cost"].sum())
    answered = float(f["answered"].sum()) if len(f) else 0.0
    rows += [("cost", run, cost), ("cost_per_contact", run, float(_ratio(cost, answered)))]
    rows += [(k, run, v) for k, v in _extend_totals(model, rec, "run", None, None, q).items()]
    totals = pd.DataFrame(rows, columns=["metric", "scope", "value"])
    contacts = (pd.DataFrame(rec.contacts, columns=list(CONTACT_COLUMNS))
                if rec.contacts is not None else None)
    contacts = add_due(contacts, model)  # deferrable items' due times, when there are any
    states = (pd.DataFrame(rec.agent_states, columns=list(AGENT_STATE_COLUMNS))
              if rec.agent_states is not None else None)
    return ReplicationMetrics(q, p, totals, contacts, states, o)
