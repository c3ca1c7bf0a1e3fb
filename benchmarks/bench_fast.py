"""The fast (compiled) engine against the SimPy engine and a naive SimPy model, same run.

    python benchmarks/bench_fast.py [--contacts 1000000] [--replications 30] [--workers 2]
                                    [--simpy-replications N] [--cold-compiles 3]
                                    [--skip-large] [--skip-mmc] [--skip-records]

1. M/M/c, as in bench_engine.py (20 agents at 17 Erlangs and 320 agents at 300 Erlangs,
   AHT 180 s, exponential times, no abandonment, ``--contacts`` in one replication):
   the naive SimPy model (one process per customer and a ``simpy.Resource``), bposim's
   SimPy engine and the fast engine, each in a fresh interpreter so that its peak
   resident memory (ru_maxrss) is its own. The fast engine's compile (or cache load) is
   timed apart from its run. Contacts per second and their ratio to the naive model.
   The two bposim engines must give the same answered count and mean wait (identical
   results); the naive model draws other random numbers.
2. ``scenarios/large_centre.yaml`` (four weeks, 500 agents, three sites) with
   ``--replications`` replications on ``--workers`` worker processes, with
   ``engine="simpy"`` and ``engine="fast"``, each in a fresh interpreter: wall time of
   the replications, the fast engine's compile time apart, and whether the two
   summaries are identical. ``--simpy-replications`` runs fewer on the SimPy engine
   (it takes many minutes); the fast engine then also runs that number, for the ratio.
3. Records kept: one week of ``large_centre.yaml`` with its contact log and agent-state
   log kept, one replication on each engine in a fresh interpreter: seconds for the
   replication (engine and Recording) and whether the records are identical.
4. First-ever compile: ``--cold-compiles`` fresh interpreters each compile the kernel
   into an empty cache directory (``NUMBA_CACHE_DIR``), then one loads it from there;
   wall and CPU seconds. Beside it, the same run's compile of a one-line function in a
   fresh interpreter (numba's own start-up cost), as the baseline of this machine.

Prints markdown tables (see benchmarks/README.md, "Fast engine").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AHT = 180.0
CASES = ((20, 17.0), (320, 300.0))


def _mmc_model(agents: int, load: float, contacts: int):
    """bench_engine's M/M/c scenario (60-minute intervals, enough days for ``contacts``)."""
    import datetime as dt
    import math

    from bposim.distributions import exponential
    from bposim.engine.model import compile_scenario
    from bposim.scenario.schema import Arrivals, Horizon, Pool, Queue, Scenario, Skill, Staffing

    per_hour = load / AHT * 3600
    days = max(1, math.ceil(contacts / (per_hour * 24)))
    scenario = Scenario(
        name="mmc",
        horizon=Horizon(start=dt.date(2026, 1, 5), days=days, interval_minutes=60),
        queues=(Queue(id="q", handle_time=exponential(AHT), arrivals=Arrivals(volumes=(per_hour,) * 24)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=agents)),),
    )
    return compile_scenario(scenario)


def engine_run(engine: str, agents: int, load: float, contacts: int, seed: int = 1) -> dict:
    """One long M/M/c replication on bposim's SimPy or fast engine (compile timed apart)."""
    import time

    from bposim.engine.select import EngineChoice, run_engine
    from bposim.rng import Streams

    model = _mmc_model(agents, load, contacts)
    compile_s, cached = 0.0, None
    if engine == "fast":
        from bposim.engine.fast import ensure_compiled

        compile_s, cached = ensure_compiled()
    start = time.perf_counter()
    rec = run_engine(EngineChoice(engine, engine), model, Streams(seed))
    elapsed = time.perf_counter() - start
    answered = int(sum(rec.queues[0].answered))
    return {"seconds": elapsed, "contacts": answered,
            "mean_wait": float(sum(rec.queues[0].wait_answered)) / answered,
            "compile_seconds": compile_s, "from_cache": cached}


def naive_run(agents: int, load: float, contacts: int) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_engine

    return bench_engine.naive_simpy(agents, load, contacts)


