"""Engine speed and memory against a naive SimPy M/M/c model timed in the same run.

    python benchmarks/bench_engine.py [--contacts 1000000] [--quick]

Cases (from the issue): 20 agents at 17 Erlangs and 320 agents at 300 Erlangs, AHT
180 s, exponential times, no abandonment; and a multichannel centre (one pool taking
calls and chats, 3 chats per agent with a stretch of 1.1), timed alone (a naive SimPy
model has no chat concurrency to compare with). The naive model is what most people write
first: one SimPy process per customer competing for a ``simpy.Resource``. Each model
runs in a fresh subprocess so its peak resident memory (ru_maxrss) is its own.
Also: replications on 2 worker processes versus 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
import time

AHT = 180.0


def naive_simpy(agents: int, load: float, contacts: int, seed: int = 1) -> dict:
    """One process per customer and a simpy.Resource: the baseline to beat."""
    import numpy as np
    import simpy

    rng = np.random.default_rng(seed)
    lam = load / AHT
    inter = rng.exponential(1 / lam, contacts).tolist()
    service = rng.exponential(AHT, contacts).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)
    waits = []

    def customer(i):
        arrive = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(service[i])

    def source():
        for i in range(contacts):
            yield env.timeout(inter[i])
            env.process(customer(i))

    env.process(source())
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "contacts": len(waits), "mean_wait": sum(waits) / len(waits)}


def bposim_engine(agents: int, load: float, contacts: int, seed: int = 1) -> dict:
    from bposim.distributions import exponential
    from bposim.engine.core import simulate_model
    from bposim.engine.model import compile_scenario
    from bposim.rng import Streams
    from bposim.scenario.schema import Arrivals, Horizon, Pool, Queue, Scenario, Skill, Staffing

    per_hour = load / AHT * 3600
    days = max(1, math.ceil(contacts / (per_hour * 24)))
    per_interval = per_hour  # 60-minute intervals
    scenario = Scenario(
        name="mmc",
        horizon=Horizon(start=dt.date(2026, 1, 5), days=days, interval_minutes=60),
        queues=(Queue(id="q", handle_time=exponential(AHT),
                      arrivals=Arrivals(volumes=(per_interval,) * 24)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=agents)),),
    )
    model = compile_scenario(scenario)
    start = time.perf_counter()
    rec = simulate_model(model, Streams(seed))
    elapsed = time.perf_counter() - start
    answered = sum(rec.queues[0].answered)
    return {"seconds": elapsed, "contacts": int(answered),
            "mean_wait": sum(rec.queues[0].wait_answered) / answered}


def bposim_multichannel(agents: int, load: float, contacts: int, seed: int = 1) -> dict:
    """Voice + chat in one pool: half the agent load is calls, half chats (3 per agent)."""
    from bposim.distributions import exponential
    from bposim.engine.core import simulate_model
    from bposim.engine.model import compile_scenario
    from bposim.rng import Streams
    from bposim.scenario.schema import (
        Arrivals, ChatCapacity, Horizon, Pool, Queue, Scenario, Skill, Staffing,
    )

    voice_per_hour = load / 2 / AHT * 3600
    chat_per_hour = 3 * load / 2 / AHT * 3600  # three sessions use one agent's time
    days = max(1, math.ceil(contacts / ((voice_per_hour + chat_per_hour) * 24)))
    scenario = Scenario(
        name="multichannel",
        horizon=Horizon(start=dt.date(2026, 1, 5), days=days, interval_minutes=60),
        queues=(Queue(id="voice", handle_time=exponential(AHT), patience=exponential(300),
                      arrivals=Arrivals(volumes=(voice_per_hour,) * 24)),
                Queue(id="chat", channel="chat", handle_time=exponential(AHT), patience=exponential(600),
                      arrivals=Arrivals(volumes=(chat_per_hour,) * 24))),
        pools=(Pool(id="p", skills=(Skill("voice"), Skill("chat")), staffing=Staffing(agents=agents),
                    chat=ChatCapacity(concurrency=3, stretch=1.1)),),
    )
    model = compile_scenario(scenario)
    start = time.perf_counter()
    rec = simulate_model(model, Streams(seed))
    elapsed = time.perf_counter() - start
    answered = sum(sum(q.answered) for q in rec.queues)
    return {"seconds": elapsed, "contacts": int(answered),
            "mean_wait": sum(sum(q.wait_answered) for q in rec.queues) / answered}


def _child(kind: str, agents: int, load: float, contacts: int) -> dict:
    """Run one model in a fresh interpreter; return its timing and peak RSS in MB."""
    code = (
        "import json, resource, sys; sys.path.insert(0, 'benchmarks');"
        "import bench_engine as b;"
        f"r = b.{kind}({agents}, {load}, {contacts});"
        "r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        "print(json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parallel_speedup(reps: int = 8) -> tuple[float, float]:
    import bposim
    from bposim.distributions import exponential
    from bposim.scenario.schema import Arrivals, Horizon, Pool, Queue, Scenario, Skill, Staffing

    sc = Scenario(
        name="par", horizon=Horizon(start=dt.date(2026, 1, 5), days=20),
        queues=(Queue(id="q", handle_time=exponential(AHT), arrivals=Arrivals(volumes=(170.0,) * 48)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(agents=20)),),
    )
    # the SimPy engine, as the rest of this file (with auto, the fast engine would finish
    # each replication in a fraction of a second and the pool's start-up would dominate)
    bposim.run(sc, replications=2, seed=0, workers=1, engine="simpy")  # warm up: imports, caches
    times = []
    for workers in (1, 2):
        start = time.perf_counter()
        bposim.run(sc, replications=reps, seed=1, workers=workers, executor="processes",
                   engine="simpy")
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100 000 contacts, 4 replications")
    args = ap.parse_args()
    contacts = 100_000 if args.quick else args.contacts
    print(f"| case | model | contacts | seconds | contacts/s | peak MB | mean wait (s) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for agents, load in ((20, 17.0), (320, 300.0)):
        rows = {}
        for kind in ("naive_simpy", "bposim_engine"):
            r = _child(kind, agents, load, contacts)
            rows[kind] = r
            print(f"| {agents} agents, {load:g} E | {kind} | {r['contacts']:,} | {r['seconds']:.2f} | "
                  f"{r['contacts'] / r['seconds']:,.0f} | {r['peak_mb']:.0f} | {r['mean_wait']:.2f} |")
        naive, ours = rows["naive_simpy"], rows["bposim_engine"]
        ratio = (ours["contacts"] / ours["seconds"]) / (naive["contacts"] / naive["seconds"])
        print(f"| {agents} agents, {load:g} E | **speed ratio bposim / naive** | | | **{ratio:.2f}×** | | |")
    r = _child("bposim_multichannel", 20, 17.0, contacts)
    print(f"| 20 agents, voice + chat (3 per agent) | bposim engine | {r['contacts']:,} | {r['seconds']:.2f} | "
          f"{r['contacts'] / r['seconds']:,.0f} | {r['peak_mb']:.0f} | {r['mean_wait']:.2f} |")
    one, two = parallel_speedup(4 if args.quick else 8)
    print(f"\nReplications on 1 worker: {one:.2f} s; on 2 workers: {two:.2f} s; speed-up {one / two:.2f}×")


if __name__ == "__main__":
    main()
