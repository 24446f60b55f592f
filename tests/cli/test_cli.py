"""The CLI contract, run as a user runs it: `python -m aeviz ...` in a subprocess with the venv's
Python. The last stdout line of train and pca is one JSON object; listings have --json."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def aeviz(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "AEVIZ_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([PYTHON, "-m", "aeviz", *args], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def last_json(stdout: str):
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "nothing on stdout"
    return json.loads(lines[-1])


def test_train_prints_its_json_line_and_saves_the_run(tmp_path):
    runs = tmp_path / "runs"
    done = aeviz("train", "--dataset", "digits", "--variant", "plain", "--k", "4", "--epochs", "2",
                 "--batch-size", "128", "--set", "hidden=16", "--device", "cpu", env={"AEVIZ_RUNS_DIR": str(runs)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result = last_json(done.stdout)
    for key in ("run_id", "test_mse", "epochs", "train_seconds", "samples_per_second", "device"):
        assert key in result, key
    assert result["device"] == "cpu" and result["status"] == "completed"
    assert result["epochs"] == pytest.approx(2.0)
    assert 0 < result["test_mse"] < 0.2 and math.isfinite(result["test_mse"])
    assert result["train_seconds"] > 0 and result["samples_per_second"] > 0
    assert (runs / result["run_id"] / "weights.pt").is_file()
    assert "training on CPU" in done.stderr and "completed" in done.stderr

    listed = aeviz("runs", "--json", env={"AEVIZ_RUNS_DIR": str(runs)})
    assert listed.returncode == 0, listed.stderr
    [info] = last_json(listed.stdout)
    assert info["run_id"] == result["run_id"] and not info["damaged"]
    assert info["metrics"]["test_mse"] == pytest.approx(result["test_mse"])


def test_pca_json_matches_scikit_learn(digits):
    from sklearn.decomposition import PCA

    done = aeviz("pca", "--dataset", "digits", "--k", "5")
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert result["dataset"] == "digits" and result["k"] == 5

    train = digits.train_images.reshape(len(digits.train_images), -1).numpy().astype(np.float64)
    test = digits.test_images.reshape(len(digits.test_images), -1).numpy().astype(np.float64)
    pca = PCA(n_components=5).fit(train)
    expected = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
    assert result["test_mse"] == pytest.approx(expected, rel=1e-4)


def test_variants_json_lists_the_registry_with_parameters():
    from aeviz.variants import VARIANTS

    done = aeviz("variants", "--json")
    assert done.returncode == 0, done.stderr
    variants = last_json(done.stdout)
    assert [v["slug"] for v in variants] == list(VARIANTS)
    by_slug = {v["slug"]: v for v in variants}
    assert by_slug["plain"]["k_range"] == {"digits": [1, 63], "mnist": [1, 783]}  # undercomplete
    for variant in variants:
        assert variant["title"] and variant["summary"] and variant["default_k"] >= 1
        assert variant["k_range"]["digits"][0] >= 1 and variant["k_range"]["mnist"][0] >= 1
        assert {"lr", "batch_size"} <= set(variant["training_defaults"])
        assert all({"name", "type", "default", "help"} <= set(p) for p in variant["params"])
    for slug in ("plain", "linear"):
        assert {"lr", "batch_size"} <= set(by_slug[slug]["training_defaults"])
    params = {p["name"]: p for p in by_slug["plain"]["params"]}
    assert params["hidden"]["type"] == "widths" and params["output"]["choices"] == ["sigmoid", "identity"]
    assert {p["name"] for p in by_slug["plain"]["trainer_params"]} == {"optimizer", "weight_decay", "lr_schedule"}


def test_datasets_json_says_what_is_available_and_from_where(tmp_path):
    from tests.data.test_data import fake_arrays, write_idx_folder

    folder = tmp_path / "data" / "FashionMNIST" / "raw"
    write_idx_folder(folder, fake_arrays())
    done = aeviz("datasets", "--json", env={"AEVIZ_DATA_DIR": str(tmp_path / "data"),
                                            "AEVIZ_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    statuses = {s["name"]: s for s in last_json(done.stdout)}
    assert set(statuses) == {"mnist", "fashion-mnist", "digits"}
    assert statuses["digits"]["available"]
    assert statuses["fashion-mnist"]["available"] and str(folder) in statuses["fashion-mnist"]["source"]
    mnist = statuses["mnist"]
    assert not mnist["available"] and mnist["source"] is None
    assert any(str(tmp_path / "data" / "MNIST" / "raw") in place for place in mnist["tried"])
    assert "AEVIZ_DATA_DIR" in mnist["hint"]


# A few through a real process (each costs an interpreter start); test_bad_input.py has the full list.
@pytest.mark.parametrize("args, words", [
    (["train", "--variant", "nope"], "unknown variant 'nope'"),
    (["train", "--k", "64"], "k=64 is outside"),
    (["train", "--lr", "nan", "--set", "hidden=8"], "learning rate"),
], ids=["variant", "k-too-large", "lr-nan"])
def test_bad_arguments_exit_non_zero_with_one_line(args, words):
    done = aeviz(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and words in lines[0]
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_training_and_keeps_the_run(tmp_path):
    import signal

    runs = tmp_path / "runs"
    env = {**os.environ, "AEVIZ_OFFLINE": "1", "OMP_NUM_THREADS": "1", "AEVIZ_RUNS_DIR": str(runs)}
    process = subprocess.Popen([PYTHON, "-m", "aeviz", "train", "--dataset", "digits", "--k", "4", "--epochs", "100000",
                                "--set", "hidden=16"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in process.stderr:  # wait until training has started
            seen.append(line)
            if line.startswith("training on"):
                break
        assert seen and seen[-1].startswith("training on"), "".join(seen)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopping after this step" in err and "stopped:" in err and "Traceback" not in err
    result = last_json(out)
    assert result["status"] == "stopped" and result["epochs"] < 100000
    assert (runs / result["run_id"] / "weights.pt").is_file()


def test_precision_flag_is_used_and_reported():
    done = aeviz("train", "--dataset", "digits", "--k", "4", "--epochs", "0.5", "--set", "hidden=16",
                 "--device", "cpu", "--precision", "bf16", "--no-save")
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["precision"] == "bf16"
    assert "bf16)" in done.stderr                               # "training on CPU (... batch 256, bf16)"
    wrong = aeviz("train", "--precision", "half")
    assert wrong.returncode == 2 and "invalid choice: 'half'" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
