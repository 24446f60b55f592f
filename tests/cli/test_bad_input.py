"""Issue 7's bad-input list, library and CLI side: each mistake gets one clear line (no traceback)
and loses nothing. The CLI is driven in-process through `aeviz.cli.main` (the subprocess contract
is in test_cli.py); the loader and run store cases are checked in depth in test_data.py and
test_runs.py, and here as the CLI shows them."""

from __future__ import annotations

import gzip
import json

import pytest

import aeviz.training.device
from aeviz.data import datasets as data
from aeviz.cli import main
from aeviz.runs.format import WEIGHTS_FILE
from aeviz.runs.store import RunStore
from tests.data.test_data import fake_arrays, idx_bytes, write_idx_folder

QUICK = ["--dataset", "digits", "--variant", "plain", "--k", "4", "--epochs", "1", "--set", "hidden=16",
         "--device", "cpu"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *words):
    assert code not in (0, None), (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err and out == ""
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("argv, words", [
    (["train", "--variant", "nope"], ["unknown variant 'nope'", "plain"]),
    (["train", "--dataset", "nope"], ["unknown dataset 'nope'", "fashion-mnist"]),
    (["pca", "--dataset", "nope", "--k", "3"], ["unknown dataset 'nope'"]),
    (["train", "--k", "0"], ["k must be at least 1"]),
    (["train", "--k", "-3"], ["k must be at least 1"]),
    (["train", "--k", "64"], ["k=64", "<= 63"]),
    (["train", "--dataset", "fashion-mnist", "--k", "784"], ["k=784", "<= 783"]),
    (["train", "--k", "four"], ["invalid int value: 'four'", "python -m aeviz train --help"]),
    (["train", "--lr", "0"], ["learning rate"]),
    (["train", "--lr", "-0.001"], ["learning rate"]),
    (["train", "--lr", "nan"], ["learning rate", "nan"]),
    (["train", "--lr", "inf"], ["learning rate"]),
    (["train", "--lr", "1e6"], ["learning rate", "too large"]),
    (["train", "--batch-size", "0"], ["batch size"]),
    (["train", "--epochs", "0"], ["epochs"]),
    (["train", "--max-seconds", "-5"], ["max seconds"]),
    (["train", "--device", "tpu"], ["invalid choice: 'tpu'"]),
    (["train", "--set", "nope=1"], ["unknown setting 'nope'", "hidden"]),
    (["train", "--set", "hidden"], ["--set expects name=value", "'hidden'"]),
    (["train", "--set", "=3"], ["--set expects name=value"]),
    (["train", "--set", "hidden=abc"], ["hidden", "'abc'"]),
    (["train", "--set", "activation=nope"], ["activation", "'nope'", "relu"]),
    (["train", "--set", "optimizer=lbfgs"], ["optimizer", "adam"]),
    (["train", "--set", "weight_decay=-1"], ["weight_decay must be at least 0"]),
    (["train", "--set", "loss=bce", "--set", "output=identity"], ["loss=bce needs output=sigmoid"]),
    (["pca", "--k", "0"], ["k must be between 1 and 64"]),
    (["pca", "--k", "65"], ["k must be between 1 and 64"]),
    (["runs", "--delete", "no-such-run"], ["no run named 'no-such-run'"]),
    (["runs", "--delete", "../etc"], ["no run named"]),
    (["no-such-command"], ["invalid choice", "python -m aeviz --help"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) and value and value[0] in
   ("train", "pca", "runs", "no-such-command") else None)
def test_bad_arguments_give_one_clear_line(capsys, argv, words):
    assert_one_line_error(*run_cli(capsys, *argv), *words)


def test_mnist_without_train_images_is_one_line_naming_the_places(capsys, tmp_path, monkeypatch, fresh_dataset_cache):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run_cli(capsys, "train", "--dataset", "mnist", "--k", "8", "--no-save")
    assert_one_line_error(code, out, err, "MNIST is not available", str(tmp_path / "empty" / "MNIST" / "raw"),
                          str(tmp_path / "cache" / "MNIST" / "raw"), "AEVIZ_DATA_DIR")


@pytest.mark.parametrize("damage", ["truncated-gz", "wrong-magic"])
def test_corrupt_data_file_is_one_line_naming_the_file(capsys, tmp_path, monkeypatch, damage, fresh_dataset_cache):
    arrays = fake_arrays()
    paths = write_idx_folder(tmp_path / "data" / "FashionMNIST" / "raw", arrays)
    if damage == "truncated-gz":
        paths["train_images"].write_bytes(paths["train_images"].read_bytes()[:500])
    else:
        paths["train_images"].write_bytes(gzip.compress(idx_bytes(arrays["train_labels"])))
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run_cli(capsys, "train", "--dataset", "fashion-mnist", "--k", "8", "--no-save")
    assert_one_line_error(code, out, err, str(paths["train_images"]))


def test_batch_larger_than_the_dataset_trains_with_a_warning(capsys):
    code, out, err = run_cli(capsys, "train", *QUICK, "--batch-size", "100000", "--no-save")
    assert code == 0, err
    assert "warning: batch size 100000 is larger than the 1437 training images" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "completed" and any("batch size" in w for w in result["warnings"])


def test_cuda_without_gpu_falls_back_to_cpu_saying_so(capsys, monkeypatch):
    monkeypatch.setattr(aeviz.training.device, "cuda_available", lambda: False)
    code, out, err = run_cli(capsys, "train", *QUICK[:-2], "--device", "cuda", "--no-save")
    assert code == 0, err
    assert "warning: CUDA was requested but no GPU is available here; training on the CPU" in err
    assert json.loads(out.strip().splitlines()[-1])["device"] == "cpu"


def test_diverging_run_exits_non_zero_with_its_json_and_a_message(capsys):
    # Adam at the largest learning rate allowed, with an unbounded output: the loss explodes
    code, out, err = run_cli(capsys, "train", *QUICK[:-4], "--epochs", "5", "--lr", "10", "--set", "hidden=32",
                             "--set", "output=identity", "--no-save")
    assert code == 3
    assert "diverged:" in err and "smaller learning rate" in err and "Traceback" not in err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "diverged" and result["test_mse"] == result["test_mse"]  # finite, not NaN


def test_unwritable_runs_folder_still_prints_the_result(capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(blocker / "runs"))
    code, out, err = run_cli(capsys, "train", *QUICK)
    assert code == 4, err  # issue 18: not saved is not success (exit 0 hid it)
    assert "error: cannot write runs to" in err and "AEVIZ_RUNS_DIR" in err and "NOT saved" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["run_id"] is None and result["test_mse"] > 0 and result["saved"] is False


def test_damaged_run_is_listed_and_the_others_still_load(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path / "runs"))
    ids = []
    for _ in range(2):
        code, out, err = run_cli(capsys, "train", *QUICK)
        assert code == 0, err
        ids.append(json.loads(out.strip().splitlines()[-1])["run_id"])
    (tmp_path / "runs" / ids[0] / WEIGHTS_FILE).write_bytes(b"\x00" * 64)

    code, out, err = run_cli(capsys, "runs", "--json")
    assert code == 0, err
    listed = {info["run_id"]: info for info in json.loads(out.strip().splitlines()[-1])}
    assert listed[ids[0]]["damaged"] and "weights.pt" in listed[ids[0]]["problem"]
    assert not listed[ids[1]]["damaged"]
    code, out, err = run_cli(capsys, "runs")
    assert f"{ids[0]} (damaged)" in out
    assert RunStore().load(ids[1]).model.k == 4

    code, out, err = run_cli(capsys, "runs", "--delete", ids[0])  # a damaged run can still be deleted
    assert code == 0 and [info.run_id for info in RunStore().list()] == [ids[1]]


def test_seed_out_of_range_and_numpy_whole_numbers(digits):
    import numpy as np

    from aeviz.training.config import TrainConfig
    from aeviz.errors import InvalidConfig

    with pytest.raises(InvalidConfig, match="seed"):
        TrainConfig(k=4, seed=2**70).validate(64)
    with pytest.raises(InvalidConfig, match="seed"):
        TrainConfig(k=4, seed=1.5).validate(64)
    config = TrainConfig(k=np.int64(4), batch_size=np.int32(64), seed=np.int64(3))
    config.validate(64)  # whole numbers from numpy (a slider, a sweep grid) are accepted as ints
    assert type(config.k) is int and type(config.batch_size) is int and config.to_json()["k"] == 4
    with pytest.raises(InvalidConfig, match="k must be a whole number"):
        TrainConfig(k=4.5).validate(64)
