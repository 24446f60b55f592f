"""Opening a page of the app under streamlit's AppTest, on the bundled digits."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def open_page(name: str, timeout: float) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / name), default_timeout=timeout)
    at.session_state["dataset"] = "digits"
    return at
