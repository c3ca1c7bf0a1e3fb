"""Time Erlang staffing: bposim's incremental search against a per-candidate baseline.

Run: python benchmarks/bench_erlang.py   (prints a markdown table)

The baseline is the straightforward method: for each candidate agent count,
recompute Erlang B from scratch by the recursion from B(0) = 1, then Erlang C
and the service level.  It starts at floor(load)+1 like bposim, so the ratio
measures only the cost per candidate.  pyworkforce is timed too when installed.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bposim import erlang, staffing  # noqa: E402

AHT, ANSWER_WITHIN, TARGET = 180.0, 20.0, 0.8


def naive_required_agents(load: float, aht: float, t: float, target: float) -> int:
    """Per-candidate Erlang C staffing: Erlang B rebuilt from B(0) for every n."""
    if load == 0:
        return 0
    n = math.floor(load) + 1
    while True:
        b = 1.0
        for k in range(1, n + 1):
            b = load * b / (k + load * b)
        c = n * b / (n - load * (1 - b))
        if 1 - c * math.exp(-(n - load) * t / aht) >= target:
            return n
        n += 1


def best_time(func, repeat: int = 5, budget: float = 20.0) -> float:
    """Best wall time of ``repeat`` runs (fewer if one run takes a large share of ``budget``)."""
    best, spent = math.inf, 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget / 4:
            break
    return best


def forecast_96x10() -> pd.DataFrame:
    """Ten queues x 96 quarter-hours with a two-peak intraday shape."""
    hours = (np.arange(96) + 0.5) / 4
    shape = (0.05 + np.exp(-0.5 * ((hours - 10.5) / 1.3) ** 2)
             + 0.8 * np.exp(-0.5 * ((hours - 16.5) / 1.3) ** 2))
    starts = pd.date_range("2026-01-05", periods=96, freq="15min")
    frames = [pd.DataFrame({"queue": f"q{q}", "interval_start": starts,
                            "volume": np.round(shape * (40 + 60 * q)),
                            "aht": 150.0 + 20 * q}) for q in range(10)]
    return pd.concat(frames, ignore_index=True)


def pyworkforce_required(load_rows):
    try:
        from pyworkforce.queuing import ErlangC  # type: ignore
    except ImportError:
        return None

    def run():
        for volume, aht, minutes in load_rows:
            ErlangC(transactions=volume, aht=aht / 60, asa=ANSWER_WITHIN / 60,
                    interval=minutes).required_positions(service_level=TARGET)
    return run


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    rows = []
    for load in (10, 100, 1_000, 10_000, 100_000):
        fast = best_time(lambda: erlang.required_agents(load, AHT, ANSWER_WITHIN, TARGET))
        n = erlang.required_agents(load, AHT, ANSWER_WITHIN, TARGET)
        slow = best_time(lambda: naive_required_agents(load, AHT, ANSWER_WITHIN, TARGET), repeat=3)
        assert naive_required_agents(load, AHT, ANSWER_WITHIN, TARGET) == n
        rows.append((f"required_agents, {load:,} Erlangs, 80/20 -> {n:,} agents", fast, slow))
        fast0 = best_time(lambda: erlang.required_agents(load, AHT, 0, 0.95))
        n0 = erlang.required_agents(load, AHT, 0, 0.95)
        slow0 = best_time(lambda: naive_required_agents(load, AHT, 0, 0.95), repeat=3)
        rows.append((f"required_agents, {load:,} Erlangs, P(wait) <= 5% -> {n0:,} agents",
                     fast0, slow0))

    table = forecast_96x10()
    fast = best_time(lambda: staffing.requirements(table, answer_within=ANSWER_WITHIN,
                                                   target=TARGET, shrinkage=0.33))
    loads = (table["volume"] * table["aht"] / 900.0).to_numpy()
    ahts = table["aht"].to_numpy()
    slow = best_time(lambda: [naive_required_agents(a, h, ANSWER_WITHIN, TARGET)
                              for a, h in zip(loads, ahts)], repeat=3)
    rows.append(("staffing.requirements, 96 intervals x 10 queues (Erlang C)", fast, slow))
    fast_a = best_time(lambda: staffing.requirements(table, answer_within=ANSWER_WITHIN,
                                                     target=TARGET, patience=90,
                                                     max_abandon=0.05))
    rows.append(("staffing.requirements, 96 x 10, Erlang A (patience 90 s, <= 5% abandon)",
                 fast_a, math.nan))
    pwf = pyworkforce_required(list(zip(table["volume"], ahts, [15] * len(table))))
    pwf_time = best_time(pwf, repeat=3) if pwf else None

    print("| case | bposim | per-candidate baseline | baseline / bposim |")
    print("| --- | ---: | ---: | ---: |")
    for name, fast, slow in rows:
        ratio = "-" if math.isnan(slow) else f"{slow / fast:,.{0 if slow > 10 * fast else 1}f}x"
        print(f"| {name} | {fmt(fast)} | {'-' if math.isnan(slow) else fmt(slow)} | {ratio} |")
    if pwf_time is None:
        print("\npyworkforce: not installed, not compared.")
    else:
        print(f"\npyworkforce ErlangC, same 96 x 10 table: {fmt(pwf_time)} "
              f"({pwf_time / rows[-2][1]:,.0f}x bposim)")


if __name__ == "__main__":
    main()
