"""Fuzzing: mutated example scenarios are either refused cleanly or run.

Each example takes one of the scenarios under ``scenarios/``, makes one to four
mutations (delete a key or item, swap a value's type, extreme and non-finite numbers,
empty and duplicate ids, unknown references, deep nesting, odd strings, time zones and
dates) and feeds the result to the loader, half the time as YAML text. It must be
either refused with a :class:`ScenarioError` (every problem naming the file) or
accepted; an accepted scenario whose work estimate is small runs one replication and
its Erlang baseline, others must be refused by the work check. Any other exception,
an example over its time budget or memory beyond the budget fails the test.

The default profile runs a quick sample; ``--hypothesis-profile=long`` runs 10 000.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import resource
import signal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from bposim.baseline import run_baseline
from bposim.engine.model import compile_scenario
from bposim.errors import Problem, ScenarioError
from bposim.montecarlo import run
from bposim.scenario.load import load_scenario_data, parse_scenario
from bposim.workload import Limits, WorkloadError, check_workload, estimate_workload

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
RUN_SECONDS = 1.2  # run only scenarios estimated to take less than this per replication
TIME_BUDGET = 60  # seconds per example, generous: the CPUs are shared
MEMORY_BUDGET = 3 * 1024**3  # peak resident memory of the test process


def _base(path: Path) -> dict:
    """The example's data, made quick: one day, one replication."""
    data, _ = load_scenario_data(path)
    data = copy.deepcopy(data)
    data.get("horizon", {})["days"] = 1
    data.setdefault("simulation", {})["replications"] = 1
    data.pop("variants", None)
    return data


BASES = {p.name: _base(p) for p in SCENARIOS}


def _nested(depth: int) -> list:
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


ODD_STRINGS = [
    "", " ", "x", "null", "0", "-1", "1e999", "nan", "inf", "08:00", "24:00", "7:60", "23:59",
    "é" * 3, "\u0000", "\ud7ff", "a" * 300, "../../etc/passwd", "/dev/zero", ".", "nope",
    "mon", "exponential", "transfer", "consult", "predictive", "tier1",
    "Mars/Olympus", "UTC", "Etc/GMT+14", "Etc/GMT-14", "America/St_Johns", "Asia/Kathmandu",
    "Pacific/Chatham", "Europe/London ", "utc", "Europe/../UTC",
    "2026-02-29", "2024-02-29", "1970-01-01", "2200-12-31", "0001-01-01", "9999-12-31",
    "2026-01-05 08:00", "2026-13-01",
]
EXTREME_NUMBERS = [
    0, -1, 1, 2, 0.5, 1e-300, -1e-300, 5e-324, 1e9, 1e9 + 1, 1e12, 1e30, 1e308, -1e308,
    math.inf, -math.inf, math.nan, 2**63, 2**63 - 1, 10**400, -(10**400), 86400, 3660, 3661,
    0.999999, 1.000001, 100, 101,
]
ODD_VALUES = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.sampled_from(EXTREME_NUMBERS),
    st.sampled_from([None, True, False, [], {}, [None], {"a": 1}, _nested(10), _nested(100)]),
    st.sampled_from([dt.date(1970, 1, 1), dt.date(2200, 12, 31), dt.date(1969, 12, 31),
                     dt.date(2201, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


def _paths(node, prefix=()):
    """Every (path, value) in the data: mapping keys and list items."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((prefix + (k,), v))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((prefix + (i,), v))
            out.extend(_paths(v, prefix + (i,)))
    return out


def _parent(data, path):
    node = data
    for step in path[:-1]:
        node = node[step]
    return node


def _ids(data) -> list[str]:
    return [v for p, v in _paths(data) if p and p[-1] == "id" and isinstance(v, str)]


@st.composite
def mutated(draw):
    """(name, data) of an example scenario after one to four mutations."""
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path, value = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        op = draw(st.sampled_from(["delete", "odd", "odd", "scale", "swap", "id", "add"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "odd":
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))  # later steps may edit it
        elif op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[path[-1]] = value * draw(st.sampled_from([0, -1, 1e-9, 1e-3, 7, 1e3, 1e6, 1e12]))
        elif op == "swap":  # the same value in another type
            swapped = {int: str, float: str, str: lambda v: [v], bool: str, list: lambda v: {"x": v},
                       dict: lambda v: list(v.values())}
            convert = swapped.get(type(value))
            if convert is not None:
                parent[path[-1]] = convert(value)
        elif op == "id":  # empty, duplicate or unknown ids and references
            ids = _ids(data) or ["nope"]
            parent[path[-1]] = draw(st.sampled_from(["", "nope", "x y", *ids]))
        elif op == "add":
            if isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "id", "days", "x-anchor", "variants"]))] = \
                    copy.deepcopy(draw(ODD_VALUES))
            else:
                parent.append(copy.deepcopy(value))  # a duplicate item: ids repeat
    return name, data


class _OverBudget(Exception):
    pass


def _alarm(_signum, _frame):
    raise _OverBudget(f"an example took more than {TIME_BUDGET} s")


def _check(name: str, data: dict, as_yaml: bool) -> None:
    source = f"scenarios/{name}"
    base_dir = SCENARIOS[0].parent
    if as_yaml:
        try:
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        except (yaml.YAMLError, ValueError, RecursionError):
            return  # not representable as YAML (e.g. a lone surrogate)
        given_input = text
    else:
        given_input = data
    try:
        scenario = parse_scenario(given_input, source, base_dir)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, Problem) and p.message for p in exc.problems)
        assert all(p.file == source or p.file.startswith(str(base_dir)) or p.file.startswith("/")
                   for p in exc.problems), exc.problems
        return
    work = estimate_workload(scenario, 1)
    if work.seconds > RUN_SECONDS or work.memory_bytes > 1024**3:
        # too big to run here: the work check must refuse it under limits this small
        with pytest.raises(WorkloadError):
            check_workload(scenario, 1, limits=Limits(total_seconds=RUN_SECONDS,
                                                      memory_bytes=1024**3))
        return
    results = run(scenario, 1, executor="serial")
    assert len(results.replications) == 1
    run_baseline(compile_scenario(scenario))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(mutated(), st.booleans())
def test_mutated_scenarios_are_refused_cleanly_or_run(case, as_yaml):
    name, data = case
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_BUDGET)
    try:
        _check(name, data, as_yaml)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    assert peak < MEMORY_BUDGET, f"peak memory {peak / 1024**2:.0f} MB"


def test_every_example_scenario_is_fuzzed():
    """The base scenarios themselves are valid (else every mutation would be refused)."""
    assert len(BASES) >= 5
    for name, data in BASES.items():
        parse_scenario(data, name, SCENARIOS[0].parent)
