"""`bposim report` on compare and sweep results directories: service per variant or
point with CIs and met / missed flags, the differences table, cost against service;
the page works in a real browser (headless Chromium, as test_report_browser does)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import single_queue
from test_compare import tiny_text

from bposim.cli.report_cmd import report_command
from bposim.errors import InputError
from bposim.experiments import compare, sweep
from bposim.report.experiment import experiment_kind, write_experiment_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Tables(HTMLParser):
    """Every table's rows as lists of cell text."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data + " "


def _tables(html: str) -> list[list[list[str]]]:
    p = _Tables()
    p.feed(html)
    return p.tables


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    # 1.5 Erlangs: 2 agents miss 80/20 by far, 6 agents meet it; a copy differs by exactly 0
    few, many = single_queue(30, 180, 2, hours=3), single_queue(30, 180, 6, hours=3)
    compare({"few": few, "copy": few, "many": many}, replications=3, seed=2, executor="serial",
            out_dir=out)
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    desk = base / "desk.yaml"
    desk.write_text(tiny_text())
    out = base / "sw"
    sweep(desk, {"pools.desk.agents": [4, 6]}, replications=2, seed=5, executor="serial", out_dir=out)
    return out


def test_compare_report_shows_levels_flags_and_differences(compare_dir):
    assert experiment_kind(compare_dir) == "compare"
    r = CliRunner().invoke(report_command, [str(compare_dir)])
    assert r.exit_code == 0, r.output
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    levels, diffs = [t for t in _tables(html) if t[0][0] == "metric@scope"]
    assert levels[0][1:] == ["few", "copy", "many"]
    sl = next(row for row in levels if row[0].startswith("service_level@queue:q"))
    assert "missed" in sl[1] and sl[3].endswith("met")
    assert "utilisation@pool:p" in [row[0] for row in levels]
    assert diffs[0][1:] == ["copy", "many"]
    dsl = next(row for row in diffs if row[0] == "Δ service_level@queue:q")
    assert dsl[1] == "+0.0 ± 0.0 pp"                     # common random numbers: exactly zero
    assert dsl[2].startswith("+") and "CI excludes 0" in dsl[2]
    assert (compare_dir / "figures" / "variants.png").is_file()


def test_sweep_report_labels_points_with_their_settings(sweep_dir):
    assert experiment_kind(sweep_dir) == "sweep"
    page = write_experiment_report(sweep_dir)
    levels = [t for t in _tables(page.read_text(encoding="utf-8")) if t[0][0] == "metric@scope"][0]
    assert levels[0][1:] == ["point 0: pools.desk.agents=4", "point 1: pools.desk.agents=6"]


def test_other_folders_are_refused(tmp_path):
    with pytest.raises(InputError, match="not a compare or sweep"):
        write_experiment_report(tmp_path)


WRAPPER = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<iframe id="r" src="{src}" width="1200" height="900"></iframe>
<script>
window.addEventListener("load", function () {{
  var doc = document.getElementById("r").contentDocument;
  var shown = Array.prototype.filter.call(doc.images, function (i) {{
    return i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0; }});
  var pre = document.createElement("pre"); pre.id = "result";
  pre.textContent = "RESULT images=" + doc.images.length + " shown=" + shown.length
    + " scripts=" + doc.scripts.length + " tables=" + doc.getElementsByTagName("table").length + " END";
  document.body.appendChild(pre);
}});
</script></body></html>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install -y chromium")
@pytest.mark.parametrize("which", ["compare_dir", "sweep_dir"])
def test_experiment_report_in_a_browser(which, request, tmp_path):
    folder: Path = request.getfixturevalue(which)
    page = write_experiment_report(folder)
    wrapper = tmp_path / "wrapper.html"
    wrapper.write_text(WRAPPER.format(src=page.as_uri()))
    run = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
         "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri()],
        capture_output=True, text=True, timeout=60)
    found = re.search(r"RESULT images=(\d+) shown=(\d+) scripts=(\d+) tables=(\d+) END", run.stdout)
    assert found, run.stdout[-1000:] + run.stderr[-1000:]
    images, shown, scripts, tables = map(int, found.groups())
    assert images >= 1 and shown == images and scripts == 0 and tables >= 3
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