def large_run(engine: str, replications: int, workers: int) -> dict:
    """``large_centre.yaml`` × ``replications`` on ``workers`` processes with ``engine``."""
    import hashlib
    import time

    import bposim
    from bposim.engine.select import choose_engine

    sc = bposim.load_scenario(ROOT / "scenarios" / "large_centre.yaml")
    start = time.perf_counter()
    choice = choose_engine(sc, engine)  # compiles (or loads) the fast engine: timed apart
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    res = bposim.run(sc, replications, seed=1, workers=workers, engine=choice)
    elapsed = time.perf_counter() - start
    summary = res.summary.to_csv(index=False)
    offered = res.totals.query("metric == 'offered' and scope == 'all'")["value"].sum()  # every replication
    return {"seconds": elapsed, "compile_seconds": compile_s, "contacts": float(offered),
            "summary_sha256": hashlib.sha256(summary.encode()).hexdigest()}


def records_run(engine: str, days: int = 7) -> dict:
    """One replication of ``large_centre.yaml`` cut to ``days`` with contacts and agent
    states kept: seconds (the fast engine's compile apart) and a digest of the records."""
    import dataclasses
    import hashlib
    import time

    import bposim
    from bposim.engine.model import compile_scenario
    from bposim.engine.select import EngineChoice, run_engine
    from bposim.rng import Streams

    sc = bposim.load_scenario(ROOT / "scenarios" / "large_centre.yaml")
    sc = dataclasses.replace(
        sc, horizon=dataclasses.replace(sc.horizon, days=days),
        simulation=dataclasses.replace(sc.simulation, keep_contacts=True, keep_agent_states=True))
    model = compile_scenario(sc)
    if engine == "fast":
        from bposim.engine.fast import ensure_compiled

        ensure_compiled()
    start = time.perf_counter()
    rec = run_engine(EngineChoice(engine, engine), model, Streams(1))
    elapsed = time.perf_counter() - start
    # plain floats (the SimPy engine's scaled times are np.float64, whose repr differs)
    rows = [tuple(float(v) if isinstance(v, float) else v for v in row)
            for row in (*rec.contacts, *rec.agent_states)]
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    return {"seconds": elapsed, "contacts": len(rec.contacts), "states": len(rec.agent_states),
            "sha256": digest}


def compile_run(kind: str) -> dict:
    """In this (fresh) interpreter: compile the fast engine's kernel (``kind="kernel"``,
    into whatever ``NUMBA_CACHE_DIR`` says) or a one-line function (``"baseline"``)."""
    import time

    t0, c0 = time.perf_counter(), time.process_time()
    import numba

    if kind == "kernel":
        from bposim.engine.fast import ensure_compiled

        _, cached = ensure_compiled()
    else:
        numba.njit("i8(i8)")(lambda x: x + 1)
        cached = False
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "cached": cached}


