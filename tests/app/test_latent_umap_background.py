"""No heavy work in a page's script run (issue 33): choosing "UMAP of the codes" on the Latent space page fitted
UMAP inside the script run (seconds; a minute or more while numba compiled its kernels), holding no training
slot and blocking that session. Now the choice starts (or follows) a background task that waits for a
training slot like any training: the script run returns at once with its panel ("waiting for a free training
slot: position N", then its progress), PCA of the codes stays a click away, and the UMAP is drawn when done,
for every session at once afterwards. umap's UMAP is stood in for (tests/jobs/test_embeddings.py)."""

from __future__ import annotations

import threading

import pytest

from aeviz.analysis import umap_embed
from aeviz.jobs import embeddings
from aeviz.jobs.manager import default_manager
from aeviz.training.shared_tasks import SharedTasks
from tests.apptest import open_page
from tests.conftest import save_short_runs, wait_until
from tests.jobs.test_embeddings import FakeUMAP

TIMEOUT = 60
WAIT = 60.0
UMAP = "UMAP of the codes"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, digits):
    """One short digits run with k = 3 (the page offers PCA or UMAP of its codes)."""
    return save_short_runs(tmp_path_factory.mktemp("latent-umap-runs"), "digits", [3], digits)


@pytest.fixture
def fake_umap(monkeypatch):
    calls = []

    class Counted(FakeUMAP):
        def fit_transform(self, x):
            calls.append(threading.current_thread().name)
            return super().fit_transform(x)

    monkeypatch.setattr(umap_embed, "prepare_umap", lambda: type("umap", (), {"UMAP": Counted}))
    monkeypatch.setattr(embeddings, "EMBEDDING_TASKS", SharedTasks(embeddings.KEPT_EMBEDDING_TASKS))
    umap_embed.EMBEDDINGS.clear()
    yield calls
    umap_embed.EMBEDDINGS.clear()


@pytest.fixture
def only_slot_taken():
    """The app's manager trains one thing at once, and another session's training holds that slot:
    (manager, that hold; release it to go on). The limit comes back afterwards."""
    manager = default_manager()
    limit = manager.max_running
    manager.set_limit(1)
    busy = manager.hold_slot("another session", "another training")
    try:
        assert busy.wait_turn(threading.Event())
        yield manager, busy
    finally:
        manager.release(busy)
        manager.set_limit(limit)


def progress_texts(at) -> list[str]:
    return [bar.proto.text for bar in at.get("progress")]


def umap_charts(at) -> list:
    return [chart for chart in at.get("plotly_chart") if "UMAP 1" in chart.proto.spec]


def keys(store, digits) -> list[tuple]:
    """The page's UMAP key of each run: (run id, created, points; all the digits' test codes)."""
    return [(run.run_id, run.created, len(digits.test_labels)) for run in store.list()]


def test_umap_of_the_codes_is_made_in_the_background_in_a_training_slot(store_env, digits, fake_umap,
                                                                        only_slot_taken):
    manager, busy = only_slot_taken
    at = open_page("latent_space.py", TIMEOUT).run()
    assert not at.exception and at.radio(key="latent_method").value == "PCA of the codes"
    at.radio(key="latent_method").set_value(UMAP).run()  # returns while the only slot is taken
    assert not at.exception and not at.error
    assert not fake_umap and not umap_charts(at)  # nothing fitted in the script run
    assert any("waiting for a free training slot" in text for text in progress_texts(at))
    [task] = [embeddings.EMBEDDING_TASKS.get(key) for key in keys(store_env, digits)]
    wait_until(lambda: task.progress.text.endswith("position 1"), WAIT, "the task to learn its place")
    at.run()
    assert any(text.endswith("waiting for a free training slot: position 1") for text in progress_texts(at))

    at.radio(key="latent_method").set_value("PCA of the codes").run()  # PCA stays available meanwhile
    assert not at.exception and any("PC1 of codes" in chart.proto.spec for chart in at.get("plotly_chart"))

    manager.release(busy)
    assert task.wait(WAIT) and task.status == "completed", task.message
    assert fake_umap == [f"aeviz-{task.label}"]  # fitted once, in the task's thread
    at.radio(key="latent_method").set_value(UMAP).run()
    assert not at.exception and len(umap_charts(at)) == 1 and not progress_texts(at)

    other = open_page("latent_space.py", TIMEOUT)  # another session: drawn at once, not fitted again
    other.session_state["latent_method"] = UMAP
    other.run()
    assert not other.exception and len(umap_charts(other)) == 1 and len(fake_umap) == 1


def test_a_failed_umap_says_so_and_offers_another_try(store_env, digits, fake_umap, monkeypatch):
    def missing():
        raise ModuleNotFoundError("No module named 'umap'")

    monkeypatch.setattr(umap_embed, "prepare_umap", missing)
    at = open_page("latent_space.py", TIMEOUT)
    at.session_state["latent_method"] = UMAP
    at.run()
    assert not at.exception
    [task] = [embeddings.EMBEDDING_TASKS.get(key) for key in keys(store_env, digits)]
    assert task.wait(WAIT) and task.status == "failed"
    at.run()
    assert not at.exception and not umap_charts(at)
    assert [e.value for e in at.error] == ["UMAP failed: ModuleNotFoundError: No module named 'umap'. "
                                           "PCA of the codes still works."]
    assert at.button(key="latent_umap_again")


def test_stop_leaves_the_umap_and_try_again_makes_it(store_env, digits, fake_umap, only_slot_taken):
    manager, busy = only_slot_taken
    at = open_page("latent_space.py", TIMEOUT)
    at.session_state["latent_method"] = UMAP
    at.run()
    [task] = [embeddings.EMBEDDING_TASKS.get(key) for key in keys(store_env, digits)]
    at.button(key="latent_umap_task_stop").click().run()  # the only follower leaves: it stops
    assert task.wait(WAIT) and task.status == "cancelled" and not fake_umap
    at.run()
    assert not at.exception and not umap_charts(at) and at.button(key="latent_umap_again")
    manager.release(busy)
    at.button(key="latent_umap_again").click().run()
    [again] = [embeddings.EMBEDDING_TASKS.get(key) for key in keys(store_env, digits)]
    assert again is not task and again.wait(WAIT) and again.status == "completed", again.message
    at.run()
    assert not at.exception and len(umap_charts(at)) == 1
