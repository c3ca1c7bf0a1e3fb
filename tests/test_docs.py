"""Every ```python block in the README and docs/ runs (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    for doc in DOCS:
        for i, code in enumerate(BLOCK.findall(doc.read_text())):
            yield pytest.param(doc, code, id=f"{doc.name}-{i}")


@pytest.mark.parametrize("doc, code", list(_blocks()))
def test_documented_example_runs(doc, code, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("BPOSIM_DOCS_TMP", str(tmp_path))
    namespace: dict = {"__name__": "__docs__"}
    exec(compile(code, f"{doc.name}", "exec"), namespace)


def test_quickstart_commands_are_the_ci_commands():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = ("python3 -m venv .venv && .venv/bin/python -m pip install -e '.[test]' "
                "&& .venv/bin/python -m pytest -q")
    assert test_cmd in readme and test_cmd in ci
    main = re.search(r"python3 -m venv \.venv && \.venv/bin/python -m pip install -e \. "
                     r"&& \.venv/bin/bposim run (\S+)", readme)
    assert main and (ROOT / main.group(1)).is_file()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
