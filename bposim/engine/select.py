"""Which engine runs a scenario: the SimPy engine (the reference) or the compiled one.

``simulation.engine`` in the scenario, ``engine=`` in the Python API or ``--engine`` at
the command line (the last two override the first) is one of:

- ``auto`` (default): the fast engine (:mod:`bposim.engine.fast`, compiled with numba)
  when it covers every feature the scenario uses and numba imports; otherwise the
  SimPy engine, with one note naming what the fast engine lacks;
- ``simpy``: always the SimPy engine;
- ``fast``: the fast engine, or an error naming the features it does not cover,
  raised before anything runs (never a silent fallback).

Both engines give identical results for the same seed (the fast engine makes the same
random draws in the same order and breaks ties the same way), so the choice changes
how long a run takes, never a number; it is therefore left out of the scenario's
fingerprint (:func:`bposim.outputs.scenario_hash`).

The fallback note and the fast engine's compile time go to the ``bposim.engine``
logger at INFO level (silent unless logging is configured); the command line prints
each distinct message once per command. The compile time is that of the first use in
this process: later uses (and forked worker processes) find the code ready.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bposim.errors import InputError, Problem, ScenarioError
from bposim.scenario.schema import ENGINES, Scenario

log = logging.getLogger("bposim.engine")

_compiled: tuple[float, bool] | None = None  # (seconds, from cache) of this process's first compile


@dataclass(frozen=True)
class EngineChoice:
    """The engine ``requested`` (auto, simpy, fast) and the one that runs (``engine``:
    simpy or fast). ``uncovered``: the features the fast engine lacks, or ``unavailable``:
    why it could not be loaded, when ``auto`` fell back to SimPy. ``compile_seconds`` and
    ``from_cache``: the fast engine's compile (or cache load) in this process."""

    requested: str
    engine: str
    uncovered: tuple[str, ...] = ()
    unavailable: str = ""
    compile_seconds: float | None = None
    from_cache: bool | None = None

    @property
    def note(self) -> str:
        """One line saying why ``auto`` runs on SimPy ("" when it does not)."""
        if self.requested != "auto" or self.engine != "simpy":
            return ""
        why = f"it does not cover {', '.join(self.uncovered)}" if self.uncovered else self.unavailable
        return f"engine: SimPy, not the fast engine ({why})"

    def describe(self) -> dict:
        """The choice for a results manifest."""
        out = {"requested": self.requested, "used": self.engine}
        if self.note:
            out["note"] = self.note
        return out

    def timings(self) -> dict:
        """The fast engine's compile time, reported apart from the run time ({} on SimPy)."""
        if self.engine != "fast" or self.compile_seconds is None:
            return {}
        return {"engine_compile_seconds": round(self.compile_seconds, 3),
                "engine_loaded_from_cache": bool(self.from_cache)}


def requested_engine(scenario: Scenario, engine: str | None = None) -> str:
    """``engine`` if given, else the scenario's ``simulation.engine``; checked."""
    name = scenario.simulation.engine if engine is None else engine
    if name not in ENGINES:
        raise InputError(f"engine {name!r}: choose one of {', '.join(ENGINES)}")
    return name


