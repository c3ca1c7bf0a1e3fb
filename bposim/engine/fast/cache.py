"""Where numba caches the fast engine's compiled kernel (plain Python, no numba).

numba checks only each function's own source file before reusing its cache, but the
kernel freezes more than that: every function has its callees linked in and the
constants of ``layout.py`` (some taken from ``bposim.engine.recorder`` and
``bposim.engine.duty``) compiled in. So the cache directory is keyed by a digest of the
kernel's source files and those constants' values: any change lands in a fresh
directory, wherever the cache lives.

The directory is the first writable one of: ``$NUMBA_CACHE_DIR`` (the user's choice),
the package's ``__pycache__``, the user's cache directory (``$XDG_CACHE_HOME`` or
``~/.cache``, under ``bposim``), else a private temporary directory removed at exit
(a read-only install with no writable home then compiles once per process, without
a traceback).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from bposim.engine.fast import layout

HERE = Path(__file__).resolve().parent
KERNEL_FILES = ("layout.py", "k_compile.py", "k_base.py", "k_contact.py", "k_agent.py", "kernel.py")
PREFIX = "bposim-fast-"


def kernel_digest() -> str:
    """SHA-256 of the kernel's source files and of the values of layout's constants
    (every upper-case name in its namespace, including those it imports)."""
    h = hashlib.sha256()
    for name in KERNEL_FILES:
        h.update((HERE / name).read_bytes())
    for name in sorted(vars(layout)):
        if name.isupper():
            h.update(f"{name}={getattr(layout, name)!r}\n".encode())
    return h.hexdigest()


def bases() -> list[Path]:
    """The candidate places for the cache, best first (see the module's docstring)."""
    out = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        out.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    out.append(HERE / "__pycache__")
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        out.append((Path(xdg) if xdg else Path.home() / ".cache") / "bposim")
    except RuntimeError:  # no home directory known (HOME unset, no password entry)
        pass
    return out


def writable(path: Path) -> bool:
    """Whether ``path`` exists or can be made, and a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def cache_dir(digest: str | None = None) -> Path:
    """The directory numba should cache this kernel in (made, and writable)."""
    name = PREFIX + (digest or kernel_digest())[:16]
    for base in bases():
        candidate = base / name
        if writable(candidate):
            if base == HERE / "__pycache__":
                _drop_old(base, name)
            return candidate
    temp = Path(tempfile.mkdtemp(prefix=PREFIX))
    atexit.register(shutil.rmtree, temp, True)
    return temp


def is_cached(path: Path) -> bool:
    """Whether ``path`` already holds the compiled kernel (a warm start)."""
    return any(path.glob("*/kernel.run-*.nbi"))


def _drop_old(base: Path, keep: str) -> None:
    """Remove, from the package's own ``__pycache__`` only, kernels cached for other
    versions of the source (and the files of the former in-place cache)."""
    try:
        for old in base.glob(PREFIX + "*"):
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
        for f in [*base.glob("k_*.nb[ic]"), *base.glob("kernel.*.nb[ic]"), base / "fast_kernel.sha256"]:
            f.unlink(missing_ok=True)
    except OSError:
        pass
