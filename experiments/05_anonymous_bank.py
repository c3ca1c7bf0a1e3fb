"""Experiment 5: a real call centre - simulated against observed, hour by hour.

Data: the "Anonymous Bank" call log of the Technion SEE-Center (Avi Mandelbaum), an
Israeli bank's call centre in August 1999, studied by Brown et al. (JASA 2005). The
log is read from ../shared/data/anonymous_bank/calls_1999_08_01_to_15.csv beside the
repository (never copied into it); without it the script says so and exits 0.

For one weekday (default Monday 2 August 1999) and the regular-service calls (type
PS), fitted from the log:

- arrivals: calls that reached the agent queue (served, or abandoned from the queue;
  calls that hung up in the voice-response unit never reached it, and PHANTOM
  records are dropped), counted per hour: a Poisson rate per hour;
- handle time: lognormal with the mean and CV of the served calls' service times;
- patience: exponential, by the censored maximum-likelihood estimate: mean = total
  time all callers spent in the queue / number who abandoned (a served caller's wait
  is a lower bound on their patience);
- staffing, three estimates per hour: ``servers``, the number of distinct agents who
  started serving a PS call in the hour; ``capacity``, the number of distinct agents
  serving any call type in the hour minus the agent-hours they spent on other types
  (the agents serve every type, so PS gets only part of them); and ``busy``, the
  agent-hours of PS service delivered in the hour, rounded (at least 1 when calls
  arrive): the effective PS headcount if the agents on PS were never idle, which the
  long queues of the log suggest. ``busy`` is read from the outcome it is then used to
  predict (the work delivered), so it is a consistency check more than a forecast.

Each is simulated (20 replications) and compared with what the log shows per hour and
for the day: service level (answered within 20 s / offered), abandonment and ASA.
The model is deliberately the textbook one (one FIFO queue, exponential patience, no
priorities, constant staffing within the hour): the gaps are the point.

Run: python experiments/05_anonymous_bank.py [--quick] [--out DIR] [--date 990802]
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bposim.distributions import DistributionSpec, exponential  # noqa: E402
from bposim.scenario.schema import (  # noqa: E402
    Arrivals, Horizon, Pool, Queue, Scenario, ServiceLevelTarget, SimulationSettings, Skill,
    Staffing,
)

SEED = 20240605
DATE = 990802
T = 20.0
FILE = "calls_1999_08_01_to_15.csv"
ACKNOWLEDGEMENT = ("Data: Anonymous Bank call log, Technion SEE-Center (Service Enterprise "
                   "Engineering), courtesy of Avi Mandelbaum; Brown et al., JASA 2005.")
FULL = dict(replications=20)
QUICK = dict(replications=6)
STAFFING = ("servers", "capacity", "busy")


def data_path() -> Path | None:
    """The call log beside the repository (../shared/data/anonymous_bank/), or None."""
    path = common.REPO.parent / "shared" / "data" / "anonymous_bank" / FILE
    return path if path.is_file() else None


def _seconds(text: pd.Series) -> np.ndarray:
    parts = text.astype(str).str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def read_day(path: Path, date: int = DATE, call_type: str = "PS") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the day's queue arrivals of ``call_type``, every served call of the day).

    Arrivals: one row per call that reached the queue, with ``arrival`` (s after
    midnight: q_start, or ser_start when it never queued - q_start is 0:00:00 then),
    ``hour``, ``wait`` (q_time), ``served``, ``service`` (ser_time). Rows in the file
    are sorted by time as text; nothing here depends on their order.
    """
    log = pd.read_csv(path, dtype={"q_start": str, "ser_start": str, "server": str})
    day = log[log["date"] == date]
    if day.empty:
        raise SystemExit(f"no calls on {date} in {path}")
    queued = day["q_start"].astype(str) != "0:00:00"
    calls = day[(day["type"] == call_type) & (day["outcome"] != "PHANTOM")
                & (queued | (day["outcome"] == "AGENT"))].copy()
    q = calls["q_start"].astype(str) != "0:00:00"
    arrival = np.where(q, _seconds(calls["q_start"]), _seconds(calls["ser_start"]))
    arrivals = pd.DataFrame({"arrival": arrival, "hour": arrival // 3600,
                             "wait": calls["q_time"].to_numpy(dtype=float),
                             "served": (calls["outcome"] == "AGENT").to_numpy(),
                             "service": calls["ser_time"].to_numpy(dtype=float)})
    served = day[day["outcome"] == "AGENT"].copy()
    served["start"] = _seconds(served["ser_start"])
    served["hour"] = served["start"] // 3600
    return arrivals, served[["type", "server", "start", "hour", "ser_time"]]


