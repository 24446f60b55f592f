"""UMAP of a run's codes as a shared background task (issue 33: no heavy work in a page's script run): it waits
for a training slot like any training, saying its place in the queue, reports umap's progress, puts its
result where every session finds it, stops when its last follower leaves, and says "UMAP failed: …" when umap
is missing. umap's own UMAP is stood in for by a fake that runs the same tqdm loop (real UMAP compiles numba
kernels for a minute on a cold machine: tests/analysis/test_analysis.py has the opt-in real test, and so does
this file)."""

from __future__ import annotations

import os
import threading
import types

import numpy as np
import pytest

from aeviz.analysis import umap_embed
from aeviz.jobs import embeddings
from aeviz.training.shared_tasks import SharedTask, SharedTasks
from aeviz.training.tasks import COMPLETED, FAILED, QUEUED, STOPPED
from tests.conftest import forgotten_by_presence, manager_with_one_busy_slot, wait_until

WAIT = 60.0
CODES = np.random.default_rng(0).standard_normal((300, 4)).astype(np.float32)


class FakeUMAP:
    """Stands in for umap.UMAP: its layout loop writes umap's tqdm bar; at epoch `pause_at` it waits on
    `proceed` (having set `entered`)."""

    entered: threading.Event | None = None
    proceed: threading.Event | None = None
    pause_at = -1

    def __init__(self, n_epochs=200, tqdm_kwds=None, **kwargs):
        self.n_epochs, self.tqdm_kwds = n_epochs, tqdm_kwds or {"disable": True}

    def fit_transform(self, x):
        from tqdm import tqdm

        for epoch in tqdm(range(self.n_epochs), **self.tqdm_kwds):
            if epoch == self.pause_at:
                self.entered.set()
                assert self.proceed.wait(WAIT), "the test never let the layout go on"
        return x[:, :2] * 2


@pytest.fixture
def fake_umap(monkeypatch):
    fake = type("Fake", (FakeUMAP,), {"entered": threading.Event(), "proceed": threading.Event()})
    monkeypatch.setattr(umap_embed, "prepare_umap", lambda: types.SimpleNamespace(UMAP=fake))
    monkeypatch.setattr(embeddings, "EMBEDDING_TASKS", SharedTasks(embeddings.KEPT_EMBEDDING_TASKS))
    umap_embed.EMBEDDINGS.clear()
    yield fake
    fake.proceed.set()
    umap_embed.EMBEDDINGS.clear()


def test_umap_waits_for_a_training_slot_then_embeds_for_every_session(fake_umap):
    manager, busy = manager_with_one_busy_slot()
    key = ("run-a", 1.0, len(CODES))
    task = embeddings.umap_task(key, lambda: CODES, "a", manager.slot_gate_for("a", "UMAP"))
    assert embeddings.umap_task(key, lambda: CODES, "b") is task  # a second session follows the same task
    wait_until(lambda: task.progress.text.endswith("waiting for a free training slot: position 1"), WAIT,
               "the task to say its place in the queue")
    assert task.status == QUEUED and umap_embed.EMBEDDINGS.get(key) is None
    manager.release(busy)
    assert task.wait(WAIT) and task.status == COMPLETED, task.message
    np.testing.assert_allclose(task.result, CODES[:, :2] * 2)
    assert umap_embed.EMBEDDINGS.get(key) is task.result  # every session finds it at once from now on
    assert manager.held_slots() == 0  # the slot was given back
    assert embeddings.umap_task(key, lambda: CODES, "c") is task  # given again, not made again


def test_umap_reports_its_layout_and_stops_when_its_last_follower_leaves(fake_umap):
    fake_umap.pause_at = 5
    key = ("run-b", 1.0, len(CODES))
    task = embeddings.umap_task(key, lambda: CODES, "a")
    embeddings.umap_task(key, lambda: CODES, "b")
    assert fake_umap.entered.wait(WAIT)
    wait_until(lambda: "UMAP layout: epoch" in task.progress.text or task.done, WAIT, "a layout progress line")
    assert task.leave("a") and not task.stop_requested  # b still waits
    assert not task.leave("b") and task.stop_requested
    fake_umap.proceed.set()
    assert task.wait(WAIT) and task.status == STOPPED, task.message
    assert task.result is None and umap_embed.EMBEDDINGS.get(key) is None
    again = embeddings.umap_task(key, lambda: CODES, "a")  # a stopped UMAP is made anew when asked again
    assert again is not task and again.wait(WAIT) and again.status == COMPLETED


def test_umap_missing_says_so_and_that_pca_still_works(fake_umap, monkeypatch):
    def missing():
        raise ModuleNotFoundError("No module named 'umap'")

    monkeypatch.setattr(umap_embed, "prepare_umap", missing)
    task = embeddings.umap_task(("run-c", 1.0, len(CODES)), lambda: CODES, "a")
    assert task.wait(WAIT) and task.status == FAILED
    assert task.message == ("UMAP failed: ModuleNotFoundError: No module named 'umap'. "
                            "PCA of the codes still works.")


@pytest.mark.skipif(not os.environ.get("AEVIZ_UMAP_TESTS"),
                    reason="real UMAP compiles numba kernels (a minute on a busy CPU); set AEVIZ_UMAP_TESTS=1")
def test_real_umap_in_its_task(monkeypatch):
    pytest.importorskip("umap")
    monkeypatch.setattr(embeddings, "EMBEDDING_TASKS", SharedTasks(embeddings.KEPT_EMBEDDING_TASKS))
    task = embeddings.umap_task(("run-real", 1.0, len(CODES)), lambda: CODES, "a")
    assert task.wait(600) and task.status == COMPLETED, task.message
    assert task.result.shape == (len(CODES), 2) and np.isfinite(task.result).all()



class Waits(SharedTask):
    """Runs until stopped."""

    def work(self):
        self.stop_event.wait(WAIT)


def test_a_session_gone_leaves_the_process_umap_tasks(monkeypatch):
    """The process's UMAP registry hears from aeviz.jobs.presence when a session has gone: a task only it
    followed stops."""
    task = embeddings.EMBEDDING_TASKS.start(("test", "gone-session"), lambda: Waits("waits"), "s-umap-gone")
    forgotten_by_presence("s-umap-gone", monkeypatch)
    assert task.wait(WAIT) and task.status == STOPPED and not task.followers()
