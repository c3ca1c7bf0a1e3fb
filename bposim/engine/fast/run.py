"""Run the fast engine: arrays in, kernel, Recording out (imports numba)."""

from __future__ import annotations

import logging
import time

from bposim.engine.fast import cache
from bposim.engine.fast.arrays import Prepared, grow
from bposim.engine.fast.coverage import unsupported
from bposim.engine.fast.recording import to_recording
from bposim.engine.fast.layout import DONE_, G_LOW, G_STATUS, LOW, OUT, ROOM
from bposim.engine.recorder import Recording

MAX_ATTEMPTS = 64  # a re-run happens only when a stream ran out inside one event


_loaded: tuple[float, bool] | None = None  # (seconds, from cache) of the kernel's import

log = logging.getLogger("bposim.engine")


def _kernel():
    """The compiled kernel (importing it compiles it, or loads numba's cache from
    :func:`cache.cache_dir`, a directory keyed by everything the kernel freezes)."""
    global _loaded
    if _loaded is None:
        t0 = time.perf_counter()
        from numba.core import config

        where = cache.cache_dir()
        if not cache.is_cached(where):
            log.info("compiling the fast engine (first use, cached afterwards)...")
        before, config.CACHE_DIR = config.CACHE_DIR, str(where)
        try:
            from bposim.engine.fast import kernel
        finally:  # the kernel's functions keep their cache; others get numba's default back
            config.CACHE_DIR = before
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
                arrays = [I, F, DI, DF]
                del I, F, DI, DF  # to_recording lets them go as it reads them
                prep.draws = None  # the streams' values are no longer needed
                return to_recording(prep, arrays)
            if status == ROOM:
                DI, DF = grow(I, DI, DF)
            elif status == LOW:
                F = prep.draws.refill(I, F, int(I[G_LOW]))
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
