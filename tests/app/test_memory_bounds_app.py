"""Bounded memory as the app shows it (issue #33): the Train page shows a finished run whose model has left
memory (it loads the saved run), and a server full of sessions (AEVIZ_MAX_SESSIONS) tells a newcomer so
instead of the page, while its sessions, a reload included, go on as before."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

import ui.admission
from aeviz.jobs import sessions
from aeviz.jobs.manager import default_manager
from aeviz.jobs.presence import PRESENCE
from aeviz.runs.store import RunStore
from aeviz.training.config import TrainConfig
from tests.conftest import ROOT, wait_until
from ui.common import SESSION_KEY
from ui.kept import KeptObjects

APPTEST_TAB = "test session id"  # the one connection id AppTest gives every script run


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


def test_the_train_page_shows_a_finished_run_whose_model_has_left_memory(digits, monkeypatch):
    models, real_save = [], RunStore.save

    def save(self, result, run_id=None):
        models.append(weakref.ref(result.model))
        return real_save(self, result, run_id)

    monkeypatch.setattr(RunStore, "save", save)
    manager = default_manager()
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=1.0, snapshot_seconds=0.0, seed=31,
                         device="cpu")
    view = manager.wait(manager.submit(config, owner="released-ann").job_id, 120)
    assert view.status == "completed" and view.run_id
    wait_until(lambda: gc.collect() is not None and models[0]() is None, 30, "the model to leave memory")
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=120)
    at.session_state["dataset"] = "digits"
    at.session_state[SESSION_KEY] = "released-ann"
    at.session_state["train_job"] = view.job_id
    at.run()
    assert not at.exception
    assert f"Saved as **{view.run_id}**" in texts(at.success)
    assert f"{view.metrics['test_mse']:.4f}" in texts(at.success)


def test_what_a_gone_session_kept_goes_but_its_running_work_stays():
    objects = KeptObjects()
    sweep, finished, progress = SimpleNamespace(running=True), SimpleNamespace(running=False), {"lesson": 1}
    objects.put("ann", "sweep", sweep)
    objects.put("ann", "trainer", finished)
    objects.put("ann", "progress", progress)
    objects.put("bob", "progress", progress)
    objects.forget_owner("ann")  # her tabs have been closed for the grace (aeviz.jobs.presence)
    assert objects.get("ann", "sweep") is sweep  # still running: found again if she comes back
    assert objects.get("ann", "trainer") is None and objects.get("ann", "progress") is None
    assert objects.get("bob", "progress") is progress


@pytest.fixture
def two_sessions_connected(monkeypatch):
    """A server taking two sessions, both taken (ann's and bob's tabs connected); AppTest's own connection
    counts as connected too."""
    monkeypatch.setenv("AEVIZ_MAX_SESSIONS", "2")
    connected = {"tab-ann", "tab-bob", APPTEST_TAB}
    monkeypatch.setattr(ui.admission, "connection_check", lambda: connected.__contains__)
    PRESENCE.forget()
    ann, bob = sessions.mint(""), sessions.mint("")
    assert PRESENCE.join(ann, "tab-ann") and PRESENCE.join(bob, "tab-bob")
    yield ann, bob, connected
    PRESENCE.forget()


def test_a_full_server_tells_a_newcomer_and_lets_its_own_sessions_in(two_sessions_connected, monkeypatch):
    ann, bob, connected = two_sessions_connected
    newcomer = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not newcomer.exception
    message = texts(newcomer.error)
    assert "This server is full: 2 sessions are using it" in message and "AEVIZ_MAX_SESSIONS=2" in message
    assert "ask your teacher" in message and len(newcomer.title) == 0  # the message instead of the page
    assert PRESENCE.count() == 2 and not PRESENCE.knows(newcomer.session_state[SESSION_KEY])

    reload = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    reload.query_params["session"] = ann  # ann reloads her tab: her place, her session
    reload.run()
    assert not reload.exception and "server is full" not in texts(reload.error)
    assert reload.session_state[SESSION_KEY] == ann and reload.title[0].value == "aeviz: the autoencoder lab"

    connected.discard("tab-bob")  # bob closes his tab for good
    monkeypatch.setattr(PRESENCE, "grace_seconds", 0.0)
    PRESENCE.sweep(connected.__contains__)  # some page run notices...
    newcomer.button(key="admission_retry").click().run()  # ...and the next finds him gone: room for the newcomer
    assert not newcomer.exception and not newcomer.error
    assert newcomer.title[0].value == "aeviz: the autoencoder lab"
    assert not PRESENCE.knows(bob) and PRESENCE.knows(ann) and PRESENCE.count() == 2
