"""Where the fast engine's compiled kernel is cached, and what happens when it cannot be.

These tests never compile the kernel (that takes about 9 s of CPU): the directory choice
and the digest are plain Python, and a failed compile is simulated by a stand-in whose
``ensure_compiled`` raises what numba raises when it finds nowhere to cache.
"""

from __future__ import annotations

import logging
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import single_queue

from bposim.cli import main
from bposim.engine import duty, recorder, select
from bposim.engine.fast import cache, layout, run
from bposim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
NO_LOCATOR = "cannot cache function 'run': no locator available for file kernel.py"


def test_layout_takes_the_simpy_engines_own_values():
    from bposim.engine.fast import arrays
    from bposim.rng import BufferedSampler

    assert layout.BREAK_RETRY == duty.BREAK_RETRY
    assert (layout.OFF, layout.BREAK, layout.REPEAT) == (recorder.OFF, recorder.BREAK, recorder.REPEAT)
    assert arrays.BLOCK == BufferedSampler(None, None)._block


@pytest.mark.parametrize("name, value", [
    ("BREAK_RETRY", 301.0),          # taken from bposim.engine.duty
    ("IDLE", 99),                    # taken from bposim.engine.recorder
    ("R_ANSWERED", 1),               # layout's own
    ("OUTCOMES", ("abandoned", "answered", "unanswered_at_end")),
])
def test_the_cache_directory_changes_when_a_frozen_constant_changes(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # leave the real cache alone
    before = cache.cache_dir()
    assert cache.cache_dir() == before  # deterministic
    monkeypatch.setattr(layout, name, value)
    after = cache.cache_dir()
    assert after != before and after.name == cache.PREFIX + cache.kernel_digest()[:16]
    assert after.parent == before.parent == tmp_path


def test_the_cache_directory_changes_when_a_kernel_file_changes(monkeypatch, tmp_path):
    for name in cache.KERNEL_FILES:
        (tmp_path / name).write_bytes((cache.HERE / name).read_bytes())
    monkeypatch.setattr(cache, "HERE", tmp_path)
    before = cache.kernel_digest()
    with open(tmp_path / "k_agent.py", "a") as f:
        f.write("\n# an edit\n")
    assert cache.kernel_digest() != before


def _unwritable(tmp_path: Path, name: str) -> Path:
    """A path under which nothing can be made, even as root: a regular file's child."""
    blocker = tmp_path / name
    blocker.write_text("not a directory")
    return blocker / "cache"


def test_the_first_writable_place_is_chosen(monkeypatch, tmp_path):
    numba_dir, package, user = tmp_path / "numba", _unwritable(tmp_path, "pkg"), tmp_path / "xdg"
    monkeypatch.setattr(cache, "HERE", package.parent)
    monkeypatch.setenv("XDG_CACHE_HOME", str(user))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(numba_dir))
    assert cache.cache_dir("ab" * 32) == numba_dir / (cache.PREFIX + "ab" * 8)  # the user's choice first
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert cache.cache_dir("ab" * 32) == user / "bposim" / (cache.PREFIX + "ab" * 8)  # package read-only


def test_with_nowhere_writable_a_private_temporary_directory_is_used(monkeypatch, tmp_path):
    monkeypatch.setattr(cache, "HERE", _unwritable(tmp_path, "pkg").parent)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(_unwritable(tmp_path, "numba")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_unwritable(tmp_path, "xdg")))
    where = cache.cache_dir("cd" * 32)
    assert where.name.startswith(cache.PREFIX) and cache.writable(where)
    assert str(tmp_path) not in str(where) and not cache.is_cached(where)


def test_old_kernels_are_dropped_from_the_package_cache_only(monkeypatch, tmp_path):
    package = tmp_path / "fast"
    (package / "__pycache__" / (cache.PREFIX + "old")).mkdir(parents=True)
    (package / "__pycache__" / "k_base.draw-20.py311.nbi").write_text("")
    (package / "__pycache__" / "arrays.cpython-311.pyc").write_text("")
    other = tmp_path / "numba" / (cache.PREFIX + "old")
    other.mkdir(parents=True)
    monkeypatch.setattr(cache, "HERE", package)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    where = cache.cache_dir("ef" * 32)
    left = sorted(p.name for p in where.parent.iterdir())
    assert left == ["arrays.cpython-311.pyc", where.name]
    assert other.is_dir()  # a shared NUMBA_CACHE_DIR may serve other versions


def test_a_cold_compile_is_announced_before_it_starts(monkeypatch, caplog):
    order = []
    monkeypatch.setattr(run, "_loaded", None)
    monkeypatch.setattr(cache, "is_cached", lambda path: order.append("checked") or False)
    caplog.set_level(logging.INFO, logger="bposim.engine")
    run.ensure_compiled()  # loads the kernel (already imported by then, or from the cache)
    notes = [r.getMessage() for r in caplog.records]
    assert order == ["checked"] and notes == ["compiling the fast engine (first use, cached afterwards)..."]


@pytest.fixture
def uncacheable(monkeypatch):
    """The fast engine as on a read-only install with no writable cache anywhere."""
    def ensure_compiled():
        raise RuntimeError(NO_LOCATOR)

    module = types.SimpleNamespace(unsupported=lambda model: [], ensure_compiled=ensure_compiled,
                                   simulate_fast=None)
    monkeypatch.setattr(select, "_fast", lambda: module)
    monkeypatch.setattr(select, "_compiled", None)


def test_a_kernel_that_cannot_be_compiled_is_a_note_under_auto_and_an_error_under_fast(uncacheable):
    sc = single_queue(60, 180, 5, hours=2)
    choice = select.choose_engine(sc)
    assert choice.engine == "simpy" and "RuntimeError" in choice.note and "no locator" in choice.note
    with pytest.raises(InputError, match="cannot be loaded: RuntimeError: .*use engine auto or simpy"):
        select.choose_engine(sc, "fast")


def test_bposim_run_falls_back_or_exits_2_without_a_traceback(uncacheable, tmp_path):
    text = (ROOT / "scenarios" / "single_queue_erlang_c.yaml").read_text()
    path = tmp_path / "sq.yaml"
    path.write_text(text.replace("replications: 20", "replications: 2"))
    args = ["run", str(path), "--quiet", "--workers", "1"]
    ok = CliRunner().invoke(main, args + ["--out", str(tmp_path / "auto")])
    assert ok.exit_code == 0, ok.output
    assert "engine: SimPy, not the fast engine (the fast engine cannot be loaded: RuntimeError" in ok.output
    bad = CliRunner().invoke(main, args + ["--out", str(tmp_path / "fast"), "--engine", "fast"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output and "no locator" in bad.output


def test_an_unknown_home_directory_is_skipped(monkeypatch, tmp_path):
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(Path, "home", no_home)
    monkeypatch.setattr(cache, "HERE", _unwritable(tmp_path, "pkg").parent)
    assert cache.bases() == [cache.HERE / "__pycache__"]
    assert cache.writable(cache.cache_dir("01" * 32))
