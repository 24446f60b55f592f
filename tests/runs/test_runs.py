"""The run store: save, list, load and delete; unwritable folders; damaged runs; checkpoints that
are not checkpoints or that carry pickled code."""

from __future__ import annotations

import io
import json
import os
import pickle

import numpy as np
import pytest
import torch

from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError, DamagedRun, RunNotFound
from aeviz.runs.format import WEIGHTS_FILE
from aeviz.runs.store import RunStore
from aeviz.runs.checks import load_weights_into_model
from aeviz.training.trainer import Trainer
from aeviz.training.result import reconstruction_mse


@pytest.fixture(scope="module")
def results(digits):
    """Two short trained runs (k=3 and k=5), kept in memory; each test saves them where it likes."""
    out = []
    for k in (3, 5):
        trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=k, epochs=1, batch_size=256,
                                      device="cpu", params={"hidden": "16"}), digits)
        for _ in trainer.run():
            pass
        out.append(trainer.finished.result)
    return out


def test_save_list_load_delete_roundtrip(results, digits, tmp_path):
    store = RunStore(tmp_path / "runs")
    result = results[0]
    run_id = store.save(result)
    assert run_id.startswith("plain-k3-digits-")

    [info] = store.list()
    assert info.run_id == run_id and not info.damaged
    assert info.config["k"] == 3 and info.config["params"] == {"hidden": "16"}
    assert info.metrics["test_mse"] == pytest.approx(result.metrics["test_mse"])
    assert "plain" in info.label and "k=3" in info.label

    loaded = store.load(run_id)
    assert loaded.run_id == run_id and loaded.config == result.config
    assert not loaded.model.training
    with torch.no_grad():
        assert torch.equal(loaded.model(digits.test_images), result.model(digits.test_images))
    assert reconstruction_mse(loaded.model, digits.test_images) == pytest.approx(result.metrics["test_mse"])
    assert loaded.history == result.history and loaded.test_history == result.test_history
    assert set(loaded.code_snapshots) == set(result.code_snapshots)
    for name, array in result.code_snapshots.items():
        np.testing.assert_array_equal(loaded.code_snapshots[name], array)

    store.delete(run_id)
    assert store.list() == []
    with pytest.raises(RunNotFound):
        store.load(run_id)
    with pytest.raises(RunNotFound):
        store.delete(run_id)


def test_store_root_defaults_to_aeviz_runs_dir(results, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path / "from-env"))
    run_id = RunStore().save(results[1])
    assert (tmp_path / "from-env" / run_id / WEIGHTS_FILE).is_file()


def test_newest_run_is_listed_first(results, tmp_path):
    store = RunStore(tmp_path)
    first = store.save(results[0])
    second = store.save(results[1])
    assert [info.run_id for info in store.list()] == [second, first]


@pytest.mark.parametrize("run_id", ["", "..", "../elsewhere", "a/b", ".hidden"])
def test_run_ids_cannot_escape_the_store(tmp_path, run_id):
    with pytest.raises(RunNotFound):
        RunStore(tmp_path).load(run_id)


def test_unwritable_runs_folder_keeps_the_result_in_memory(results, digits, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = RunStore(blocker / "runs")  # a folder below a file can never be created, even by root
    # the library cannot promise the model outlives the process (a CLI exits): it says nothing was saved
    with pytest.raises(AevizError, match="cannot write runs to .*nothing was saved.*AEVIZ_RUNS_DIR"):
        store.save(results[0])

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(blocker / "runs"))
    trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, device="cpu",
                                  params={"hidden": "16"}), digits, store=RunStore())
    for _ in trainer.run():
        pass
    finished = trainer.finished
    assert finished.status == "completed" and finished.saved_run_id is None
    assert "cannot write runs" in finished.save_error
    assert reconstruction_mse(finished.result.model, digits.test_images) == pytest.approx(
        finished.result.metrics["test_mse"])


def corrupt(path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "garbage":
        path.write_bytes(os.urandom(2000))
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif how == "empty":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["missing", "garbage", "truncated", "empty"])
def test_run_with_bad_weights_is_listed_damaged_and_others_still_load(results, tmp_path, how):
    store = RunStore(tmp_path)
    bad = store.save(results[0])
    good = store.save(results[1])
    corrupt(tmp_path / bad / WEIGHTS_FILE, how)

    infos = {info.run_id: info for info in store.list()}
    assert infos[bad].damaged and WEIGHTS_FILE in infos[bad].problem
    assert infos[bad].label.endswith("(damaged)")
    assert not infos[good].damaged
    assert store.load(good).model.k == 5
    with pytest.raises(DamagedRun, match=f"run {bad} is damaged"):
        store.load(bad)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"k": 3}'])
