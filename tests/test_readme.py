"""README.md is the front door: short, two commands to start, no history, and every link in it and in docs/
leads somewhere that exists (the file, and the heading where a link names one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")   # [text](target) and ![alt](target)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)


def _prose(text: str) -> str:
    """The text outside fenced code blocks, where a link is a link."""
    return FENCE.sub("", text)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(line.lstrip("#")) for line in _prose(path.read_text()).splitlines()
            if re.match(r"#{1,6} ", line)}


def test_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; at most {MAX_README_LINES}"


def test_the_first_code_block_holds_the_two_set_up_commands():
    block = FENCE.search(README.read_text())
    assert block, "README.md has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make serve", "make test"]


def test_readme_tells_no_history():
    text = README.read_text()
    found = re.findall(r"\b(?:issue|issues|PR|pull request)\s*#?\d+", text, flags=re.I)
    assert not found, f"README.md mentions {found}: history lives in git"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(path):
    broken = []
    for target in LINK.findall(_prose(path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.I):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{path.relative_to(ROOT)}: {broken}"
