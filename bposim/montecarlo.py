"""Monte Carlo replications: one task per replication, any executor, same numbers.

Replication ``r`` of seed ``s`` always draws from ``SeedSequence(s).spawn(n)[r]``, and
results are put back in replication order before they are summarised, so the serial,
process and Dask executors give bit-identical summaries whatever the worker count.
Confidence intervals are formed from the mean and standard error of replication
values and respect each metric's range (see :func:`interval_bounds`): shares stay
within [0, 1], non-negative metrics at or above 0, others get a Student-t interval.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from scipy import stats

from bposim.engine.model import compile_scenario
from bposim.engine.select import EngineChoice, choose_engine, run_engine
from bposim.errors import BposimError, InputError
from bposim.metrics import ReplicationMetrics, replication_metrics
from bposim.rng import Streams, replication_seeds
from bposim.scenario.schema import Scenario

EXECUTORS = ("serial", "processes", "dask")
CONFIDENCE = 0.95


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence | None = None,
             *, keep_contacts: bool | None = None,
             engine: str | EngineChoice | None = None, observers=None) -> ReplicationMetrics:
    """Run one replication; ``seed`` defaults to the scenario's own.

    Returns frames of interval x queue metrics (``intervals``), interval x pool metrics
    (``pools``), run-level ``totals`` and, when kept, ``contacts`` and ``agent_states``.
    ``engine``: auto, simpy or fast (default: the scenario's ``simulation.engine``; see
    :mod:`bposim.engine.select`); both engines give identical results.
    ``observers``: objects told of every domain event (see
    :mod:`bposim.engine.observers`); they need the SimPy engine, which runs them.
    """
    if keep_contacts is not None:
        scenario = replace(scenario, simulation=replace(scenario.simulation, keep_contacts=keep_contacts))
    return _simulate(scenario, compile_scenario(scenario), seed, engine, observers)


def _simulate(scenario: Scenario, model, seed, engine, observers=None) -> ReplicationMetrics:
    """One replication of ``scenario`` compiled as ``model``."""
    if seed is None:
        seed = scenario.simulation.seed
    if observers:
        if engine == "fast":
            raise InputError("observers need the SimPy engine (engine='simpy' or 'auto'), "
                             "not the fast engine")
        from bposim.engine.core import simulate_model

        return replication_metrics(model, simulate_model(model, Streams(seed), observers))
    recording = run_engine(choose_engine(scenario, engine, model=model), model, Streams(seed))
    return replication_metrics(model, recording)


# The compiled model of the batch this process works on, as (batch token, model): compiling
# draws no random number, so a batch's replications share one model instead of compiling
# the scenario each (break planning alone takes seconds for hundreds of agents).
_batch_model: tuple[str, object] | None = None


def _compiled(scenario: Scenario, batch: str | None):
    """``compile_scenario(scenario)``, once per process for the batch ``batch``."""
    global _batch_model
    if batch is None:
        return compile_scenario(scenario)
    cached = _batch_model  # read once: another thread may replace it meanwhile
    if cached is None or cached[0] != batch:
        cached = (batch, compile_scenario(scenario))
        _batch_model = cached
    return cached[1]


def replicate(scenario: Scenario, seed: int, rep: int, engine: str | EngineChoice | None = None,
              batch: str | None = None) -> ReplicationMetrics:
    """Replication ``rep`` of a batch: the task every executor runs. Its streams depend
    only on ``seed`` and ``rep``, not on the batch size, the executor or the engine.
    ``batch``: a token naming the batch, so that each process compiles its scenario once."""
    seq = replication_seeds(seed, rep + 1)[rep]
    result = _simulate(scenario, _compiled(scenario, batch), seq, engine)
    for frame in (result.intervals, result.pools, result.totals, result.contacts, result.agent_states,
                  result.outbound):
        if frame is not None:
            frame.insert(0, "replication", rep)
    return result


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t confidence limits of replication values (NaNs dropped)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


# Metrics that are shares of something (values in [0, 1]); names starting with these too.
# Registered metrics take their unit from bposim.metric_registry; these cover the rest.
SHARE_METRICS = frozenset({
    "service_level", "p_wait", "abandon_rate", "abandon_rate_incl_amd", "escalation_rate",
    "occupancy", "utilisation", "sme_utilisation", "max_on_break_share", "list_penetration",
    "list_closed", "max_daily_abandon_rate", "max_30day_abandon_rate",
})
SHARE_PREFIXES = ("sl_", "p_wait_")


def metric_kind(name: str) -> str:
    """``"share"`` for metrics in [0, 1], else ``"other"``: the unit of the metric
    registry (:mod:`bposim.metric_registry`); for names it does not know, by name."""
    from bposim.metric_registry import is_share

    share = is_share(name)
    if share is not None:
        return "share" if share else "other"
    return "share" if name in SHARE_METRICS or name.startswith(SHARE_PREFIXES) else "other"


def interval_bounds(mean, se, n, share, nonnegative, confidence: float = CONFIDENCE):
    """Confidence limits from replication means, standard errors and counts (arrays).

    With ``t`` the Student-t quantile on n - 1 degrees of freedom:

    - a share (``share`` true; values in [0, 1]): the Wilson score interval with the
      effective number of trials m(1 - m) / se² (the binomial sample size that would
      give the observed standard error), so it lies inside [0, 1] and is asymmetric
      near 0 and 1;
    - a metric whose values are all >= 0 (``nonnegative``): a t interval for log(m) by
      the delta method, m·exp(±x) with x = t·se/m, which stays above 0. That
      first-order approximation breaks down for large x (m·e^12.7 for two replications
      4 and 0), so the upper limit is max(m·exp(min(x, 2)), m + t·se): it never falls
      as se grows and is at most (e² - 1)/2 ≈ 3.2 times as far above m as the t
      interval's (docs/simulation.md gives the coverage);
    - anything else: the Student-t interval m ± t·se.

    All three shrink to m ± t·se as se/m → 0. When every replication gives the same
    value (se = 0): an abandon rate that is 0 in every replication of a queue without
    patience is exactly 0, not "up to 31 %". With fewer than two values: NaN.
    """
    m = np.asarray(mean, dtype=float)
    se = np.asarray(se, dtype=float)
    n = np.asarray(n)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, 1))
        low, high = m - t * se, m + t * se
        # log scale: m * exp(-+ x), x = t se / m (m = 0 means every value was 0); the upper
        # limit's x is capped at 2, and the t limit m + t se takes over where it is higher
        x = np.where(m > 0, t * se / np.where(m > 0, m, 1.0), 0.0)
        low = np.where(nonnegative, m * np.exp(-x), low)
        high = np.where(nonnegative, np.maximum(m * np.exp(np.minimum(x, 2.0)), high), high)
        # Wilson with k = t^2 / n_eff = (t se)^2 / (m (1 - m)); k = 0 at m = 0 or 1 (se is 0 there)
        var = m * (1.0 - m)
        k = np.where(var > 0, (t * se) ** 2 / np.where(var > 0, var, 1.0), 0.0)
        centre = (m + k / 2) / (1 + k)
        half = np.sqrt(np.maximum(k * var + k * k / 4, 0.0)) / (1 + k)
        low = np.where(share, np.clip(centre - half, 0.0, 1.0), low)
        high = np.where(share, np.clip(centre + half, 0.0, 1.0), high)
    valid = n > 1
    return np.where(valid, low, np.nan), np.where(valid, high, np.nan)


def summarise(frame: pd.DataFrame, by: list[str], value_columns: Iterable[str],
              names: str = "metric") -> pd.DataFrame:
    """Tidy mean / CI / n per group and metric over the ``replication`` column (vectorised).

    ``names``: the column that holds each row's metric name, which decides how its
    interval is bounded (:func:`interval_bounds`; shares by :func:`metric_kind`)."""
    long = frame.melt(id_vars=by, value_vars=list(value_columns), var_name="metric",
                      value_name="_value")
    g = long.groupby(by + ["metric"], sort=False, dropna=False)["_value"]
    out = g.agg(["mean", "std", "count", "min", "max"]).reset_index()
    n = out["count"].to_numpy()
    se = out["std"].to_numpy(dtype=float) / np.sqrt(np.maximum(n, 1))
    labels = out[names].astype(str)
    kinds = labels.map({name: metric_kind(name) for name in labels.unique()}).to_numpy()
    lo, hi = out["min"].to_numpy(dtype=float), out["max"].to_numpy(dtype=float)
    share = (kinds == "share") & (lo >= 0) & (hi <= 1)
    out["ci_low"], out["ci_high"] = interval_bounds(out["mean"].to_numpy(dtype=float), se, n, share,
                                                    lo >= 0)
    out["n"] = n.astype(int)
    return out[by + ["metric", "mean", "ci_low", "ci_high", "n"]]


def _numeric(frame: pd.DataFrame) -> list[str]:
    """Metric columns: numeric, other than the keys."""
    keys = {"replication", "interval"}
    return [c for c in frame.select_dtypes("number").columns if c not in keys]


@dataclass
class Results:
    """A batch of replications: per-replication frames and their summaries.

    ``summary``: tidy (metric, scope, mean, ci_low, ci_high, n) over run-level values.
    ``intervals`` / ``pools``: per replication and interval; ``interval_summary`` and
    ``pool_summary`` give their mean and CI per interval.
    """

    scenario: Scenario
    seed: int
    replications: list[int]
    totals: pd.DataFrame
    intervals: pd.DataFrame
    pools: pd.DataFrame
    contacts: pd.DataFrame | None = None
    outbound: pd.DataFrame | None = None
    timings: dict = field(default_factory=dict)
    engine: EngineChoice | None = None  # the engine that ran the replications (None: not known)

    @property
    def summary(self) -> pd.DataFrame:
        totals = self.totals.rename(columns={"metric": "name"})
        s = summarise(totals, ["name", "scope"], ["value"], names="name").drop(columns="metric")
        return s.rename(columns={"name": "metric"})

    @property
    def interval_summary(self) -> pd.DataFrame:
        return summarise(self.intervals, ["interval", "start", "queue"], _numeric(self.intervals))

    @property
    def outbound_summary(self) -> pd.DataFrame | None:
        if self.outbound is None:
            return None
        return summarise(self.outbound, ["interval", "start", "campaign"], _numeric(self.outbound))

    @property
    def pool_summary(self) -> pd.DataFrame:
        return summarise(self.pools, ["interval", "start", "pool", "tier", "site"], _numeric(self.pools))

    def metric(self, metric: str, scope: str) -> pd.Series:
        """One row of the summary, e.g. ``metric("service_level", "queue:sales")``."""
        s = self.summary
        row = s[(s["metric"] == metric) & (s["scope"] == scope)]
        if row.empty:
            names = sorted(set(s["metric"].astype(str)))
            if metric not in names:
                raise KeyError(f"no metric {metric!r}; valid names: {', '.join(names)}")
            scopes = sorted(set(s.loc[s["metric"] == metric, "scope"].astype(str)))
            raise KeyError(f"no metric {metric!r} for scope {scope!r}; its scopes: {', '.join(scopes)}")
        return row.iloc[0]

    def _repr_html_(self) -> str:
        """A compact table for Jupyter: each queue's service level and pool's utilisation."""
        from bposim.notebook import results_html

        return results_html(self)


def combine(scenario: Scenario, seed: int, parts: list[ReplicationMetrics], timings=None,
            engine: EngineChoice | None = None) -> Results:
    """Put replication results together in replication order."""
    parts = sorted(parts, key=lambda p: int(p.totals["replication"].iloc[0]))
    contacts = [p.contacts for p in parts if p.contacts is not None]
    outbound = [p.outbound for p in parts if p.outbound is not None]
    return Results(
        scenario=scenario,
        seed=seed,
        replications=[int(p.totals["replication"].iloc[0]) for p in parts],
        totals=pd.concat([p.totals for p in parts], ignore_index=True),
        intervals=pd.concat([p.intervals for p in parts], ignore_index=True),
        pools=pd.concat([p.pools for p in parts], ignore_index=True),
        contacts=pd.concat(contacts, ignore_index=True) if contacts else None,
        outbound=pd.concat(outbound, ignore_index=True) if outbound else None,
        timings=timings or {},
        engine=engine,
    )


def run_replications(scenario: Scenario, reps: list[int], seed: int, *, workers: int | None = None,
                     executor: str = "processes", scheduler: str | None = None,
                     on_result: Callable[[ReplicationMetrics], None] | None = None,
                     engine: str | EngineChoice | None = None) -> list[ReplicationMetrics]:
    """Run the given replication indices; ``on_result`` sees each as it finishes.
    ``engine`` is chosen once here (:func:`~bposim.engine.select.choose_engine`) and the
    choice handed to every replication."""
    if executor not in EXECUTORS:
        raise BposimError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    engine = choose_engine(scenario, engine)
    batch = uuid.uuid4().hex
    done: list[ReplicationMetrics] = []

    def collect(result):
        done.append(result)
        if on_result is not None:
            on_result(result)

    workers = workers or os.cpu_count() or 1
    if executor == "serial" or (executor == "processes" and (workers == 1 or len(reps) <= 1)):
        for r in reps:
            collect(replicate(scenario, seed, r, engine, batch))
    elif executor == "processes":
        with ProcessPoolExecutor(max_workers=min(workers, len(reps)), initializer=_watch_parent,
                                 initargs=(os.getpid(),)) as pool:
            pending = {pool.submit(replicate, scenario, seed, r, engine, batch) for r in reps}
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        collect(f.result())
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
    else:
        _run_dask(scenario, reps, seed, workers, scheduler, collect, engine, batch)
    return done


PARENT_CHECK_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    """Run in each worker process as it starts: exit as soon as the process that started
    it is gone (killed with SIGKILL, say), instead of waiting for work for ever. A daemon
    thread polls ``os.getppid()``, which changes when an orphan is re-parented; this works
    on every POSIX system and whichever thread of the parent started the worker."""
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    if os.getppid() != parent:  # the caller died before this worker started
        os._exit(1)
    threading.Thread(target=watch, name="bposim-parent-watch", daemon=True).start()


def _run_dask(scenario, reps, seed, workers, scheduler, collect, engine, batch) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # an optional extra
        raise BposimError("the dask executor needs the extra: pip install 'bposim[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(replicate, scenario, seed, r, engine, batch, pure=False) for r in reps]
        for f in as_completed(futures):
            collect(f.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
        workers: int | None = None, executor: str = "processes", scheduler: str | None = None,
        progress: Callable[[int, int], None] | None = None, allow_large: bool = False,
        engine: str | EngineChoice | None = None) -> Results:
    """Run ``replications`` independent replications and summarise them with 95 % CIs.

    Work beyond :data:`bposim.workload.LIMITS` is refused before anything runs
    (:class:`~bposim.workload.WorkloadError`) unless ``allow_large``. ``engine``: auto,
    simpy or fast (default: the scenario's ``simulation.engine``), chosen before anything
    runs; the fast engine's compile time is in ``timings``, apart from ``seconds``."""
    import time

    from bposim.workload import check_workload

    replications = replications or scenario.simulation.replications
    check_workload(scenario, replications, allow_large=allow_large)
    seed = scenario.simulation.seed if seed is None else seed
    engine = choose_engine(scenario, engine)  # compiles before the clock starts
    start = time.perf_counter()
    count = [0]

    def tick(_result):
        count[0] += 1
        if progress is not None:
            progress(count[0], replications)

    parts = run_replications(scenario, list(range(replications)), seed, workers=workers,
                             executor=executor, scheduler=scheduler, on_result=tick, engine=engine)
    return combine(scenario, seed, parts, {"seconds": time.perf_counter() - start, **engine.timings()},
                   engine)
