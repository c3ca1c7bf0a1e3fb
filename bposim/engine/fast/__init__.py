"""The fast engine (issue 11): the SimPy engine's event loop compiled with numba.

It runs the same compiled :class:`~bposim.engine.model.Model` and gives exactly the
same :class:`~bposim.engine.recorder.Recording` (every counter, wait and record) for
the same streams: it makes the same random draws in the same order and breaks ties
the same way. :func:`unsupported` says which features of a model it does not cover;
the SimPy engine stays the reference.

How exactness is kept (developers):

- every ``BufferedSampler`` of the SimPy engine is a *stream* here, drawn from the same
  named generator with the same ``spec.sample(rng, 2048)`` blocks in order, so its
  k-th use gets the k-th value; arrival times and busyness factors come from the SimPy
  engine's own function (``bposim.engine.contacts``); streams are held as windows
  refilled between events (``arrays.Draws``);
- events are ordered by (time, insertion sequence) as SimPy's heap orders them, with
  the same scheduling calls in the same order and the same ``now + delay`` arithmetic;
  an event at exactly the end of the horizon is not run;
- per-interval time is split with the same float operations (``roster.add_time``).

Layout: ``layout.py`` (the four flat arrays and their columns), ``arrays.py`` (model
and streams to arrays), ``k_compile.py`` (how the kernel is compiled: one cached entry
point, ``kernel.run``, made of subroutines working on raw pointers), ``k_base.py``,
``k_contact.py``, ``k_agent.py`` and ``kernel.py`` (the kernel, one subroutine per
step of the SimPy engine's handlers, named in their docstrings), ``recording.py``
(arrays back to a Recording), ``coverage.py`` (what is not covered), ``cache.py``
(where the compiled kernel is cached), ``run.py`` (the loop between Python and the
kernel). A behaviour added to the SimPy engine needs a line in ``coverage.py`` until
the kernel does the same; ``tests/test_fast_engine.py`` compares the two engines.
numba caches the kernel in a directory keyed by a digest of the kernel's files and of
the constants it freezes (``cache.py``: numba itself looks only at each function's own
file), so any change compiles afresh wherever the cache lives.

numba is imported only when :func:`simulate_fast` or :func:`ensure_compiled` is first
called, so ``import bposim`` and the CLI's start-up stay light.
"""

from __future__ import annotations

from bposim.engine.fast.coverage import unsupported

__all__ = ["ensure_compiled", "simulate_fast", "unsupported"]


def simulate_fast(model, streams):
    """One replication of ``model`` with ``streams``: the SimPy engine's Recording,
    exactly (``ValueError`` naming the features if :func:`unsupported` lists any)."""
    from bposim.engine.fast.run import simulate_fast as run
    return run(model, streams)


def ensure_compiled() -> tuple[float, bool]:
    """Compile or load the kernel: (seconds, loaded from numba's cache), as measured
    when this process first loaded it."""
    from bposim.engine.fast.run import ensure_compiled as compile_
    return compile_()
