"""Every page of the app opens in a real browser with no exception box."""

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import screenshot, wait_for_app


def page_paths() -> list[str]:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            entries = ast.literal_eval(node.value)
            return [file[:-3] for file, _title, _icon in entries if (ROOT / "pages" / file).exists()]
    raise AssertionError("app.py has no PAGES list")


@pytest.mark.parametrize("name", page_paths())
def test_page_opens_without_exception(app_server, page, name):
    url = app_server + ("/" if name == "home" else f"/{name}")
    page.goto(url)
    wait_for_app(page)
    screenshot(page, f"page-{name}")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMain"]').inner_text().strip()
