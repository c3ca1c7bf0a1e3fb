"""bposim: discrete-event simulation of contact centres, with Erlang baselines.

The public API, imported lazily so that ``import bposim`` (and the CLI) stays fast::

    sc = bposim.load_scenario("scenarios/single_queue_erlang_c.yaml")
    one = bposim.simulate(sc, seed=1)           # one replication: frames
    res = bposim.run(sc, replications=20)       # Monte Carlo: res.summary with CIs
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_scenario": "bposim.scenario",
    "parse_scenario": "bposim.scenario",
    "Scenario": "bposim.scenario.schema",
    "with_settings": "bposim.scenario.schema",
    "simulate": "bposim.montecarlo",
    "run": "bposim.montecarlo",
    "Results": "bposim.montecarlo",
    "run_to_directory": "bposim.batch",
    "run_to_precision": "bposim.batch",
    "Precision": "bposim.batch",
    "compile_scenario": "bposim.engine.model",
    "queue_baseline": "bposim.baseline",
    "run_baseline": "bposim.baseline",
    "read_manifest": "bposim.outputs",
    "compare": "bposim.experiments",
    "sweep": "bposim.experiments",
    "Comparison": "bposim.experiments",
    "load_variants": "bposim.experiments",
    "compare_at_service": "bposim.equal_service",
    "write_report": "bposim.report",
    "plan": "bposim.planning",
    "Plan": "bposim.planning",
    "requirements": "bposim.staffing",
    "read_forecast": "bposim.staffing",
    "erlang": "bposim.erlang",
    "calibrate": "bposim.calibration",
    "backtest": "bposim.calibration",
    "BposimError": "bposim.errors",
    "ScenarioError": "bposim.errors",
    "InputError": "bposim.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bposim' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
