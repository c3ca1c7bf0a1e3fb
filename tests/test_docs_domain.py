"""Domain background lives in the docs: nothing the project ships points to developer
notes outside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "scenarios").glob("*.yaml"),
           *(ROOT / "experiments").rglob("*.md"), *(ROOT / "experiments").rglob("*.py"),
           *(ROOT / "bposim").rglob("*.py"), *(ROOT / "bposim").rglob("*.yaml")]


def test_nothing_cites_notes_outside_the_repository():
    offenders = [str(p.relative_to(ROOT)) for p in SHIPPED
                 if any(note in p.read_text(encoding="utf-8") for note in ("DOMAIN.md", "DESIGN.md"))]
    assert not offenders, f"cite docs/domain.md instead: {offenders}"


def test_domain_page_cites_its_sources():
    text = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    assert "## References" in text
    for source in ("Brown", "Avramidis", "Wallace", "Feldman", "Bhulai", "310.4", "Ofcom"):
        assert source in text, f"docs/domain.md no longer cites {source}"
