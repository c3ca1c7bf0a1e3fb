"""Named random streams: one ``numpy.random.Generator`` per purpose and per queue.

A replication's streams derive from ``SeedSequence(seed).spawn(n)[rep]``; inside it,
a stream is keyed by *names* (purpose, and queue or pool id), not by creation order,
so two variants of a scenario see the same customers (common random numbers) even
when one adds a queue or a pool. There is no global random state anywhere.
"""

from __future__ import annotations

import zlib

import numpy as np


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The seed sequence of each replication: the same as ``SeedSequence(seed).spawn``."""
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=(r,)) for r in range(replications)]


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Independent generators for one replication, created on first use by name."""

    def __init__(self, seed: np.random.SeedSequence | int):
        if not isinstance(seed, np.random.SeedSequence):
            seed = np.random.SeedSequence(seed)
        self._seed = seed
        self._cache: dict[tuple[str, str], np.random.Generator] = {}

    def get(self, purpose: str, name: str = "") -> np.random.Generator:
        """The generator for ``purpose`` (e.g. "handle") of ``name`` (e.g. a queue id)."""
        key = (purpose, name)
        rng = self._cache.get(key)
        if rng is None:
            child = np.random.SeedSequence(
                self._seed.entropy, spawn_key=tuple(self._seed.spawn_key) + (_key(purpose), _key(name))
            )
            rng = self._cache[key] = np.random.default_rng(child)
        return rng


class BufferedSampler:
    """Hands out draws of a distribution one at a time, drawn in blocks for speed.

    The k-th call always returns the k-th draw of the stream, whatever happens around
    it, which is what keeps common random numbers aligned across variants.
    """

    __slots__ = ("_spec", "_rng", "_buf", "_i", "_block")

    def __init__(self, spec, rng: np.random.Generator, block: int = 2048):
        self._spec = spec
        self._rng = rng
        self._block = block
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._spec.sample(self._rng, self._block).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
