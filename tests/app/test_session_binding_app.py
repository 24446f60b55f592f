"""Sessions stay their owner's whatever the server's XSRF setting (#34): with XSRF protection off the browser
holds nothing to bind a session to, so a `?session=` copied from a classmate's address bar must not open
their session; the app refuses to run and says why, and a page opened on its own mints a fresh session."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from aeviz.jobs import sessions
from tests.apptest import open_page
from ui.common import SESSION_KEY, XSRF_OPTION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def xsrf_off(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    sessions.forget()
    before = streamlit_config.get_option(XSRF_OPTION)
    streamlit_config.set_option(XSRF_OPTION, False)
    yield
    streamlit_config.set_option(XSRF_OPTION, before)
    sessions.forget()


def session_of(at) -> str | None:
    return at.session_state[SESSION_KEY] if SESSION_KEY in at.session_state else None


def test_with_xsrf_off_a_copied_session_id_opens_nothing_of_its_owner(xsrf_off):
    owner = sessions.mint("")  # what the owner's tab holds on such a server: bound to nothing
    assert sessions.accept(owner, "")
    thief = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    thief.query_params["session"] = owner  # copied from the owner's address bar
    thief.run()
    assert not thief.exception
    assert any("XSRF protection off" in error.value for error in thief.error)  # refuses, and says why
    assert session_of(thief) != owner
    page = open_page("train.py", 120)  # a page's own script, without the app's refusal: a fresh session
    page.query_params["session"] = owner
    page.run()
    assert not page.exception
    assert session_of(page) not in (None, owner) and sessions.signed(session_of(page))


def test_with_xsrf_on_the_app_runs_and_a_reload_keeps_the_session(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    sessions.forget()
    assert streamlit_config.get_option(XSRF_OPTION) is True
    owner = sessions.mint("")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["session"] = owner
    at.run()
    assert not at.exception and not any("XSRF" in error.value for error in at.error)
    assert session_of(at) == owner


def test_aeviz_serve_always_turns_xsrf_protection_on(tmp_path):
    from aeviz.serving import server

    command = server.streamlit_command(tmp_path, 8501, "localhost")  # a folder without the app's config.toml
    assert "--server.enableXsrfProtection=true" in command