def choose_engine(scenario: Scenario, engine: str | EngineChoice | None = None, *,
                  model=None) -> EngineChoice:
    """The engine that runs ``scenario``: ``engine`` (auto, simpy, fast) if given, else
    the scenario's ``simulation.engine``. ``model``: the compiled scenario, if at hand.

    Raises :class:`ScenarioError` (the scenario asks for ``fast``) or :class:`InputError`
    (``engine="fast"`` was passed) when the fast engine cannot run this scenario. An
    :class:`EngineChoice` made earlier is kept unless it ran the fast engine and this
    scenario's ``model`` (say a variant's) is not covered: then the choice is made again.
    Without a model it is kept as it is (each replication checks its own model)."""
    if isinstance(engine, EngineChoice):
        if engine.engine == "simpy" or model is None or not _uncovered(scenario, model):
            return engine
        engine = engine.requested
    from_scenario = engine is None
    requested = requested_engine(scenario, engine)
    if requested == "simpy":
        return EngineChoice("simpy", "simpy")
    try:
        missing = _uncovered(scenario, model)
    except ImportError as exc:  # numba (a dependency) missing or broken in this environment
        return _unavailable(requested, exc)
    if missing and requested == "fast":
        raise _not_covered(scenario, missing, from_scenario)
    if missing:
        choice = EngineChoice("auto", "simpy", uncovered=missing)
        log.info(choice.note)
        return choice
    try:
        seconds, cached = _compile()
    except Exception as exc:  # numba missing, or it cannot compile or cache the kernel here
        return _unavailable(requested, exc)
    return EngineChoice(requested, "fast", compile_seconds=seconds, from_cache=cached)


def _unavailable(requested: str, exc: Exception) -> EngineChoice:
    """SimPy with a note under ``auto``; under ``fast`` an :class:`InputError` saying why
    the fast engine cannot be loaded (never a traceback)."""
    what = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
    reason = f"the fast engine cannot be loaded: {what}"
    if requested == "fast":
        fix = "install numba (pip install numba) or " if isinstance(exc, ImportError) else ""
        raise InputError(f"{reason}; {fix}use engine auto or simpy") from None
    choice = EngineChoice("auto", "simpy", unavailable=reason)
    log.info(choice.note)
    return choice


def run_engine(choice: EngineChoice, model, streams):
    """Simulate ``model`` with ``streams`` on the chosen engine: the same ``Recording``."""
    if choice.engine == "fast":
        return _fast().simulate_fast(model, streams)
    from bposim.engine.core import simulate_model

    return simulate_model(model, streams)


def _fast():
    """The fast engine package (it imports numba itself, only when compiling); an
    ImportError when it cannot be loaded or lacks part of its interface."""
    from bposim.engine import fast

    missing = [name for name in ("unsupported", "simulate_fast", "ensure_compiled")
               if not hasattr(fast, name)]
    if missing:
        raise ImportError(f"bposim.engine.fast has no {', '.join(missing)}")
    return fast


def _uncovered(scenario: Scenario, model) -> tuple[str, ...]:
    """Names of the features of ``scenario`` the fast engine does not reproduce."""
    if model is None:
        from bposim.engine.model import compile_scenario

        model = compile_scenario(scenario)
    return tuple(_fast().unsupported(model))


def _compile() -> tuple[float, bool]:
    """Compile the fast engine (or load it from numba's cache) once per process."""
    global _compiled
    if _compiled is None:
        seconds, cached = _fast().ensure_compiled()
        _compiled = (float(seconds), bool(cached))
        log.info(f"fast engine: {'loaded from cache' if cached else 'compiled'} in {seconds:.1f} s")
    return _compiled


def _not_covered(scenario: Scenario, missing: tuple[str, ...], from_scenario: bool) -> Exception:
    """The error for ``fast`` on a scenario it cannot cover, naming the features."""
    what = (f"the fast engine does not cover {', '.join(missing)}; use engine auto (it runs "
            "such scenarios on the SimPy engine, with identical results) or simpy")
    if from_scenario and scenario.source is not None:
        return ScenarioError(Problem(str(scenario.source), "simulation.engine", what,
                                     _engine_line(scenario.source)))
    return InputError(f"{scenario.source or scenario.name}: engine fast: {what}")


def _engine_line(source) -> int | None:
    """The line of ``simulation.engine`` in the scenario file (None if it cannot be read)."""
    try:
        from bposim.scenario.load import load_scenario_data

        lines = load_scenario_data(source)[1]
    except (OSError, ScenarioError):
        return None
    return lines.get("simulation.engine", lines.get("simulation"))
