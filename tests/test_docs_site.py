"""The documentation site builds cleanly, lists every page, and the CLI reference
mentions every option of every command (so docs/cli.md cannot drift from the code)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from bposim.cli import main
from bposim.cli.new_cmd import new_command

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"

# pages the site must produce (use_directory_urls: false -> page.md -> page.html, so the
# site works when opened from disk)
KEY_PAGES = ["index.html", "getting-started.html", "concepts.html", "domain.html",
             "scenario.html", "simulation.html", "erlang.html",
             "experiments.html", "report.html", "cli.html",
             "api.html", "validation.html"]


def _nav_files(nav) -> list[str]:
    files = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        files += _nav_files(value) if isinstance(value, list) else [value]
    return files


def _config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists():
    nav = _nav_files(_config()["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    missing = sorted(set(pages) - set(nav))
    assert not missing, f"add these pages to the nav in mkdocs.yml: {missing}"
    absent = sorted(set(nav) - set(pages))
    assert not absent, f"mkdocs.yml names pages that do not exist: {absent}"
    assert len(nav) == len(set(nav)), "a page appears twice in the nav"
    assert nav[0] == "index.md"


def _has_mkdocs() -> bool:
    return all(importlib.util.find_spec(m) is not None
               for m in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python"))


@pytest.mark.skipif(not _has_mkdocs(),
                    reason="mkdocs / mkdocstrings[python] not installed "
                           "(pip install -e '.[test]' installs them)")
def test_site_builds_in_strict_mode(tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    for page in KEY_PAGES:
        assert (site / page).is_file(), f"{page} missing from the built site"
    if (DOCS / "outbound.md").exists():
        assert (site / "outbound.html").is_file()
    api = (site / "api.html").read_text(encoding="utf-8")
    # mkdocstrings rendered the docstrings: anchors of documented objects exist
    for anchor in ("bposim.erlang.erlang_c", "bposim.montecarlo.run",
                   "bposim.experiments.compare", "bposim.scenario.schema.Queue",
                   "bposim.staffing.requirements", "bposim.report.write_report"):
        assert f'id="{anchor}"' in api, f"{anchor} not rendered in the API page"
    # the site makes no request to another host (no CDN scripts or styles)
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        # opened from disk, every local link names a file that exists (no directory URLs)
        for href in re.findall(r'href="(?![a-z]+:|/)([^"#?]+)', text):
            assert (html.parent / href).is_file(), f"{html.name}: link {href} has no file"
        assert not re.search(r'<script[^>]+src="https?://', text), html
        assert not re.search(r'<link[^>]+href="https?://[^"]+\.css', text), html


# ------------------------------------------------------------- CLI reference
def _commands() -> dict[str, click.Command]:
    commands = dict(main.commands)
    commands.setdefault("new", new_command)   # documented even before it is registered
    return commands


def _sections(text: str) -> dict[str, str]:
    """docs/cli.md split at its '## `bposim NAME`' headings."""
    parts = re.split(r"^## `bposim ([a-z-]+)`\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _mentions(section: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", section) is not None


def test_cli_reference_documents_every_command_option_and_argument():
    text = CLI_DOC.read_text(encoding="utf-8")
    sections = _sections(text)
    problems = []
    for name, command in sorted(_commands().items()):
        section = sections.get(name)
        if section is None:
            problems.append(f"no '## `bposim {name}`' section")
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in [*param.opts, *param.secondary_opts]:
                    if not _mentions(section, opt):
                        problems.append(f"bposim {name}: option {opt} not documented")
            elif isinstance(param, click.Argument):
                metavar = param.metavar or param.name.upper()
                if not _mentions(section, metavar):
                    problems.append(f"bposim {name}: argument {metavar} not documented")
        if not _mentions(section, f"bposim {name}"):
            problems.append(f"bposim {name}: no example")
    stale = sorted(set(sections) - set(_commands()))
    problems += [f"section for a command that does not exist: bposim {s}" for s in stale]
    for param in main.params:                 # group options: --version
        for opt in param.opts:
            if opt not in ("-h", "--help") and not _mentions(text, opt):
                problems.append(f"bposim: option {opt} not documented")
    assert not problems, "docs/cli.md is out of date:\n" + "\n".join(problems)


def test_cli_reference_lists_every_template():
    from bposim.cli.new_cmd import templates

    section = _sections(CLI_DOC.read_text(encoding="utf-8"))["new"]
    missing = [t for t in templates() if f"`{t}`" not in section]
    assert not missing, f"docs/cli.md (bposim new) does not describe templates {missing}"


def test_api_pages_show_no_rest_role_markup(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    root = Path(__file__).resolve().parent.parent
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                   cwd=root, check=True, capture_output=True)
    html = (site / "api.html").read_text()
    assert ":class:" not in html and ":func:" not in html
    assert "<code>~" not in html, "a ~-role shows its tilde"
