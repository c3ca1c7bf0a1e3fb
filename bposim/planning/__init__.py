"""Planning: from a forecast and targets to a least-cost shift schedule (``bposim plan``).

Stage 1 (:mod:`.requirements`): agents per interval and pool, Erlang A then simulation.
Stage 2 (:mod:`.schedule`, :mod:`.templates`): shifts chosen by an integer program.
Stage 3 (:mod:`.loop`): the schedule simulated, shortfalls raised, solved again.
:func:`plan` runs them and the Erlang C reference; :mod:`.outputs` keeps the folder.
``plan`` and ``Plan`` are imported on first use, so the scheduler alone stays free of
the simulation engine.
"""

from __future__ import annotations

__all__ = ["Plan", "plan"]


def __getattr__(name: str):
    if name in __all__:
        from bposim.planning import core

        return getattr(core, name)
    raise AttributeError(f"module 'bposim.planning' has no attribute {name!r}")
