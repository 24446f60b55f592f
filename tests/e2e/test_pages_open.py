"""Every page of the app opens in a real browser with no exception box."""

import pytest

from tests.e2e.conftest import running_app, screenshot, wait_for_app


def page_paths() -> list[str]:
    from ui.page_registry import available_pages

    return [entry.url_path for entry in available_pages()]


@pytest.mark.parametrize("name", page_paths(), ids=lambda name: name or "home")
def test_page_opens_without_exception(app_server, page, name):
    url = f"{app_server}/{name}"
    page.goto(url)
    wait_for_app(page)
    screenshot(page, f"page-{name or 'home'}")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMain"]').inner_text().strip()


def test_a_deep_link_on_a_fresh_server_gets_the_whole_app(tmp_path, page):
    """The first visitor of a fresh server arriving at /train gets app.py's navigation and sidebar around the
    page (the pages folder is not named pages/, so Streamlit's older multipage mode never runs the file alone)."""
    with running_app(tmp_path / "runs", tmp_path / "streamlit.log") as url:
        page.goto(f"{url}/train")
        wait_for_app(page, 60_000)
        page.get_by_text("Train an autoencoder").wait_for()
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.count() == 1
        assert "Reconstructions" in nav.inner_text()
        assert page.locator('[data-testid="stSidebar"]').get_by_text("Runs of this session").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