def fit(arrivals: pd.DataFrame, served: pd.DataFrame, call_type: str = "PS") -> dict:
    """Hourly volumes, handle-time mean/CV, patience mean, and both staffing estimates."""
    hours = np.arange(24)
    volumes = arrivals.groupby("hour").size().reindex(hours, fill_value=0).to_numpy(dtype=float)
    s = arrivals.loc[arrivals["served"], "service"].to_numpy()
    abandons = int((~arrivals["served"]).sum())
    mine = served[served["type"] == call_type]
    servers = mine.groupby("hour")["server"].nunique().reindex(hours, fill_value=0)
    everyone = served.groupby("hour")["server"].nunique().reindex(hours, fill_value=0)
    other = (served[served["type"] != call_type].groupby("hour")["ser_time"].sum()
             .reindex(hours, fill_value=0) / 3600.0)
    capacity = np.maximum(np.rint(everyone - other), 0).astype(int)
    ps_hours = (mine.groupby("hour")["ser_time"].sum().reindex(hours, fill_value=0) / 3600.0).to_numpy()
    busy = np.where(volumes > 0, np.maximum(np.rint(ps_hours), 1), 0).astype(int)
    return dict(busy=busy, ps_hours=ps_hours, volumes=volumes, aht=float(s.mean()), cv=float(s.std(ddof=1) / s.mean()),
                patience=float(arrivals["wait"].sum() / max(abandons, 1)), abandons=abandons,
                servers=servers.to_numpy(dtype=int), capacity=np.asarray(capacity, dtype=int),
                all_servers=everyone.to_numpy(dtype=int), other_hours=other.to_numpy())


