"""Issue 7's bad-input list, app side, and the many-users guarantees of the job manager: each
mistake shows a clear message on the page (no exception), and nothing is lost. The CLI side is in
test_bad_input.py."""

from __future__ import annotations

import io
import json
import math
import pickle
import zipfile

import pytest
import torch
from streamlit.testing.v1 import AppTest

import aeviz.training.device
from aeviz.data import datasets as data
from aeviz.runs.archive import CheckpointRefused, export_run, import_run
from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError, InvalidConfig
from aeviz.jobs.manager import JobManager, default_manager
from aeviz.runs.format import WEIGHTS_FILE
from aeviz.runs.store import RunStore
from aeviz.training.result import reconstruction_mse
from aeviz.training.trainer import train
from aeviz.variants import VARIANTS
from tests.conftest import ROOT
from tests.data.test_data import fake_arrays, write_idx_folder

TIMEOUT = 60


def small(**kw) -> TrainConfig:
    settings = dict(dataset="digits", variant="linear", k=4, epochs=1.0, batch_size=128, snapshot_seconds=0.0,
                    device="cpu")
    settings.update(kw)
    return TrainConfig(**settings)


def train_page(owner: str | None = None, job_id: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    if owner:
        at.session_state["aeviz_session"] = owner
    if job_id:
        at.session_state["train_job"] = job_id
    return at


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, digits):
    store = RunStore(tmp_path_factory.mktemp("ui-bad-runs"))
    return store, store.save(train(small(variant="linear", k=3, epochs=2.0), digits))


# ---------------------------------------------------------------------------- settings on the Train page

def test_k_slider_stays_inside_the_variants_range_and_the_library_refuses_outside(digits):
    at = train_page().run()
    assert not at.exception
    slider = at.slider[0]
    low, high = VARIANTS["plain"].k_range(digits.input_size)
    assert (slider.min, slider.max) == (low, min(high, max(256, low)))
    for k in (0, -3, high + 1):
        with pytest.raises(InvalidConfig, match=r"\bk\b"):
            small(variant="plain", k=k).validate(digits.input_size)


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan")])
def test_learning_rate_zero_negative_or_nan_is_refused_with_a_message(digits, lr):
    with pytest.raises(InvalidConfig, match="learning rate"):
        small(lr=lr).validate(digits.input_size)


def test_huge_learning_rate_diverges_keeps_finite_weights_and_the_page_says_so(digits):
    manager = default_manager()
    config = small(variant="plain", k=4, epochs=5.0, lr=10.0, params={"hidden": [32], "output": "identity"})
    view = manager.wait(manager.submit(config, owner="diverger").job_id, 60)
    assert view.status == "diverged" and "smaller learning rate" in view.message
    model = manager.result(view.job_id).model
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the last good weights
    assert math.isfinite(reconstruction_mse(model, digits.test_images))
    at = train_page("diverger", view.job_id).run()
    assert not at.exception
    assert "smaller learning rate" in texts(at.error)


def test_batch_larger_than_the_dataset_trains_with_a_warning_on_the_page(digits):
    manager = default_manager()
    view = manager.wait(manager.submit(small(batch_size=100_000), owner="big-batch").job_id, 60)
    assert view.status == "completed"
    at = train_page("big-batch", view.job_id).run()
    assert not at.exception
    assert f"larger than the {len(digits.train_images)} training images" in texts(at.warning)


def test_cuda_without_gpu_falls_back_to_the_cpu_saying_so(monkeypatch, digits):
    import ui.common

    monkeypatch.setitem(ui.common.device_info, "name", "CPU")
    at = train_page().run()
    at.radio(key="train_device").set_value("cuda").run()
    assert not at.exception
    assert "will train on the CPU" in texts(at.warning)
    assert not at.button(key="train_start").disabled
    monkeypatch.setattr(aeviz.training.device, "cuda_available", lambda: False)
    manager = JobManager(1)
    view = manager.wait(manager.submit(small(device="cuda"), owner="x").job_id, 60)
    assert view.status == "completed" and view.metrics["device"] == "cpu"
    assert any("no GPU" in warning for warning in view.started.warnings)


# ---------------------------------------------------------------------------- data

@pytest.fixture
def fresh_dataset_caches():
    """The page edge caches dataset statuses per process (the datasets are the library's: fresh_dataset_cache)."""
    from ui.common import dataset_statuses

    dataset_statuses.clear()
    yield
    dataset_statuses.clear()


