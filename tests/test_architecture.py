"""The module boundaries of DESIGN.md, checked in fresh interpreters."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(imports: str) -> set[str]:
    code = f"import sys; {imports}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["bposim.erlang", "bposim.metrics", "bposim.scenario",
                                    "bposim.staffing", "bposim.baseline"])
def test_analytics_metrics_and_scenarios_never_import_simpy(module):
    assert "simpy" not in _loaded_after(f"import {module}")


def test_engine_never_imports_click_or_matplotlib():
    loaded = _loaded_after("import bposim.engine.core, bposim.montecarlo")
    assert not loaded & {"click", "matplotlib"}


def test_importing_the_package_runs_nothing_heavy():
    loaded = _loaded_after("import bposim")
    assert not loaded & {"simpy", "pandas", "scipy", "matplotlib"}
