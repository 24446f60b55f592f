"""Issue 34 (own datasets): an upload converts off the page's script run. The uploader's page returns while
its file converts and shows a progress bar; a second upload of that session is refused with one line until
the first has finished; another session's upload converts meanwhile. The converter is held on an Event."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

import aeviz.data.user as user_data
from aeviz.data.user import limits
from tests.conftest import ROOT, digits_npz
from tests.jobs.test_conversions import Held
from ui.user_dataset import CONVERSION_KEY

# A script run that waited for the held conversion would pass this: the test fails instead of hanging.
TIMEOUT = 30


def read(markdown: str) -> str:
    """Text as the page shows it (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture
def held(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    monkeypatch.setattr(limits, "CHUNK_BYTES", 100 * 8 * 8 * 9)  # 100 of the 8x8 digits a step
    holder = Held("first.npz")
    monkeypatch.setattr(user_data, "reader_for", holder.reader_for(user_data.reader_for))
    yield holder
    holder.release.set()


def session_uploading(file_name: str, data: bytes) -> AppTest:
    """A new session (the app's sidebar) that has chosen its own file and pressed Use this file."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.sidebar.selectbox(key="sidebar_dataset:digits").set_value("your own…").run()
    at.sidebar.get("file_uploader")[0].set_value((file_name, data, "application/octet-stream")).run()
    at.sidebar.number_input(key="sidebar_dataset_size").set_value(8).run()
    at.sidebar.button(key="sidebar_dataset_use").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_returns_while_the_upload_converts_and_shows_its_progress(held):
    at = session_uploading("first.npz", digits_npz())  # returns, though the converter is held
    assert held.reached.wait(TIMEOUT)
    conversion = at.session_state[CONVERSION_KEY]
    assert not conversion.done
    at.run()
    [bar] = at.sidebar.get("progress")
    assert read(bar.proto.text) == "first.npz: 100 of 1,797 images converted" and 5 <= bar.proto.value < 20
    assert at.session_state["dataset"] == "digits"  # unchanged until the file is converted
    held.release.set()
    assert conversion.wait(TIMEOUT)
    at.run()
    name = at.session_state["dataset"]
    assert name.startswith("user:") and name.endswith("-8") and not at.sidebar.get("progress")


def test_a_second_upload_is_refused_while_the_first_converts_and_another_session_is_not_blocked(held):
    first = session_uploading("first.npz", digits_npz())
    assert held.reached.wait(TIMEOUT)
    first.sidebar.get("file_uploader")[0].set_value(("second.npz", digits_npz(False), "application/x")).run()
    first.sidebar.button(key="sidebar_dataset_use").click().run()
    [error] = first.sidebar.error
    assert read(error.value) == ("second.npz was not started: first.npz is still converting (one file at a time "
                                 "per session); add it once that one has finished")

    other = session_uploading("other.npz", digits_npz(False))  # another session, while the first is held
    assert other.session_state[CONVERSION_KEY].wait(TIMEOUT)
    other.run()
    assert other.session_state["dataset"].startswith("user:")
    assert not first.session_state[CONVERSION_KEY].done

    held.release.set()
    assert first.session_state[CONVERSION_KEY].wait(TIMEOUT)
    first.run()
    assert first.session_state["dataset"].startswith("user:")
    assert first.session_state["dataset"] != other.session_state["dataset"]
