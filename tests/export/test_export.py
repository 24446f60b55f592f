"""Exports: the Embedding Projector's files, codes as .npy/.csv, encoder and decoder as ONNX or
TorchScript, each read back independently (numpy, PIL, onnxruntime, torch.jit) and compared with
the model's own codes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from aeviz.cli import main
from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.export import export_run, export_zip
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer


def train_and_save(store, digits, variant: str, k: int, params=None) -> str:
    trainer = Trainer(TrainConfig(dataset="digits", variant=variant, k=k, epochs=1, batch_size=256, device="cpu",
                                  params=params or {}), digits, store=store)
    for _ in trainer.run():
        pass
    return trainer.finished.saved_run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory, digits):
    store = RunStore(tmp_path_factory.mktemp("export_runs"))
    store.run_ids = {variant: train_and_save(store, digits, variant, k, params)
                     for variant, k, params in (("plain", 3, {"hidden": "16"}), ("vae", 2, {"hidden": "16"}),
                                                ("ksparse", 12, {}))}
    return store


def model_codes(run, digits) -> np.ndarray:
    with torch.no_grad():
        return run.model.encode(digits.test_images).numpy()


def test_projector_files_hold_the_codes_labels_and_thumbnails_in_one_order(store, digits, tmp_path):
    run = store.load(store.run_ids["plain"])
    result = export_run(run, digits, "projector", tmp_path)
    n = len(digits.test_images)
    tensors = np.loadtxt(tmp_path / "tensors.tsv", delimiter="\t")
    assert tensors.shape == (n, 3)
    np.testing.assert_allclose(tensors, model_codes(run, digits), rtol=1e-6, atol=1e-6)
    rows = (tmp_path / "metadata.tsv").read_text().splitlines()
    assert rows[0] == "class\ttest_index" and len(rows) == n + 1
    labels = digits.test_labels.numpy()
    assert [row.split("\t")[0] for row in rows[1:]] == [digits.class_names[c] for c in labels]
    sprite = np.asarray(Image.open(tmp_path / "sprite.png"))
    cols = math.ceil(math.sqrt(n))
    assert sprite.shape == (math.ceil(n / cols) * 8, cols * 8)
    for i in (0, 1, cols + 2, n - 1):  # row-major, no gaps: image i sits at (i // cols, i % cols)
        cell = sprite[(i // cols) * 8:(i // cols + 1) * 8, (i % cols) * 8:(i % cols + 1) * 8]
        np.testing.assert_array_equal(cell, np.round(digits.test_images[i, 0].numpy() * 255).astype(np.uint8))
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert config.count("single_image_dim: 8") == 2 and 'tensor_path: "tensors.tsv"' in config
    assert 'metadata_path: "metadata.tsv"' in config and 'image_path: "sprite.png"' in config
    standalone = json.loads((tmp_path / "projector_config.json").read_text())["embeddings"][0]
    assert standalone["tensorShape"] == [n, 3] and standalone["sprite"]["singleImageDim"] == [8, 8]
    assert all((tmp_path / name).is_file() for name in result.files)


def test_projector_sample_keeps_each_class_and_matches_its_rows(store, digits, tmp_path):
    run = store.load(store.run_ids["plain"])
    result = export_run(run, digits, "projector", tmp_path, max_points=50)
    rows = [row.split("\t") for row in (tmp_path / "metadata.tsv").read_text().splitlines()[1:]]
    assert len(rows) == 50 == result.checks["points"] and any("50 of the" in note for note in result.notes)
    assert {name for name, _ in rows} == set(digits.class_names)
    indices = [int(index) for _, index in rows]
    np.testing.assert_allclose(np.loadtxt(tmp_path / "tensors.tsv", delimiter="\t"),
                               model_codes(run, digits)[indices], rtol=1e-6, atol=1e-6)


def test_codes_as_npy_and_csv(store, digits, tmp_path):
    run = store.load(store.run_ids["vae"])
    expected = model_codes(run, digits)
    export_run(run, digits, "npy", tmp_path / "npy")
    np.testing.assert_array_equal(np.load(tmp_path / "npy" / "codes.npy"), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "npy" / "labels.npy"), digits.test_labels.numpy())
    assert (tmp_path / "npy" / "class_names.txt").read_text().split() == list(digits.class_names)
    export_run(run, digits, "csv", tmp_path / "csv")
    lines = (tmp_path / "csv" / "codes.csv").read_text().splitlines()
    assert lines[0] == "test_index,label,class,z0,z1"
    table = np.loadtxt(lines[1:], delimiter=",", usecols=(0, 1, 3, 4))
    np.testing.assert_array_equal(table[:, 0], np.arange(len(expected)))
    np.testing.assert_array_equal(table[:, 1], digits.test_labels.numpy())
    np.testing.assert_allclose(table[:, 2:], expected, rtol=1e-6, atol=1e-7)


def test_onnx_models_reproduce_codes_and_images_in_onnxruntime(store, digits, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    run = store.load(store.run_ids["ksparse"])
    result = export_run(run, digits, "onnx", tmp_path)
    assert result.checks["encoder"]["passed"] and result.checks["decoder"]["passed"]
    assert {"encoder.onnx", "decoder.onnx"} <= set(result.files) and not list(tmp_path.glob("*.data"))
    images = digits.test_images.numpy()  # the whole test set, in a batch size the export never saw
    encoder = onnxruntime.InferenceSession(str(tmp_path / "encoder.onnx"))
    codes = encoder.run(None, {"images": images})[0]
    np.testing.assert_allclose(codes, model_codes(run, digits), atol=1e-5)
    assert (np.count_nonzero(codes, axis=1) <= run.model.params["active_units"]).all()  # top-k survived the export
    decoder = onnxruntime.InferenceSession(str(tmp_path / "decoder.onnx"))
    with torch.no_grad():
        expected = run.model.decode(torch.from_numpy(codes)).numpy()
    np.testing.assert_allclose(decoder.run(None, {"codes": codes})[0], expected, atol=1e-5)


@pytest.mark.parametrize("variant", ["plain", "vae"])
def test_torchscript_models_reproduce_codes(store, digits, tmp_path, variant):
    run = store.load(store.run_ids[variant])
    result = export_run(run, digits, "torchscript", tmp_path)
    assert result.checks["encoder"]["passed"] and result.checks["decoder"]["passed"]
    encoder = torch.jit.load(str(tmp_path / "encoder.pt"))
    with torch.no_grad():
        np.testing.assert_allclose(encoder(digits.test_images).numpy(), model_codes(run, digits), atol=1e-6)


def test_a_part_onnx_cannot_export_falls_back_to_torchscript_and_says_so(store, digits, tmp_path, monkeypatch):
    import aeviz.export.models as models

    def refuse(*args, **kwargs):
        raise RuntimeError("unsupported operator aten::something")

    monkeypatch.setattr(models, "write_onnx", refuse)
    result = export_run(store.load(store.run_ids["plain"]), digits, "onnx", tmp_path)
    assert result.checks["encoder"]["file"] == "encoder.pt" and result.checks["encoder"]["passed"]
    assert any("ONNX export failed (unsupported operator aten::something)" in note for note in result.notes)


def test_the_check_fails_when_the_exported_model_disagrees(store, digits, tmp_path, monkeypatch, capsys):
    import aeviz.export.models as models

    honest = models.run_torchscript
    monkeypatch.setattr(models, "run_torchscript", lambda path, inputs: honest(path, inputs) + 1e-3)
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(store.root))
    code = main(["export", store.run_ids["plain"], "--format", "torchscript", "--output", str(tmp_path)])
    assert code == 3
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["checks"]["encoder"]["passed"] is False
    assert any("do not rely on it" in note for note in out["notes"])


def test_cli_export_writes_the_files_and_refuses_bad_requests(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(store.root))
    assert main(["export", store.run_ids["plain"], "--format", "csv", "--output", str(tmp_path / "out")]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["files"] == ["codes.csv", "export.json"] and (tmp_path / "out" / "codes.csv").is_file()
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    assert manifest["run_id"] == store.run_ids["plain"] and manifest["input_shape"] == [1, 8, 8]
    assert main(["export", "no-such-run", "--format", "csv", "--output", str(tmp_path)]) == 2
    assert "no run named 'no-such-run'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["export", store.run_ids["plain"], "--format", "pickle", "--output", str(tmp_path)])
    assert exited.value.code == 2
    assert "invalid choice: 'pickle'" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["export", store.run_ids["plain"], "--format", "npy", "--output", str(blocker / "sub")]) == 2
    assert "cannot create the export folder" in capsys.readouterr().err


def test_export_refuses_a_dataset_of_another_shape_and_zips_for_download(store, digits):
    from dataclasses import replace

    run = store.load(store.run_ids["plain"])
    wrong = replace(digits, name="other", train_images=torch.zeros(4, 1, 28, 28), test_images=torch.zeros(4, 1, 28, 28))
    with pytest.raises(InvalidConfig, match=r"takes images of shape \(1, 8, 8\)"):
        export_run(run, wrong, "npy", "/nonexistent-never-written")
    payload, result = export_zip(run, digits, "npy")
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert sorted(archive.namelist()) == sorted(result.files)
        np.testing.assert_array_equal(np.load(io.BytesIO(archive.read("codes.npy"))), model_codes(run, digits))
