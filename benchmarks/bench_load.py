"""Time scenario loading: libyaml's C parser against the pure-Python one, same run.

Run: python benchmarks/bench_load.py [--quick]   (prints a markdown table)

The file is generated: a year of 15-minute volumes for several queues (a scenario
given per interval rather than as a profile), about 1 MB of YAML (0.1 MB with
--quick). Both loaders go through bposim's own reader (``read_yaml``: composed nodes
with line marks, then plain values); only the composer differs. Rows: composing alone,
and the whole read. The ratio is the pure-Python time over the C time (CPU seconds),
best of three runs each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bposim.scenario import load as scenario_load  # noqa: E402


def scenario_text(days: int, queues: int) -> str:
    """A valid scenario with per-interval volumes for every day of the horizon."""
    rng = np.random.default_rng(1)
    lines = ["name: Large generated scenario",
             f"horizon: {{start: 2026-01-05, days: {days}, interval_minutes: 15}}", "queues:"]
    for q in range(queues):
        volumes = ", ".join(f"{v:.1f}" for v in rng.gamma(4.0, 5.0, days * 96))
        lines += [f"  - id: q{q}", f"    handle_time: {{dist: exponential, mean: {180 + q}}}",
                  f"    arrivals: {{volumes: [{volumes}]}}"]
    lines += ["pools:", "  - id: agents", f"    skills: [{', '.join(f'q{q}' for q in range(queues))}]",
              "    staffing: {agents: 50}"]
    return "\n".join(lines) + "\n"


def best_of(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()  # CPU time: fair on a machine shared with other work
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 0.1 MB file instead of 1 MB")
    args = parser.parse_args()
    text = scenario_text(days=36 if args.quick else 365, queues=4)
    size = len(text.encode()) / 1024**2
    if not hasattr(yaml, "CSafeLoader"):
        sys.exit("PyYAML is built without libyaml here: nothing to compare")
    loaders = (("pure-Python (SafeLoader)", yaml.SafeLoader), ("libyaml (CSafeLoader)", yaml.CSafeLoader))
    rows = []
    for step in ("compose (nodes with line marks)", "read_yaml (nodes, then values and lines)"):
        timings = []
        for name, loader in loaders:
            scenario_load._LOADER = loader
            if step.startswith("compose"):
                timings.append(best_of(lambda: yaml.compose(text, Loader=loader)))
            else:
                timings.append(best_of(lambda: scenario_load.read_yaml(text, "big.yaml")))
                scenario_load.parse_scenario(text, "big.yaml")  # the file is valid either way
        rows.append((step, *timings))
    # a long text value (the 50 MB description took 227 s): one scalar, once each
    words = (text.replace("\n", " ") * 8)[: (500_000 if args.quick else 5_000_000)]
    long_text = text.replace("name: Large generated scenario",
                             "name: Long description\ndescription: >\n  " + words, 1)
    timings = []
    for _name, loader in loaders:
        scenario_load._LOADER = loader
        timings.append(best_of(lambda: scenario_load.read_yaml(long_text, "long.yaml"), runs=1))
    rows.append((f"read_yaml, with a {len(words) / 1024**2:.1f} MB description added (once)", *timings))
    print(f"Scenario file of {size:.1f} MB, {len(text.split(',')):,} values; CPU seconds, best of 3\n")
    print("| step | pure-Python | libyaml | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for step, slow, fast in rows:
        print(f"| {step} | {slow:.2f} | {fast:.2f} | **{slow / fast:.1f}×** |")


if __name__ == "__main__":
    main()
