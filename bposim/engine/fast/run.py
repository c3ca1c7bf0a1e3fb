"""Run the fast engine: arrays in, kernel, Recording out (imports numba)."""

from __future__ import annotations

import time

from bposim.engine.fast.arrays import Prepared, grow
from bposim.engine.fast.coverage import unsupported
from bposim.engine.fast.recording import to_recording
from bposim.engine.fast.layout import DONE_, G_LOW, G_STATUS, LOW, OUT, ROOM
from bposim.engine.recorder import Recording

MAX_ATTEMPTS = 64  # each re-run doubles a stream's draws; this many cannot all be short


_loaded: tuple[float, bool] | None = None  # (seconds, from cache) of the kernel's import


def _kernel():
    """The compiled kernel (importing it compiles it, or loads numba's cache)."""
    global _loaded
    if _loaded is None:
        t0 = time.perf_counter()
        from bposim.engine.fast import kernel
        hits = sum(kernel.run.stats.cache_hits.values())
        misses = sum(kernel.run.stats.cache_misses.values())
        _loaded = (time.perf_counter() - t0, hits > 0 and misses == 0)
    from bposim.engine.fast import kernel
    return kernel


def simulate_fast(model, streams) -> Recording:
    """One replication of ``model`` on the compiled kernel: the SimPy engine's
    recording, exactly, for a model :func:`unsupported` calls covered."""
    missing = unsupported(model)
    if missing:
        raise ValueError(f"the fast engine does not cover {', '.join(missing)}")
    kernel = _kernel()
    prep = Prepared(model, streams)
    for _ in range(MAX_ATTEMPTS):
        I, F, DI, DF = prep.arrays()
        while True:
            status = kernel.run(I, F, DI, DF)
            if status == DONE_:
                return to_recording(prep, I, F, DI, DF)
            if status == ROOM:
                DI, DF = grow(I, DI, DF)
            elif status == LOW:
                prep.draws.extend(int(I[G_LOW]))
                F = prep.draws.refresh(I, F)
                I[G_LOW] = -1
            elif status == OUT:
                prep.draws.more(int(I[G_STATUS]))
                break
            else:
                raise RuntimeError("fast engine: an agent's pending breaks overflowed (a bug)")
    raise RuntimeError("fast engine: random streams kept running out")


def ensure_compiled() -> tuple[float, bool]:
    """Compile the kernel (or load it from numba's cache); returns (seconds taken,
    whether it came from the cache), as measured when this process first loaded it.
    The kernel's functions have explicit signatures: importing compiles them all."""
    _kernel()
    return _loaded