def _child(call: str, env: dict | None = None) -> dict:
    """Run ``call`` (a function of this file) in a fresh interpreter: its result and peak RSS."""
    code = (
        "import json, resource, sys;"
        f"sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
        "import bench_fast as b;"
        f"r = b.{call};"
        "r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        "print(json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=None if env is None else {**os.environ, **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def mmc_table(contacts: int) -> None:
    print("| case | model | contacts | seconds | contacts/s | ratio to naive | compile s | peak MB | mean wait (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for agents, load in CASES:
        rows = {"naive SimPy": _child(f"naive_run({agents}, {load}, {contacts})"),
                "SimPy engine": _child(f"engine_run('simpy', {agents}, {load}, {contacts})"),
                "fast engine": _child(f"engine_run('fast', {agents}, {load}, {contacts})")}
        base = rows["naive SimPy"]["contacts"] / rows["naive SimPy"]["seconds"]
        for name, r in rows.items():
            rate = r["contacts"] / r["seconds"]
            compiled = r.get("compile_seconds")
            comp = "" if not compiled else (f"{compiled:.2f}" + (" (cache)" if r.get("from_cache") else ""))
            print(f"| {agents} agents, {load:g} E | {name} | {r['contacts']:,} | {r['seconds']:.2f} | "
                  f"{rate:,.0f} | {rate / base:.1f}× | {comp} | {r['peak_mb']:.0f} | {r['mean_wait']:.4f} |")
        same = (rows["SimPy engine"]["contacts"] == rows["fast engine"]["contacts"]
                and rows["SimPy engine"]["mean_wait"] == rows["fast engine"]["mean_wait"])
        print(f"| {agents} agents, {load:g} E | engines identical (answered, mean wait) | {same} | | | | | | |")


def large_table(replications: int, workers: int, simpy_replications: int | None = None) -> None:
    """The large centre on both engines; SimPy may run fewer replications (it takes many
    minutes), then the fast engine runs that number too, for the ratio and the identity."""
    simpy_reps = simpy_replications or replications
    runs = [("fast", replications), ("simpy", simpy_reps)]
    if simpy_reps != replications:
        runs.append(("fast", simpy_reps))
    print(f"\n`large_centre.yaml` on {workers} workers:\n")
    print("| engine | replications | compile s | replications s | contacts/s (all workers) | peak MB (main) | summary |")
    print("|---|---:|---:|---:|---:|---:|---|")
    rows = {}
    for engine, reps in runs:
        r = rows[(engine, reps)] = _child(f"large_run('{engine}', {reps}, {workers})")
        print(f"| {engine} | {reps} | {r['compile_seconds']:.2f} | {r['seconds']:.1f} | "
              f"{r['contacts'] / r['seconds']:,.0f} | {r['peak_mb']:.0f} | {r['summary_sha256'][:12]} |")
    fast, simpy = rows[("fast", simpy_reps)], rows[("simpy", simpy_reps)]
    print(f"\nAt {simpy_reps} replications: fast / SimPy speed-up {simpy['seconds'] / fast['seconds']:.1f}×; "
          f"identical summaries: {fast['summary_sha256'] == simpy['summary_sha256']}")


def records_table() -> None:
    print("\nOne week of `large_centre.yaml`, contact log and agent-state log kept, one replication:\n")
    print("| engine | contacts | agent-state records | seconds | speed-up | records digest |")
    print("|---|---:|---:|---:|---:|---|")
    rows = {engine: _child(f"records_run('{engine}')") for engine in ("simpy", "fast")}
    for engine, r in rows.items():
        print(f"| {engine} | {r['contacts']:,} | {r['states']:,} | {r['seconds']:.2f} | "
              f"{rows['simpy']['seconds'] / r['seconds']:.1f}× | {r['sha256'][:12]} |")


def compile_table(times: int) -> None:
    """The first-ever compile, ``times`` times, each into an empty cache, then a load."""
    print(f"\nFirst-ever compile of the fast engine ({times} fresh interpreters, empty cache each):\n")
    print("| what | wall s | CPU s | from cache | peak MB |")
    print("|---|---:|---:|---|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-fast-cache-") as root:
        runs = []
        for k in range(times):
            cache = os.path.join(root, str(k))
            runs.append(_child("compile_run('kernel')", {"NUMBA_CACHE_DIR": cache}))
            print(f"| compile {k + 1} | {runs[-1]['seconds']:.2f} | {runs[-1]['cpu']:.2f} | "
                  f"{runs[-1]['cached']} | {runs[-1]['peak_mb']:.0f} |")
        load = _child("compile_run('kernel')", {"NUMBA_CACHE_DIR": cache})
        print(f"| load from that cache | {load['seconds']:.2f} | {load['cpu']:.2f} | {load['cached']} | "
              f"{load['peak_mb']:.0f} |")
    base = _child("compile_run('baseline')")
    print(f"| baseline: numba import + a one-line function | {base['seconds']:.2f} | {base['cpu']:.2f} | | "
          f"{base['peak_mb']:.0f} |")
    walls = sorted(r["seconds"] for r in runs)
    print(f"\nFirst compile: median {walls[len(walls) // 2]:.2f} s, worst {walls[-1]:.2f} s wall "
          f"({walls[len(walls) // 2] / base['seconds']:.1f}× the baseline).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000, help="contacts per M/M/c run")
    ap.add_argument("--replications", type=int, default=30, help="large_centre replications")
    ap.add_argument("--workers", type=int, default=2, help="worker processes for large_centre")
    ap.add_argument("--simpy-replications", type=int,
                    help="large_centre replications on the SimPy engine (default: --replications)")
    ap.add_argument("--cold-compiles", type=int, default=3,
                    help="first-ever compiles to time, each into an empty cache (0: none)")
    ap.add_argument("--skip-mmc", action="store_true", help="leave out the M/M/c cases")
    ap.add_argument("--skip-large", action="store_true", help="leave out the large centre")
    ap.add_argument("--skip-records", action="store_true", help="leave out the records-kept case")
    args = ap.parse_args()
    if not args.skip_mmc:
        mmc_table(args.contacts)
    if not args.skip_large:
        large_table(args.replications, args.workers, args.simpy_replications)
    if not args.skip_records:
        records_table()
    if args.cold_compiles > 0:
        compile_table(args.cold_compiles)


if __name__ == "__main__":
    main()
