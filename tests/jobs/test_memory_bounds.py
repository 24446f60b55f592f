"""A class on one server for hours in bounded memory (issue #33): a finished job lets go of its model once
its run is saved (pages load it from the run store); sessions that come and go leave nothing behind once
their tabs have been closed for the grace (aeviz.jobs.presence), in the job manager neither; the number of
sessions served at once is bounded; and a reload within the grace finds its jobs."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

import aeviz.runs.store
from aeviz.jobs import sessions
from aeviz.jobs.manager import JobManager
from aeviz.jobs.presence import Presence
from aeviz.runs.store import RunStore
from aeviz.training.config import TrainConfig
from aeviz.training.result import reconstruction_mse
from tests.conftest import wait_until


def small(seed: int = 0, epochs: float = 0.5) -> TrainConfig:
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=epochs, batch_size=128,
                       snapshot_seconds=0.0, seed=seed, device="cpu")


def released(reference: weakref.ref) -> bool:
    gc.collect()
    return reference() is None


# ---------------------------------------------------------------------------- finished jobs' models

@pytest.fixture
def watched_saves(monkeypatch):
    """Weak references to every model the run store saves, and a switch to make saving fail."""
    models, failing, real_save = [], {"on": False}, RunStore.save

    def save(self, result, run_id=None):
        models.append(weakref.ref(result.model))
        if failing["on"]:
            raise aeviz.runs.store.SaveFailed("cannot write runs to x (No space left on device); nothing was saved")
        return real_save(self, result, run_id)

    monkeypatch.setattr(RunStore, "save", save)
    return models, failing


def test_a_saved_job_lets_go_of_its_model_and_gives_it_back_from_the_store(digits, watched_saves):
    models, _ = watched_saves
    manager = JobManager(max_running=1, ray_address=None)
    view = manager.wait(manager.submit(small(), owner="ann").job_id, 120)
    assert view.status == "completed" and view.run_id is not None
    wait_until(lambda: released(models[0]), 30, "the finished job's model to be released")
    again = manager.view(view.job_id)  # what the Train page shows is all still there
    assert again.metrics == view.metrics and again.history and again.run_id == view.run_id
    loaded = manager.result(view.job_id)  # loaded back from the run store when asked for
    assert reconstruction_mse(loaded.model, digits.test_images) == pytest.approx(view.metrics["test_mse"], rel=1e-5)


def test_a_job_not_saved_keeps_its_model_until_it_is_saved_again(digits, watched_saves):
    models, failing = watched_saves
    failing["on"] = True
    manager = JobManager(max_running=1, ray_address=None)
    view = manager.wait(manager.submit(small(seed=1), owner="ann").job_id, 120)
    assert view.run_id is None and "No space left" in view.error
    gc.collect()
    assert models[0]() is not None and manager.result(view.job_id).model is models[0]()  # to save again, or download
    failing["on"] = False
    assert manager.save_again(view.job_id, owner="ann").run_id is not None
    wait_until(lambda: released(models[0]), 30, "the model saved at last to be released")


# ---------------------------------------------------------------------------- sessions that come and go

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_forgotten_once_its_tabs_are_closed_for_the_grace():
    clock, forgotten = Clock(), []
    presence = Presence(grace_seconds=120, clock=clock)
    presence.on_forget(forgotten.append)
    assert presence.join("ann", "tab-1") and presence.join("ann", "tab-2")  # two tabs, one session
    connected = {"tab-1", "tab-2"}
    presence.sweep(connected.__contains__)
    connected -= {"tab-1"}  # one tab closed: a reload, or for good
    presence.sweep(connected.__contains__)
    clock.now += 60
    assert presence.join("ann", "tab-3")  # the reload, within the grace
    connected |= {"tab-3"}
    connected -= {"tab-2", "tab-3"}  # every tab closed
    presence.sweep(connected.__contains__)
    clock.now += 119
    assert presence.sweep(connected.__contains__) == [] and presence.knows("ann")
    clock.now += 2
    assert presence.sweep(connected.__contains__) == ["ann"] and forgotten == ["ann"]
    assert not presence.knows("ann") and presence.count() == presence.tabs() == 0


def test_a_tab_back_within_the_grace_keeps_its_session():
    clock = Clock()
    presence = Presence(grace_seconds=120, clock=clock)
    presence.join("ann", "tab-1")
    presence.sweep(lambda tab: False)  # a dropped network...
    clock.now += 100
    presence.sweep(lambda tab: True)   # ...back before the grace is over
    clock.now += 100
    assert presence.sweep(lambda tab: False) == [] and presence.knows("ann")


def test_past_the_limit_a_newcomer_is_refused_and_holds_no_place_while_a_known_session_gets_in():
    clock = Clock()
    presence = Presence(grace_seconds=120, clock=clock)
    assert presence.join("ann", "tab-a", limit=2) and presence.join("bob", "tab-b", limit=2)
    assert not presence.join("cat", "tab-c", limit=2)
    assert presence.count() == 2 and not presence.knows("cat")
    assert presence.join("ann", "tab-a2", limit=2)  # ann's second tab, or her reload: her place
    presence.sweep(lambda tab: tab != "tab-b")  # bob closed his tab...
    clock.now += 121
    presence.sweep(lambda tab: tab != "tab-b")  # ...and is gone after the grace
    assert presence.join("cat", "tab-c", limit=2)


def test_200000_sessions_that_come_and_go_leave_the_bookkeeping_at_its_idle_size(digits):
    """Sessions minted, accepted, seen by the job manager, a few training (one following another's run), all
    closing their tabs: once the grace is over nothing of them is kept, the job manager's owners and jobs
    included (entries counted, not memory)."""
    clock = Clock()
    presence = Presence(grace_seconds=120, clock=clock)
    manager = JobManager(max_running=1, ray_address=None)
    presence.on_forget(manager.forget_owner)
    idle = (presence.count(), presence.tabs(), manager.owner_count(), len(manager.jobs()))
    trained = []
    for wave in range(200):  # 1,000 sessions a wave; each wave's tabs close as the next one's open
        tabs = {}
        for i in range(1000):
            token = sessions.mint(f"browser-{wave}-{i}")
            assert sessions.accept(token, f"browser-{wave}-{i}")
            tabs[f"tab-{wave}-{i}"] = token
            presence.join(token, f"tab-{wave}-{i}", limit=None)
            manager.touch(token)
        if wave in (0, 100):
            owner, follower = tabs[f"tab-{wave}-0"], tabs[f"tab-{wave}-1"]
            trained.append(manager.submit(small(seed=wave, epochs=100_000.0), owner=owner))
            assert manager.submit(small(seed=wave, epochs=100_000.0), owner=follower).job_id == trained[-1].job_id
        presence.sweep(tabs.__contains__)
        clock.now += 121 if wave % 2 else 60
        if wave in (3, 103):  # the training sessions are gone: their run trains on, and its end forgets them
            job = manager.view(trained[-1].job_id)
            assert job.active and not any(presence.knows(owner) for owner in job.followers)
            assert manager.owner_count() == presence.count() + 2  # the sessions there, and the run's two
            manager.stop(job.job_id)
            manager.wait(job.job_id, 60)
            assert manager.owner_count() == presence.count() and job.job_id not in [v.job_id for v in manager.jobs()]
    for _ in range(2):  # the last wave closes its tabs too
        presence.sweep(lambda tab: False)
        clock.now += 121
    presence.sweep(lambda tab: False)
    assert all(RunStore().info(view.save_as).metrics for view in trained)  # their runs are saved
    assert (presence.count(), presence.tabs(), manager.owner_count(), len(manager.jobs())) == idle == (0, 0, 0, 0)


def test_a_reload_within_the_grace_finds_its_finished_jobs(digits):
    clock = Clock()
    presence = Presence(grace_seconds=120, clock=clock)
    manager = JobManager(max_running=1, ray_address=None)
    presence.on_forget(manager.forget_owner)
    token = sessions.mint("browser")
    presence.join(token, "tab-1")
    view = manager.wait(manager.submit(small(seed=7), owner=token).job_id, 120)
    presence.sweep(lambda tab: False)  # the tab reloads: its old connection closes...
    clock.now += 30
    assert sessions.accept(token, "browser", live=presence.knows(token))
    presence.join(token, "tab-2")  # ...and the new one joins as the same session
    clock.now += 200
    presence.sweep(lambda tab: tab == "tab-2")
    assert [v.job_id for v in manager.jobs(owner=token)] == [view.job_id]


def test_an_id_expires_after_its_time_unless_its_session_has_a_tab_open(monkeypatch):
    token = sessions.mint("browser")
    assert sessions.accept(token, "browser")
    monkeypatch.setenv(sessions.IDLE_ENV, "0.05")
    wait_until(lambda: not sessions.accept(token, "browser"), 10, "the id to expire")
    assert sessions.accept(token, "browser", live=True)  # a tab of it is open: a reload keeps it
    assert not sessions.accept(token, "another browser", live=True)
    assert abs(sessions.minted_at(sessions.mint()) - time.time()) < 5  # the minted time is in the (signed) id
