"""Issue 34, item 2 (names): an uploaded file's name is kept and shown as plain text, never as Markdown or HTML,
in the uploader's and every other session's sidebar and pages: no link, no image the browser would fetch,
no tag, colour directive or LaTeX."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from aeviz.data.user import import_file
from aeviz.data.user.store import plain_file_name
from tests.conftest import ROOT, digits_npz
from ui.plain_text import plain

HOSTILE = "![pic](https:evil.example_a.png) [click](javascript:alert(1)) <img src=x> :red[big] $x^2$ **b**.npz"
MARKERS = ("![pic]", "[click]", "](", "<img", ":red[", "$x^2$", "**b.npz")




@pytest.mark.parametrize("name, kept", [
    ("my_digits (1).npz", "my_digits (1).npz"),
    ("../../etc/x.npz", "x.npz"),
    ("line\nbreak\t\x00.npz", "line break .npz"),
    ("<b>x</b>.csv", "b_.csv"),                                # a path part: the last one is kept
    ("a" * 300 + ".zip", "a" * 75 + "….zip"),
])
def test_a_file_name_is_kept_as_plain_text(name, kept):
    assert plain_file_name(name) == kept


def test_the_kept_name_holds_no_markup():
    kept = plain_file_name(HOSTILE)
    assert not any(marker in kept for marker in MARKERS) and not set("[]<>`!$:") & set(kept)


def test_plain_escapes_every_punctuation_character_for_markdown():
    escaped = plain(HOSTILE)
    special = r"\\`*_\[\]<>!~$:&@.#|{}^"
    assert re.fullmatch(rf"(?:[^{special}]|\\[{special}])*", escaped)  # each one behind a backslash
    assert plain("a\nb") == "a b" and plain("scikit-learn (bundled)") == "scikit-learn (bundled)"
    assert plain("www.evil.example a@b.co http://x") == r"www\.evil\.example a\@b\.co http\://x"


def shown(at: AppTest) -> list[str]:
    """The Markdown of every element that renders it, in the sidebar and the page."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader", "header", "title")
    return [str(element.value) for kind in kinds for element in at.get(kind)]


def test_another_session_sees_an_uploaded_name_as_plain_text(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    info = import_file(digits_npz(), HOSTILE)  # added by the teacher (the command line): shown to every session
    assert not any(marker in info.file_name for marker in MARKERS)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)  # another session
    at.session_state["dataset"] = info.name
    at.run()
    assert not at.exception
    texts = shown(at)
    assert any("Source: shared file" in text for text in texts)
    for text in texts:
        assert not any(marker in text for marker in MARKERS), text
