"""Backtest: replay logged days through a calibrated scenario and compare with what happened.

Each chosen day is simulated with the day's observed external arrivals per interval
(as the Poisson means), the staffing inferred from the day's agent activity, and
the scenario's handle times, patience and transfers. Per interval and queue, and
per day: service level (answered within T / offered), abandonment and ASA,
observed against the simulated mean over replications, and against Erlang A on the
same inputs. Erlang A gets, per queue and interval, the observed offered load, the
scenario's mean handle time and patience, and the agents of the pools serving the
queue, each pool's headcount split over its queues in proportion to the service
time it gave them that interval (rounded); patience that is not exponential is
replaced by an exponential one (see :func:`erlang_patience`).

Both models are scored on the same intervals (those where Erlang A has agents).
``noise_mae`` is the mean absolute error expected from sampling noise alone if the
model were exactly right: the observed value is one draw and the simulated mean
an average of R, so E|obs - sim| = sqrt(2/pi) sd sqrt(1 + 1/R), with sd the
replications' standard deviation in each interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bposim import erlang
from bposim.calibration.logs import ContactLog, parse_days, read_log
from bposim.calibration.sessions import infer_staffing
from bposim.calibration.write import ident
from bposim.errors import InputError
from bposim.scenario.schema import Arrivals, Horizon, Pool, Scenario, Skill, Staffing

METRICS = ("sl", "abandon", "asa")
MAX_SEED = 2**63 - 1
ERLANG_PATIENCE_HORIZON = 600.0  # seconds; see erlang_patience
SIM_COLUMN = {"sl": "sl_offered", "abandon": "abandon_rate", "asa": "asa"}


OUTPUTS = ("backtest_intervals.csv", "backtest_days.csv", "backtest_summary.csv", "backtest.png")


def check_outputs(out: str | Path, force: bool = False) -> None:
    """Refuse, before any work, an ``out`` that cannot be the output folder (a file is in
    the way) or whose output files exist (unless ``force``) with an :class:`InputError`."""
    from bposim.outputs import check_output_folder, refuse_existing

    out = Path(out)
    check_output_folder(out, "--out")
    for name in OUTPUTS:
        if (out / name).is_dir():
            raise InputError(f"{out / name} is a folder; choose another --out")
    refuse_existing([out / name for name in OUTPUTS], force)


@dataclass
class Backtest:
    """Observed vs simulated vs Erlang A, per interval and per day, and the error summary."""

    intervals: pd.DataFrame
    days: pd.DataFrame
    summary: pd.DataFrame
    replications: int
    min_offered: int

    def write(self, out: str | Path, force: bool = False) -> list[Path]:
        """Write the three tables (CSV) and the figure (PNG) into directory ``out``."""
        from bposim.outputs import atomic_write_frame

        out = Path(out)
        names = list(OUTPUTS)
        check_outputs(out, force)
        out.mkdir(parents=True, exist_ok=True)
        for frame, name in zip((self.intervals, self.days, self.summary), names):
            atomic_write_frame(frame, out / name)
        from bposim.calibration.report import backtest_figure, save_figure

        save_figure(backtest_figure(self), out / names[3])
        return [out / n for n in names]


def observed(log: ContactLog, interval_minutes: int, answer_within: dict[str, float]) -> pd.DataFrame:
    """Per day, queue and interval: offered, answered within T, abandoned, ASA."""
    f = log.frame
    k = (f["arrival"] // (interval_minutes * 60)).clip(0, 24 * 60 // interval_minutes - 1).astype(int)
    t = f["queue"].map(lambda q: answer_within.get(ident(q), 20.0))
    ans = f["outcome"] == "answered"
    frame = pd.DataFrame({"day": f["day"], "queue": f["queue"].map(ident), "interval": k,
                          "within": ans & (f["wait"] <= t), "abandoned": ~ans,
                          "answered": ans, "wait_answered": f["wait"].where(ans, 0.0)})
    g = frame.groupby(["day", "queue", "interval"])
    out = pd.DataFrame({"offered": g.size(), "within": g["within"].sum(), "answered": g["answered"].sum(),
                        "abandoned": g["abandoned"].sum(), "wait_answered": g["wait_answered"].sum()})
    return out.reset_index()


def _day_scenario(base: Scenario, day, volumes: dict[str, np.ndarray], pools: list[Pool]) -> Scenario:
    queues = []
    for q in base.queues:
        if q.arrivals is None and q.id not in volumes:
            queues.append(q)
            continue
        v = volumes.get(q.id, np.zeros(base.horizon.intervals_per_day))
        queues.append(replace(q, arrivals=Arrivals(volumes=tuple(float(x) for x in v))))
    return replace(base, name=f"{base.name}: backtest {day}", queues=tuple(queues), pools=tuple(pools),
                   horizon=Horizon(start=day, days=1, interval_minutes=base.horizon.interval_minutes,
                                   timezone=base.horizon.timezone),
                   sites=(), campaigns=(), source=None)


def backtest(scenario, log, days: str | None = None, *, columns=None, preset: str | None = None,
             replications: int = 10, seed: int | None = None, session_gap_minutes: float = 15.0,
             min_share: float = 0.10, min_offered: int = 10, workers: int = 1) -> Backtest:
    """Backtest ``scenario`` (a path or Scenario) on ``days`` of the contact ``log``.

    ``min_offered``: intervals with fewer observed contacts are left out of the error
    summary (their rates are mostly noise); they stay in the interval table.
    """
    import bposim

    if isinstance(scenario, (str, Path)):
        scenario = bposim.load_scenario(scenario)
    if replications < 2:
        raise InputError(f"replications must be at least 2, got {replications}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError(f"the seed must be an integer from 0 to {MAX_SEED}, got {seed}")
    if not isinstance(log, ContactLog):
        log = read_log(log, columns, preset)
    chosen = parse_days(days, log.days, log.file)
    seed = scenario.simulation.seed if seed is None else seed
    minutes = scenario.horizon.interval_minutes
    per_day = scenario.horizon.intervals_per_day
    known = {q.id: q for q in scenario.queues}
    unknown = sorted({ident(q) for q in log.subset(chosen).frame["queue"]} - set(known))
    if unknown:
        day_log = log.subset(chosen).frame
        line = int(day_log.loc[day_log["queue"].map(ident) == unknown[0], "line"].min())
        raise InputError(f"{log.file}:{line}: queue {unknown[0]!r} is not in the scenario "
                         f"(its queues: {', '.join(known)})")
    t_of = {q.id: q.service_level.answer_within for q in scenario.queues}
    obs = observed(log.subset(chosen), minutes, t_of)
    rows = []
    for n, day in enumerate(chosen):
        one = log.subset([day])
        staff = infer_staffing(one, minutes, session_gap_minutes, min_share)
        f = one.frame
        ext = f[f["parent"].isna()]
        k = (ext["arrival"] // (minutes * 60)).clip(0, per_day - 1).astype(int)
        volumes = {q: np.bincount(k[ext["queue"].map(ident) == q], minlength=per_day).astype(float)
                   for q in {ident(x) for x in ext["queue"]}}
        pools = []
        for pid, skills in staff.pools.items():
            head = staff.headcount(pid, day)
            pools.append(Pool(id=ident(pid), skills=tuple(Skill(ident(s)) for s in skills),
                              staffing=Staffing(per_interval=tuple(int(x) for x in head))))
        served = {s.queue for p in pools for s in p.skills}
        for q in scenario.queues:  # a queue nobody served that day: the busiest pool takes it
            if q.id not in served and (q.id in volumes or q.arrivals is None):
                big = max(range(len(pools)), key=lambda i: sum(pools[i].staffing.per_interval))
                pools[big] = replace(pools[big], skills=pools[big].skills + (Skill(q.id),))
        sc = _day_scenario(scenario, day, volumes, pools)
        res = bposim.run(sc, replications, seed + n, workers=workers, executor="serial" if workers == 1
                         else "processes")
        sim = res.intervals
        g = sim.groupby(["queue", "interval"])
        stats = pd.DataFrame({f"sim_{m}": g[SIM_COLUMN[m]].mean() for m in METRICS})
        for m in METRICS:
            stats[f"sim_{m}_sd"] = g[SIM_COLUMN[m]].std(ddof=1)
        day_totals = sim.groupby("replication")[["offered", "answered_within", "abandoned", "answered"]].sum()
        wait_tot = (sim["asa"].fillna(0) * sim["answered"]).groupby(sim["replication"]).sum()
        erl = _erlang_a(scenario, one, staff, day, minutes)
        o = obs[obs["day"] == day].set_index(["queue", "interval"])
        frame = stats.join(o, how="outer").join(erl, how="left").reset_index()
        frame["day"] = day
        rows.append((frame, day_totals, wait_tot))
    return _summarise(rows, replications, min_offered)


def _erlang_a(scenario: Scenario, one: ContactLog, staff, day, minutes: int) -> pd.DataFrame:
    """Erlang A per queue and interval on the day's observed inputs (module docstring)."""
    width = minutes * 60.0
    per_day = 24 * 60 // minutes
    f = one.frame
    served = f[f["outcome"] == "answered"].assign(pool=lambda x: x["agent"].map(staff.agent_pool))
    k = (served["answer"] // width).clip(0, per_day - 1).astype(int)
    work = served.assign(k=k, q=served["queue"].map(ident)).groupby(["pool", "k", "q"])["handle"].sum()
    agents = {q.id: np.zeros(per_day) for q in scenario.queues}
    for pid in staff.pools:
        head = staff.headcount(pid, day).astype(float)
        if pid not in work.index.get_level_values(0):
            continue
        w = work.loc[pid].unstack("q", fill_value=0.0).reindex(range(per_day), fill_value=0.0)
        share = w.div(w.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
        for q in share.columns:
            if q in agents:
                agents[q] += head * share[q].to_numpy()
    offered = f.assign(k=(f["arrival"] // width).clip(0, per_day - 1).astype(int),
                       q=f["queue"].map(ident)).groupby(["q", "k"]).size()
    out = []
    for q in scenario.queues:
        n = np.rint(agents[q.id])
        vol = offered.loc[q.id].reindex(range(per_day), fill_value=0).to_numpy(dtype=float) \
            if q.id in offered.index.get_level_values(0) else np.zeros(per_day)
        aht = q.handle_time.expected + (q.after_work.expected if q.after_work else 0.0)
        load = vol / width * aht
        patience = erlang_patience(q.patience)
        sl, ab, asa = (np.full(per_day, np.nan) for _ in range(3))
        ok = (n > 0) & (load > 0)
        if ok.any():
            r = erlang.erlang_a(load[ok], n[ok], aht, patience, q.service_level.answer_within)
            sl[ok], ab[ok], asa[ok] = r.service_level, r.p_abandon, r.asa
        out.append(pd.DataFrame({"queue": q.id, "interval": np.arange(per_day), "erlang_agents": n,
                                 "erlang_sl": sl, "erlang_abandon": ab, "erlang_asa": asa}))
    return pd.concat(out).set_index(["queue", "interval"])


def erlang_patience(spec, horizon: float = ERLANG_PATIENCE_HORIZON) -> float:
    """The exponential patience mean Erlang A is given for a queue's patience ``spec``:
    its mean when exponential; otherwise the mean of the exponential with the same
    average hazard over the first ``horizon`` seconds of waiting, F(L) / int_0^L S(t) dt
    (an exponential gives back its own mean; a heavy-tailed fit's mean, set by waits
    nobody had, does not drive the comparison). ``inf`` without patience."""
    if spec is None:
        return math.inf
    if spec.kind == "exponential":
        return float(spec.mean)
    rng = np.random.default_rng(0)  # a fixed sample of the distribution: deterministic
    t = spec.sample(rng, 200_000)
    exposure = np.minimum(t, horizon).mean()
    share = (t < horizon).mean()
    return float(exposure / share) if share > 0 else math.inf


def _summarise(rows, replications: int, min_offered: int) -> Backtest:
    frames = []
    day_rows = []
    for frame, totals, wait_tot in rows:
        frame["offered"] = frame["offered"].fillna(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["obs_sl"] = frame["within"] / frame["offered"]
            frame["obs_abandon"] = frame["abandoned"] / frame["offered"]
            frame["obs_asa"] = frame["wait_answered"] / frame["answered"]
        frames.append(frame)
        day = frame["day"].iloc[0]
        o = frame[["offered", "within", "abandoned", "answered", "wait_answered"]].sum()
        sim_sl = totals["answered_within"] / totals["offered"]
        sim_ab = totals["abandoned"] / totals["offered"]
        sim_asa = wait_tot / totals["answered"]
        w = frame["offered"].to_numpy()

        def weighted(col):
            v = frame[col].to_numpy(dtype=float)
            ok = ~np.isnan(v) & (w > 0)
            return float(np.average(v[ok], weights=w[ok])) if ok.any() else np.nan

        wa = (frame["offered"] * (1 - frame["erlang_abandon"])).to_numpy(dtype=float)
        ok = ~np.isnan(frame["erlang_asa"].to_numpy(dtype=float)) & (wa > 0)
        day_rows.append(dict(
            day=day, offered=int(o["offered"]), obs_sl=o["within"] / o["offered"],
            obs_abandon=o["abandoned"] / o["offered"], obs_asa=o["wait_answered"] / max(o["answered"], 1),
            sim_sl=sim_sl.mean(), sim_sl_sd=sim_sl.std(ddof=1), sim_abandon=sim_ab.mean(),
            sim_abandon_sd=sim_ab.std(ddof=1), sim_asa=sim_asa.mean(), sim_asa_sd=sim_asa.std(ddof=1),
            erlang_sl=weighted("erlang_sl"), erlang_abandon=weighted("erlang_abandon"),
            erlang_asa=float(np.average(frame["erlang_asa"].to_numpy(dtype=float)[ok], weights=wa[ok]))
            if ok.any() else np.nan))
    intervals = pd.concat(frames, ignore_index=True)
    cols = ["day", "queue", "interval", "offered", "erlang_agents"] + \
        [f"{p}_{m}" for m in METRICS for p in ("obs", "sim", "erlang")] + [f"sim_{m}_sd" for m in METRICS]
    intervals = intervals[cols].sort_values(["day", "queue", "interval"]).reset_index(drop=True)
    days = pd.DataFrame(day_rows)
    summary = []
    big = intervals[intervals["offered"] >= min_offered]
    factor = math.sqrt(2 / math.pi) * math.sqrt(1 + 1 / replications)
    for level, frame in (("interval", big), ("day", days)):
        for m in METRICS:
            a = frame[f"obs_{m}"].to_numpy(dtype=float)
            # both models on the same intervals: those where each gives a value
            ok = ~np.isnan(a) & ~np.isnan(frame[f"sim_{m}"].to_numpy(dtype=float)) \
                & ~np.isnan(frame[f"erlang_{m}"].to_numpy(dtype=float))
            for model in ("sim", "erlang"):
                b = frame[f"{model}_{m}"].to_numpy(dtype=float)
                err = np.abs(a[ok] - b[ok])
                corr = float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 and a[ok].std() > 0 \
                    and b[ok].std() > 0 else np.nan
                sd = frame[f"sim_{m}_sd"].to_numpy(dtype=float)[ok] if model == "sim" else None
                summary.append(dict(level=level, metric=m, model="simulation" if model == "sim" else "Erlang A",
                                    n=int(ok.sum()), mae=float(err.mean()) if err.size else np.nan,
                                    correlation=corr,
                                    noise_mae=float(np.nanmean(sd) * factor) if sd is not None and sd.size
                                    else np.nan))
    return Backtest(intervals, days, pd.DataFrame(summary), replications, min_offered)
