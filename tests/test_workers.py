"""Worker processes never outlive the bposim process that started them.

A ``bposim run --workers 2`` is killed with SIGKILL (no clean-up of any kind can run);
its worker processes must notice and exit within a few seconds instead of waiting for
work for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SQ = ROOT / "scenarios" / "single_queue_erlang_c.yaml"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[1] == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")  # a zombie has exited


def test_workers_exit_when_the_main_process_is_killed(tmp_path):
    cmd = [sys.executable, "-m", "bposim", "run", str(SQ), "-n", "60", "--workers", "2",
           "--quiet", "--out", str(tmp_path / "res")]
    main = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and main.poll() is None:
            workers = [c for c in _children(main.pid) if _alive(c)]
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the run did not start two worker processes"
        time.sleep(0.5)  # let them take work
        os.kill(main.pid, signal.SIGKILL)
        main.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
    finally:
        if main.poll() is None:
            main.kill()
    for w in left:  # do not leave them behind if the test fails
        try:
            os.kill(w, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"worker processes {left} outlived their killed parent"
