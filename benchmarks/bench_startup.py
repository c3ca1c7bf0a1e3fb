"""Time the command line's start-up against `python -c "import click"` in the same run.

Run: python benchmarks/bench_startup.py [--repeat N]   (prints a markdown table)

Each command runs in a fresh interpreter N times (default 15); the table gives the
median wall-clock time and its ratio to the baseline, the least any click program can
take. `bposim --help` and `bposim validate` should import nothing heavy (no pandas,
scipy or matplotlib), so they stay within a small factor of the baseline; `import
bposim.report` shows what a heavy import costs for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

CASES = [
    ("python -c 'import click' (baseline)", [PY, "-c", "import click"]),
    ("bposim --help", [PY, "-m", "bposim", "--help"]),
    ("bposim run --help", [PY, "-m", "bposim", "run", "--help"]),
    ("bposim validate scenarios/sourcing_mix.yaml", [PY, "-m", "bposim", "validate", "scenarios/sourcing_mix.yaml"]),
    ("python -c 'import bposim.report' (heavy, for scale)", [PY, "-c", "import bposim.report"]),
]


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    for _, cmd in CASES:  # warm the file cache
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = None
    print(f"| command | median s ({args.repeat} runs) | ratio to import click |")
    print("| --- | ---: | ---: |")
    for label, cmd in CASES:
        s = median_seconds(cmd, args.repeat)
        base = base or s
        print(f"| `{label}` | {s:.3f} | {s / base:.1f}× |")


if __name__ == "__main__":
    main()
