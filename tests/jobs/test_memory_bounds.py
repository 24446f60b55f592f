"""A class on one server for hours in bounded memory (issue #33): a finished job lets go of its model once
its run is saved (pages load it from the run store)."""

from __future__ import annotations

import gc
import weakref

import pytest

import aeviz.runs.store
from aeviz.jobs.manager import JobManager
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
