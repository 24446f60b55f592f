"""AEVIZ_MAX_SESSIONS on a real server, in Chromium (issue #33): with room for one session, a second browser
is told the server is full instead of getting a page, while the first one, reloaded, goes on as before
(Streamlit's own record of connected tabs: ui.admission). Screenshot: artifacts/screenshots/server-full.png."""

from __future__ import annotations

from tests.e2e.conftest import running_app, screenshot, wait_for_app


def test_a_second_browser_is_told_the_server_is_full_and_the_first_goes_on(tmp_path, browser_or_skip):
    with running_app(tmp_path / "runs", tmp_path / "app.log", {"AEVIZ_MAX_SESSIONS": "1"}) as url:
        first = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        first.goto(url)
        wait_for_app(first, 60_000)
        assert "This server is full" not in first.inner_text("body")
        session = first.url.split("session=")[1].split("&")[0]

        second = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        second.goto(url)
        wait_for_app(second, 60_000)
        text = second.inner_text('[data-testid="stMain"]')
        assert "This server is full: 1 session is using it" in text and "ask your teacher" in text
        assert "autoencoder lab" not in text  # no page, only the message
        screenshot(second, "server-full")

        first.reload()  # a reload of the session already there: its place, its session
        wait_for_app(first, 60_000)
        assert "This server is full" not in first.inner_text("body") and f"session={session}" in first.url
        second.get_by_role("button", name="Try again").click()  # still full: the first one is still there
        wait_for_app(second, 60_000)
        assert "This server is full" in second.inner_text('[data-testid="stMain"]')
        first.context.close()
        second.context.close()