def _day(date: int) -> dt.date:
    """YYMMDD (the log's format) as a date."""
    yy = date // 10000
    return dt.date(1900 + yy if yy >= 50 else 2000 + yy, date // 100 % 100, date % 100)


def scenario(fitted: dict, staffing: str, date: int = DATE) -> Scenario:
    day = _day(date)
    queue = Queue(id="ps", handle_time=DistributionSpec("lognormal", mean=fitted["aht"], cv=fitted["cv"]),
                  arrivals=Arrivals(volumes=tuple(float(v) for v in fitted["volumes"])),
                  patience=exponential(fitted["patience"]),
                  service_level=ServiceLevelTarget(answer_within=T, target=0.8, definition="offered"))
    pool = Pool(id="agents", skills=(Skill("ps"),),
                staffing=Staffing(per_interval=tuple(int(n) for n in fitted[staffing])))
    return Scenario(name=f"Anonymous Bank {date} PS, staffing {staffing}",
                    horizon=Horizon(start=day, days=1, interval_minutes=60),
                    queues=(queue,), pools=(pool,), simulation=SimulationSettings())


def observed_hourly(arrivals: pd.DataFrame) -> pd.DataFrame:
    g = arrivals.groupby("hour")
    return pd.DataFrame({
        "offered": g.size(),
        "sl": g.apply(lambda f: float((f["served"] & (f["wait"] <= T)).mean())),
        "abandon": g.apply(lambda f: float((~f["served"]).mean())),
        "asa": g.apply(lambda f: float(f.loc[f["served"], "wait"].mean()) if f["served"].any() else np.nan),
    }).reset_index()


def observed_day(arrivals: pd.DataFrame) -> dict:
    a = arrivals
    return dict(offered=len(a), sl=float((a["served"] & (a["wait"] <= T)).mean()),
                abandon=float((~a["served"]).mean()), asa=float(a.loc[a["served"], "wait"].mean()))


def comparison(quick: bool = False, seed: int = SEED, workers: int = 2, date: int = DATE):
    """(day table, hourly table, fitted parameters), or None when the data are absent.

    Day table: one row per staffing estimate × quantity (sl, abandon, asa): observed,
    simulated mean and 95 % CI. Hourly table: per hour, observed and simulated (mean,
    95 % CI) per staffing estimate, with the staffing and volume used.
    """
    path = data_path()
    if path is None:
        return None
    cfg = QUICK if quick else FULL
    arrivals, served = read_day(path, date)
    fitted = fit(arrivals, served)
    results = common.run_many({s: scenario(fitted, s, date) for s in STAFFING}, cfg["replications"],
                              seed, workers)
    obs = observed_day(arrivals)
    metric_of = {"sl": "sl_offered", "abandon": "abandon_rate", "asa": "asa"}
    day_rows = []
    for s, res in results.items():
        for q, metric in metric_of.items():
            m, lo, hi = common.interval(common.per_replication(res, metric, "queue:ps"))
            day_rows.append(dict(staffing=s, quantity=q, observed=obs[q], simulated=m, ci_low=lo,
                                 ci_high=hi, within_ci=bool(lo <= obs[q] <= hi)))
    hourly = observed_hourly(arrivals).rename(columns={"sl": "sl_observed", "abandon": "abandon_observed",
                                                       "asa": "asa_observed"})
    hourly["servers"] = fitted["servers"][hourly["hour"]]
    hourly["capacity"] = fitted["capacity"][hourly["hour"]]
    hourly["busy"] = fitted["busy"][hourly["hour"]]
    hourly["ps_agent_hours"] = fitted["ps_hours"][hourly["hour"]]
    for s, res in results.items():
        f = res.intervals
        for q, metric in (("sl", "service_level"), ("abandon", "abandon_rate"), ("asa", "asa")):
            stats = (f.groupby("interval")[metric]
                     .apply(lambda v: pd.Series(common.interval(v), index=["mean", "low", "high"]))
                     .unstack())
            hourly[f"{q}_{s}"] = stats["mean"].reindex(hourly["hour"]).to_numpy()
            hourly[f"{q}_{s}_low"] = stats["low"].reindex(hourly["hour"]).to_numpy()
            hourly[f"{q}_{s}_high"] = stats["high"].reindex(hourly["hour"]).to_numpy()
    params = dict(date=date, offered=int(len(arrivals)), aht=fitted["aht"], cv=fitted["cv"],
                  patience=fitted["patience"], abandons=fitted["abandons"],
                  agent_hours_servers=int(fitted["servers"].sum()),
                  agent_hours_capacity=int(fitted["capacity"].sum()),
                  agent_hours_busy=int(fitted["busy"].sum()),
                  ps_service_hours=round(float(fitted["ps_hours"].sum()), 1))
    return pd.DataFrame(day_rows), hourly, params


def bank_table(quick: bool = False, seed: int = SEED, workers: int = 2) -> pd.DataFrame | None:
    """The day table of :func:`comparison`, or None without the data."""
    out = comparison(quick, seed, workers)
    return None if out is None else out[0]


def figure(hourly: pd.DataFrame, params: dict):
    day = _day(params["date"]).strftime("%a %d %b %Y")
    fig, axes = common.figure(3, 1, title=f"Anonymous Bank, {day}, regular (PS) calls: observed vs "
                              f"simulated per hour (95 % CI)\n{ACKNOWLEDGEMENT}", size=(10, 10.5),
                              sharex=True)
    h = hourly[hourly["offered"] >= 10]
    styles = {"servers": ("C1", "distinct PS servers", -0.15),
              "capacity": ("C2", "capacity left for PS", 0.0),
              "busy": ("C0", "PS agent-hours served", 0.15)}
    labels = {"sl": ("service level, answered within 20 s / offered (%)", 100),
              "abandon": ("abandoned / offered (%)", 100), "asa": ("ASA (s)", 1)}
    for ax, (q, (label, scale)) in zip(axes[:, 0], labels.items()):
        ax.plot(h["hour"], h[f"{q}_observed"] * scale, "ko-", label="observed (log)")
        for s, (colour, name, shift) in styles.items():
            y = h[f"{q}_{s}"] * scale
            ax.errorbar(h["hour"] + shift, y,
                        yerr=[y - h[f"{q}_{s}_low"] * scale, h[f"{q}_{s}_high"] * scale - y],
                        fmt="s--", ms=4, capsize=2, color=colour, label=f"simulated, staffing = {name}")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    axes[-1, 0].set_xlabel("hour of the day (hours with at least 10 PS calls)")
    fig._suptitle.set_fontsize(10)
    return fig


def main(argv=None) -> dict:
    p = common.parser(__doc__.splitlines()[0], SEED)
    p.add_argument("--date", type=int, default=DATE, help=f"day as YYMMDD (default {DATE})")
    args = p.parse_args(argv)
    out_path = common.out_dir(args.out)
    clock = common.stopwatch()
    result = comparison(args.quick, args.seed, args.workers, args.date)
    if result is None:
        print(f"Anonymous Bank data not found (expected ../shared/data/anonymous_bank/{FILE} "
              "beside the repository); skipping experiment 5.")
        return {"skipped": True}
    day, hourly, params = result
    common.write_csv(day, out_path / "05_anonymous_bank.csv")
    common.write_csv(hourly, out_path / "05_anonymous_bank_hourly.csv")
    common.save(figure(hourly, params), out_path / "05_anonymous_bank.png")
    print(ACKNOWLEDGEMENT)
    print(f"Fitted: {params}")
    print(common.show(day))
    cols = ["hour", "offered", "servers", "capacity", "busy", "sl_observed", "sl_servers",
            "sl_capacity", "sl_busy", "abandon_observed", "abandon_servers", "abandon_capacity",
            "abandon_busy", "asa_observed", "asa_servers", "asa_capacity", "asa_busy"]
    print(common.show(hourly[cols]))
    key = {"skipped": False, "params": params, "seconds": round(clock(), 1)}
    print(f"\nwrote {out_path}/05_anonymous_bank*.csv and .png in {key['seconds']} s")
    return key


if __name__ == "__main__":
    main()