def test_run_with_bad_config_is_listed_damaged(results, tmp_path, content):
    store = RunStore(tmp_path)
    bad = store.save(results[0])
    (tmp_path / bad / "config.json").write_text(content)
    [info] = store.list()
    assert info.damaged
    with pytest.raises(DamagedRun):
        store.load(bad)


def test_weights_that_do_not_fit_are_flagged_when_listed_and_refused_at_load(results, tmp_path):
    """An intact archive whose tensors do not fit the model is caught already when listed (names and
    shapes read through mmap), and at load time, with the run named."""
    store = RunStore(tmp_path)
    bad = store.save(results[0])
    torch.save({"unexpected": torch.zeros(3)}, tmp_path / bad / WEIGHTS_FILE)
    assert "weights do not fit" in store.list()[0].problem
    with pytest.raises(DamagedRun, match=f"run {bad} is damaged: weights do not fit the model"):
        store.load(bad)


# ------------------------------------------------------------------ checkpoints from outside

class RunsCodeWhenUnpickled:
    """Unpickling this creates a folder: proof that code ran."""

    def __init__(self, proof):
        self.proof = str(proof)

    def __reduce__(self):
        return (os.makedirs, (self.proof,))


def config_json(result) -> dict:
    return {**result.config.to_json(), "input_shape": list(result.model.input_shape)}


def checkpoint_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_weights_from_bytes_load(results, digits):
    result = results[0]
    state = {name: value.clone() for name, value in result.model.state_dict().items()}
    model = load_weights_into_model(config_json(result), checkpoint_bytes(state))
    with torch.no_grad():
        assert torch.equal(model(digits.test_images), result.model(digits.test_images))


@pytest.mark.parametrize("wrap", ["inside_state_dict", "whole_file", "legacy_pickle"])
def test_checkpoint_with_pickled_code_is_refused_and_not_run(results, wrap, tmp_path):
    result = results[0]
    state = dict(result.model.state_dict())
    evil = RunsCodeWhenUnpickled(tmp_path / "code-ran")
    if wrap == "inside_state_dict":
        payload = checkpoint_bytes({**state, "extra": evil})
    elif wrap == "whole_file":
        payload = checkpoint_bytes(evil)
    else:
        payload = pickle.dumps(evil)
    pickle.loads(pickle.dumps(RunsCodeWhenUnpickled(tmp_path / "control")))  # the probe works when unpickled
    assert (tmp_path / "control").is_dir()
    with pytest.raises(DamagedRun, match="refused") as caught:
        load_weights_into_model(config_json(result), payload)
    assert "Python code" in str(caught.value) or "plain tensors" in str(caught.value)
    assert "weights_only" not in str(caught.value)  # no advice to switch the safety off
    assert not (tmp_path / "code-ran").exists()


@pytest.mark.parametrize("payload", [b"", b"hello world\n", bytes(range(256)) * 8, b"PK\x03\x04broken"],
                         ids=["empty", "text", "binary", "broken-zip"])
def test_file_that_is_not_a_checkpoint_is_refused(results, payload):
    with pytest.raises(DamagedRun) as caught:
        load_weights_into_model(config_json(results[0]), payload)
    message = str(caught.value)
    assert "\n" not in message and ("not a" in message or "refused" in message)


def test_checkpoint_of_non_tensors_or_wrong_shapes_is_refused(results):
    cfg = config_json(results[0])
    with pytest.raises(DamagedRun, match="state dict of tensors"):
        load_weights_into_model(cfg, checkpoint_bytes({"a": 1}))
    with pytest.raises(DamagedRun, match="state dict of tensors"):
        load_weights_into_model(cfg, checkpoint_bytes([torch.zeros(2)]))
    other = dict(results[1].model.state_dict())  # k=5 weights for a k=3 model
    with pytest.raises(DamagedRun, match="do not fit the model"):
        load_weights_into_model(cfg, checkpoint_bytes(other))


def test_metrics_and_config_are_plain_json(results, tmp_path):
    store = RunStore(tmp_path)
    run_id = store.save(results[0])
    for name in ("config.json", "metrics.json", "history.json"):
        json.loads((tmp_path / run_id / name).read_text())
    saved = json.loads((tmp_path / run_id / "config.json").read_text())
    assert saved["input_shape"] == [1, 8, 8] and saved["resolved_params"]["hidden"] == [16]
    assert TrainConfig.from_json(saved) == results[0].config