def test_missing_dataset_shows_where_it_looked(tmp_path, monkeypatch, fresh_dataset_caches, fresh_dataset_cache):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    at = train_page()
    at.session_state["dataset"] = "mnist"
    at.run()
    assert not at.exception
    assert str(tmp_path / "empty") in texts(at.error) + texts(at.warning)


def test_corrupt_dataset_file_is_named_on_the_page(tmp_path, monkeypatch, fresh_dataset_caches, fresh_dataset_cache):
    paths = write_idx_folder(tmp_path / "data" / "FashionMNIST" / "raw", fake_arrays())
    paths["train_images"].write_bytes(paths["train_images"].read_bytes()[:500])
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "data"))
    at = train_page()
    at.session_state["dataset"] = "fashion-mnist"
    at.run()
    assert not at.exception
    assert str(paths["train_images"]) in texts(at.error)


# ---------------------------------------------------------------------------- runs folder and run store

def test_unwritable_runs_folder_keeps_the_run_in_memory_and_the_page_says_so(tmp_path, monkeypatch, digits):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(blocker / "runs"))
    manager = default_manager()
    view = manager.wait(manager.submit(small(), owner="readonly").job_id, 60)
    assert view.status == "completed" and view.run_id is None and "cannot write runs" in view.error
    result = manager.result(view.job_id)
    assert result is not None and reconstruction_mse(result.model, digits.test_images) == pytest.approx(
        view.metrics["test_mse"], rel=1e-5)
    at = train_page("readonly", view.job_id).run()
    assert not at.exception
    assert "stays in this app's memory" in texts(at.warning) and "cannot write runs" in texts(at.warning)


