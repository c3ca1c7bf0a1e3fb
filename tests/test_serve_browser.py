"""The what-if page in a real browser: headless Chromium, driven over its DevTools pipe.

``bposim serve`` is started as a user would (free loopback port); Chromium loads the
page with every host name but the loopback address unresolvable (no network), a
headcount control is changed, the Erlang panel must follow at once, and after Run
the service level shown must equal :func:`bposim.run` on the same variant and seed.
No console message, no script error, and no request to anywhere but the server.

Chromium is driven through ``--remote-debugging-pipe`` (DevTools protocol messages,
NUL-separated, on file descriptors 3 and 4): no extra package. With
``BPOSIM_UPDATE_SCREENSHOTS=1`` the page's screenshot is written to
``docs/img/serve.png`` for the docs. Skipped when Chromium is not installed.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="bposim serve needs the extra: pip install 'bposim[serve]'")

import bposim  # noqa: E402
from bposim.overlay import apply_overrides  # noqa: E402
from bposim.scenario.load import load_scenario_data  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless browser check needs Chromium: apt-get install -y chromium")
DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "serve.png"

SCENARIO = """\
name: Help desk what-if
horizon: {start: 2026-01-05, days: 1, interval_minutes: 60}
queues:
  - id: calls
    arrivals:
      volumes: [0, 0, 0, 0, 0, 0, 0, 0, 24, 30, 36, 30, 24, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    handle_time: {dist: exponential, mean: 300}
    patience: {dist: exponential, mean: 120}
    service_level: {answer_within: 20, target: 0.8}
pools:
  - id: agents
    skills: [calls]
    staffing: {agents: 3}
simulation: {replications: 2, seed: 5}
"""


# Put the two pipe ends on fds 3 and 4 (by way of fds >= 10, so neither clobbers the
# other), then become Chromium.
PIPE_EXEC = ("import fcntl, os, sys; "
             "a, b = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]); "
             "os.dup2(a, 3); os.dup2(b, 4); os.execv(sys.argv[3], sys.argv[3:])")


class DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe."""

    def __init__(self, profile: Path):
        cmd_read, self._cmd = os.pipe()      # we write commands; Chromium reads fd 3
        self._out, out_write = os.pipe()     # Chromium writes fd 4; we read
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--mute-audio", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--window-size=1280,900", "about:blank"]
        self.log = profile.parent / "chromium.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-c", PIPE_EXEC, str(cmd_read), str(out_write), *args],
                                         pass_fds=(cmd_read, out_write), stdout=log, stderr=log)
        os.close(cmd_read)
        os.close(out_write)
        self._ids, self._replies, self.events = iter(range(1, 10**9)), {}, []
        self._ready = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session = None

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._out, 65536)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                with self._ready:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self._ready.notify_all()

    def send(self, method: str, timeout: float = 30, **params):
        msg_id = next(self._ids)
        message = {"id": msg_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        try:
            os.write(self._cmd, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise AssertionError(f"Chromium exited ({self.proc.poll()}): {self.log.read_text()[-3000:]}") from None
        with self._ready:
            if not self._ready.wait_for(lambda: msg_id in self._replies, timeout):
                raise AssertionError(f"Chromium did not answer {method} in {timeout} s")
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"the page never satisfied {expression} in {timeout} s")

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "scenarios"
    root.mkdir()
    (root / "helpdesk.yaml").write_text(SCENARIO)
    proc = subprocess.Popen([sys.executable, "-m", "bposim", "serve", str(root), "--port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        seen, found, end = [], None, time.monotonic() + 90
        while found is None and time.monotonic() < end:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                assert proc.poll() is None, "bposim serve exited: " + "".join(seen)
                continue
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", seen[-1])
        assert found, "bposim serve did not say where it listens: " + "".join(seen)
        yield root, f"http://127.0.0.1:{found.group(1)}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_changing_headcount_in_the_page_shows_the_simulated_service_level(server, tmp_path):
    root, url = server
    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.send(f"{domain}.enable")
        browser.send("Page.navigate", url=url + "/")
        browser.wait_for("document.getElementById('agents-agents') !== null"
                         " && document.getElementById('erlang').dataset.ready === '1'")
        erlang_before = float(browser.evaluate("document.querySelector('#erlang .erlang-sl').dataset.value"))

        # one more agent: the Erlang panel follows at once, before any simulation
        browser.evaluate("const i = document.getElementById('agents-agents'); i.focus(); i.select(); true")
        browser.send("Input.insertText", text="4")
        browser.wait_for("Number(document.querySelector('#erlang .erlang-sl').dataset.value) !== "
                         f"{erlang_before!r}", timeout=30)
        erlang_after = float(browser.evaluate("document.querySelector('#erlang .erlang-sl').dataset.value"))
        assert erlang_after > erlang_before

        browser.evaluate("document.getElementById('label').value = 'four agents'; "
                         "document.getElementById('run').click(); true")
        cell = "document.querySelector('td.value[data-metric=\"service_level\"][data-scope=\"queue:calls\"]')"
        shown = float(browser.wait_for(f"{cell} && {cell}.dataset.value"))
        browser.wait_for("document.querySelectorAll('#charts svg polyline').length >= 2")
        text = browser.evaluate(f"{cell}.textContent")

        if os.environ.get("BPOSIM_UPDATE_SCREENSHOTS") == "1":
            height = browser.evaluate("document.documentElement.scrollHeight")
            shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
            DOCS_IMG.parent.mkdir(exist_ok=True)
            DOCS_IMG.write_bytes(base64.b64decode(shot["data"]))
        events = list(browser.events)
    finally:
        browser.close()

    # the same variant and seed through the Python API
    data, _ = apply_overrides(load_scenario_data(root / "helpdesk.yaml")[0], {"pools.agents.agents": 4})
    expected = bposim.run(bposim.parse_scenario(data, "variant", root), executor="serial")
    sl = expected.metric("service_level", "queue:calls")["mean"]
    assert shown == sl
    assert text == f"{100 * sl:.1f} %"
    # ... and the panel showed the variant's Erlang A service level
    assert erlang_after == pytest.approx(
        float(bposim.run_baseline(bposim.compile_scenario(bposim.parse_scenario(data, "v", root)))
              ["erlang_service_level"].iloc[0]), rel=1e-9)

    console = [e for e in events if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown",
                                                     "Log.entryAdded")]
    assert not console, console
    requested = {e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"}
    assert requested and all(u.startswith(url + "/") for u in requested), requested
