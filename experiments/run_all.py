"""Run every experiment in order (the full sizes unless --quick) and report the time
each took. Flags are passed on: python experiments/run_all.py [--quick] [--out DIR]."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAMES = ("01_erlang_validation", "02_square_root_staffing", "03_sme_escalation",
         "04_sourcing_mix", "05_anonymous_bank", "06_calibrate_backtest")


def main(argv=None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    times = {}
    for name in NAMES:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        common.load_experiment(name).main(argv)
        times[name] = round(time.perf_counter() - start, 1)
    print("\n" + "\n".join(f"{name}: {s} s" for name, s in times.items()))
    return times


if __name__ == "__main__":
    main()
