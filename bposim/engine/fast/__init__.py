"""The fast engine (issue 11): the SimPy engine's event loop compiled with numba.

It runs the same compiled :class:`~bposim.engine.model.Model` and gives exactly the
same :class:`~bposim.engine.recorder.Recording` (every counter, wait and record) for
the same streams: it makes the same random draws in the same order (pre-drawn from
the same named streams, block by block) and breaks ties the same way (events ordered
by time, then by the order they were scheduled). :func:`unsupported` says which
features of a model it does not cover; the SimPy engine stays the reference.

numba is imported only when :func:`simulate_fast` or :func:`ensure_compiled` is first
called, so ``import bposim`` and the CLI's start-up stay light.
"""

from __future__ import annotations

from bposim.engine.fast.coverage import unsupported

__all__ = ["ensure_compiled", "simulate_fast", "unsupported"]


def simulate_fast(model, streams):
    """One replication of ``model`` with ``streams`` (see :mod:`bposim.engine.fast.run`)."""
    from bposim.engine.fast.run import simulate_fast as run
    return run(model, streams)


def ensure_compiled() -> tuple[float, bool]:
    """Compile or load the kernel: (seconds, loaded from numba's cache)."""
    from bposim.engine.fast.run import ensure_compiled as compile_
    return compile_()
