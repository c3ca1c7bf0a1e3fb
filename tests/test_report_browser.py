"""report.html in a real browser: headless Chromium loads it, logs nothing to the console,
and displays every figure.

Chromium is driven from its command line only: a wrapper page in a temporary folder
frames the report and, on load, writes what it sees (images loaded, their size) into
its own DOM, which ``--dump-dom`` prints. The report itself has no script; its
Content-Security-Policy would log a console message for any script or external load.
Needs the Debian package ``chromium``; skipped when it is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import single_queue

import bposim
from bposim.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless browser check needs Chromium: apt-get install -y chromium")

WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wrapper</title></head><body>
<iframe id="report" src="{src}" width="1200" height="900"></iframe>
<script>
window.addEventListener("load", function () {{
  var out;
  try {{
    var doc = document.getElementById("report").contentDocument;
    var imgs = Array.prototype.slice.call(doc.images);
    var shown = imgs.filter(function (i) {{
      var box = i.getBoundingClientRect();
      return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0 && box.width > 0 && box.height > 0;
    }});
    out = "images=" + imgs.length + " shown=" + shown.length + " scripts=" + doc.scripts.length
        + " title=" + doc.title;
  }} catch (e) {{
    out = "error=" + e;
  }}
  var pre = document.createElement("pre");
  pre.id = "result";
  pre.textContent = "RESULT " + out + " END";
  document.body.appendChild(pre);
}});
</script></body></html>
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    sc = single_queue(120, 180, 7, hours=4, patience=200, keep_contacts=True)
    bposim.run_to_directory(sc, base / "res", replications=2, executor="serial")
    return write_report(base / "res")


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
            f"--user-data-dir={profile}", "--allow-file-access-from-files",
            "--enable-logging=stderr", "--v=0", *extra, page.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_report_loads_without_console_messages_and_shows_every_figure(report, tmp_path):
    wrapper = tmp_path / "wrapper.html"
    wrapper.write_text(WRAPPER.format(src=report.as_uri()))
    run = _chromium(wrapper, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="result">RESULT (.*?) END</pre>', run.stdout)
    assert found, f"the wrapper page did not report: {run.stdout[-1000:]} {run.stderr[-1000:]}"
    result = found.group(1)
    figures = len(list((report.parent / "figures").glob("*.png")))
    assert figures == 6  # five interval figures and net staffing
    assert f"images={figures} shown={figures} scripts=0" in result, result
    assert "bposim report" in result
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)


def test_report_renders_to_a_screenshot(report, tmp_path):
    shot = tmp_path / "page.png"
    run = _chromium(report, tmp_path / "profile", "--window-size=1200,3000", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 50_000  # text, tables and figures, not a blank page
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
