"""Bounded memory as the app shows it (issue #33): the Train page shows a finished run whose model has left
memory (it loads the saved run)."""

from __future__ import annotations

import gc
import weakref

from streamlit.testing.v1 import AppTest

from aeviz.jobs.manager import default_manager
from aeviz.runs.store import RunStore
from aeviz.training.config import TrainConfig
from tests.conftest import ROOT, wait_until
from ui.common import SESSION_KEY


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
