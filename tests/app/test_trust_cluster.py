"""Issue 34, item 5: the Ray cluster is the teacher's choice. Its address comes from the server's settings
(AEVIZ_RAY_ADDRESS), never from a page: the Sweeps page has no address to type, offers Ray only where the
server names a cluster or allows a local instance (AEVIZ_RAY_LOCAL=1), and a ray sweep started there goes to
the server's address."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from aeviz.errors import AevizError
from aeviz.server_settings import check_settings, page_executors, page_ray_address
from tests.conftest import ROOT

TIMEOUT = 60


def sweeps_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "sweeps.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    return at.run()


def no_address_input(at: AppTest) -> None:
    assert not any("address" in t.label.lower() for t in at.text_input)
    assert "sweep_ray_address" not in [t.key for t in at.text_input]


@pytest.fixture
def no_ray_settings(monkeypatch):
    monkeypatch.delenv("AEVIZ_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("AEVIZ_RAY_LOCAL", raising=False)


def test_settings_offer_ray_only_where_the_server_says_so(no_ray_settings, monkeypatch):
    assert list(page_executors()) == ["local"] and page_ray_address() is None
    monkeypatch.setenv("AEVIZ_RAY_LOCAL", "1")
    assert list(page_executors()) == ["local", "ray"] and page_ray_address() is None
    monkeypatch.setenv("AEVIZ_RAY_LOCAL", "0")
    monkeypatch.setenv("AEVIZ_RAY_ADDRESS", " head:6379 ")
    assert list(page_executors()) == ["local", "ray"] and page_ray_address() == "head:6379"
    monkeypatch.setenv("AEVIZ_RAY_LOCAL", "banana")
    with pytest.raises(AevizError, match="AEVIZ_RAY_LOCAL must be 1"):
        check_settings()


def test_without_a_server_setting_the_sweeps_page_offers_local_only(no_ray_settings):
    at = sweeps_page()
    assert not at.exception
    assert at.radio(key="sweep_executor").options == ["local"]
    no_address_input(at)


def test_a_local_ray_instance_is_offered_only_where_the_server_allows_it(no_ray_settings, monkeypatch):
    monkeypatch.setenv("AEVIZ_RAY_LOCAL", "1")
    at = sweeps_page()
    assert at.radio(key="sweep_executor").options == ["local", "ray"]
    at.radio(key="sweep_executor").set_value("ray").run()
    assert not at.exception
    no_address_input(at)


def test_a_ray_sweep_goes_to_the_servers_address_and_no_other(no_ray_settings, monkeypatch):
    pytest.importorskip("ray")
    import aeviz.jobs.sweep_executors as executors_module

    asked = []

    class Refused(AevizError):
        pass

    def make_executor(executor, ray_address=None, num_workers=None, **for_local):
        asked.append((executor, ray_address))
        raise Refused(f"not connecting to {ray_address} in a test")

    monkeypatch.setattr(executors_module, "make_executor", make_executor)
    monkeypatch.setenv("AEVIZ_RAY_ADDRESS", "127.0.0.1:1")
    at = sweeps_page()
    at.radio(key="sweep_executor").set_value("ray").run()
    no_address_input(at)
    at.session_state["sweep_ray_address"] = "evil.example:6379"  # what the old page's text input held
    at.number_input(key="sweep_budget.epochs").set_value(1.0).run()
    at.button(key="sweep_start").click().run()
    assert not at.exception
    assert asked == [("ray", "127.0.0.1:1")]
    assert any("not connecting to 127.0.0.1:1" in e.value for e in at.error)