def test_damaged_run_is_named_on_the_page_and_the_others_load(tmp_path, monkeypatch, digits):
    store = RunStore(tmp_path / "runs")
    good = store.save(train(small(k=3), digits))
    bad = store.save(train(small(k=2), digits))
    (store.root / bad / WEIGHTS_FILE).write_bytes(b"not a zip at all")
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(store.root))
    at = AppTest.from_file(str(ROOT / "app_pages" / "reconstructions.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    at.run()
    assert not at.exception and not at.error
    assert bad in texts(at.warning) and "damaged" in texts(at.warning)
    assert at.multiselect(key="recon_runs").value == [good]
    assert len(at.get("plotly_chart")) == 6  # grid, best, worst, per class, and the copying check's two


# ---------------------------------------------------------------------------- uploaded checkpoints

class RunsCode:
    """Unpickling this would call Path.touch(marker): proof that code in a checkpoint ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path

        return (Path.touch, (Path(self.marker),))


def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def with_weights(archive_bytes: bytes, weights: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, weights if name == WEIGHTS_FILE else source.read(name))
    return out.getvalue()


def test_exported_run_imports_as_a_new_run_with_the_same_weights(saved_run, tmp_path, digits):
    store, run_id = saved_run
    target = RunStore(tmp_path / "other")
    new_id = import_run(export_run(store, run_id), target, "mine.zip")
    original, imported = store.load(run_id), target.load(new_id)
    for (name, a), (_, b) in zip(original.model.state_dict().items(), imported.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert imported.info.metrics["test_mse"] == pytest.approx(reconstruction_mse(original.model, digits.test_images))
    assert imported.config.tags["imported"] == "mine.zip"


@pytest.mark.parametrize("upload", ["random bytes", "json", "zip without config"])
def test_upload_that_is_not_a_checkpoint_is_refused(tmp_path, upload):
    payload = {"random bytes": bytes(range(256)) * 10, "json": json.dumps({"k": 3}).encode()}.get(upload)
    if payload is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "hello")
        payload = buffer.getvalue()
    store = RunStore(tmp_path / "runs")
    with pytest.raises(CheckpointRefused, match="not a run archive"):
        import_run(payload, store, "thing.zip")
    assert store.list() == []


def test_upload_with_pickled_code_is_refused_and_nothing_runs(saved_run, tmp_path):
    store, run_id = saved_run
    marker = tmp_path / "code-ran"
    evil = torch_bytes({"weight": RunsCode(str(marker))})
    target = RunStore(tmp_path / "runs")
    for payload, name in [(with_weights(export_run(store, run_id), evil), "evil.zip"), (evil, "evil.pt")]:
        with pytest.raises(AevizError, match="pickled Python code"):
            import_run(payload, target, name)
    assert not marker.exists()
    assert target.list() == []
    # the same object unpickled without the safe loader does run its code: the test can fail
    pickle.loads(pickle.dumps(RunsCode(str(marker))))
    assert marker.exists()


def test_bare_weights_and_mismatched_weights_are_refused(saved_run, tmp_path):
    store, run_id = saved_run
    weights = (store.root / run_id / WEIGHTS_FILE).read_bytes()
    with pytest.raises(CheckpointRefused, match="weights file alone"):
        import_run(weights, RunStore(tmp_path / "a"), "weights.pt")
    wrong = torch_bytes({"encoder.weight": torch.zeros(2, 2)})
    with pytest.raises(CheckpointRefused, match="do not fit"):
        import_run(with_weights(export_run(store, run_id), wrong), RunStore(tmp_path / "b"), "wrong.zip")


def test_reconstructions_page_has_the_import_and_download_panel(saved_run, monkeypatch):
    store, run_id = saved_run
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(store.root))
    at = AppTest.from_file(str(ROOT / "app_pages" / "reconstructions.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    at.run()
    assert not at.exception
    assert at.selectbox(key="checkpoint_pick").value == run_id


# ---------------------------------------------------------------------------- many users at once

def test_sessions_cannot_stop_each_others_runs_and_each_saves_its_own(digits):
    manager = JobManager(max_running=2)
    alice = manager.submit(small(epochs=10_000.0), owner="alice")
    bob = manager.submit(small(epochs=2.0, k=3), owner="bob")
    with pytest.raises(AevizError, match="another session"):
        manager.stop(alice.job_id, owner="bob")
    assert manager.view(alice.job_id).active
    done_bob = manager.wait(bob.job_id, 60)
    manager.stop(alice.job_id, owner="alice")
    done_alice = manager.wait(alice.job_id, 30)
    assert (done_alice.status, done_bob.status) == ("stopped", "completed")
    assert done_alice.run_id != done_bob.run_id
    assert {i.run_id for i in RunStore().list()} == {done_alice.run_id, done_bob.run_id}
    assert RunStore().load(done_bob.run_id).config.k == 3 and RunStore().load(done_alice.run_id).config.k == 4
    assert [j.job_id for j in manager.jobs(owner="bob")] == [bob.job_id]


def test_queue_position_is_shown_and_finished_models_leave_the_device(digits):
    manager = default_manager()
    limit = manager.max_running
    long_jobs = [manager.submit(small(epochs=10_000.0, seed=seed), owner="filler") for seed in range(limit)]
    waiting = manager.submit(small(), owner="queued-session")
    try:
        assert manager.view(waiting.job_id).queue_position == 1
        at = train_page("queued-session", waiting.job_id).run()
        assert not at.exception
        assert "Queued: position 1" in texts(at.info) and "AEVIZ_MAX_JOBS" in texts(at.info)
    finally:
        for job in long_jobs:
            manager.stop(job.job_id)
    done = manager.wait(waiting.job_id, 60)
    assert done.status == "completed"
    assert manager.job(done.job_id).source is None  # the trainer (and its device copy of the data) is gone
    assert all(p.device.type == "cpu" for p in manager.result(done.job_id).model.parameters())


def test_datasets_are_loaded_once_per_process(monkeypatch, digits):
    calls = []
    original = data.read_dataset
    data.clear_cache()
    monkeypatch.setattr(data, "read_dataset", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    manager = JobManager(max_running=2)
    jobs = [manager.submit(small(k=k), owner=f"user{k}") for k in (2, 3, 4)]
    assert all(manager.wait(j.job_id, 60).status == "completed" for j in jobs)
    assert len(calls) == 1


@pytest.mark.parametrize("name, value", [("AEVIZ_MAX_JOBS", "many"), ("AEVIZ_SESSION_IDLE_SECONDS", "soon"),
                                         ("AEVIZ_CHECKPOINT_SECONDS", "-5"), ("AEVIZ_MAX_PARAMS", "0"),
                                         ("AEVIZ_MAX_SESSIONS", "a class"), ("AEVIZ_CACHE_DATASETS_MB", "0"),
                                         ("AEVIZ_CACHE_PCA_MB", "lots"), ("AEVIZ_CACHE_EMBEDDINGS", "2.5")])
def test_a_bad_server_setting_is_named_on_the_page_not_raised(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and name in at.error[0].value and repr(value) in at.error[0].value
