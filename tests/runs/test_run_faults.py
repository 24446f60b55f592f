"""Faults of the run store: a save that cannot be written leaves nothing behind and says so (a full
disk is simulated with RLIMIT_FSIZE in a child process: tests run as root, whom chmod does not stop);
run ids do not collide; a damaged run is listed with its reason and refused, never crashes a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import aeviz.runs.store
from aeviz.cli import main
from aeviz.training.config import TrainConfig
from aeviz.errors import DamagedRun
from aeviz.runs.format import CONFIG_FILE
from aeviz.runs.store import RunStore
from aeviz.training.trainer import train
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def result(digits):
    return train(TrainConfig(dataset="digits", k=3, epochs=0.2, params={"hidden": "8"}), digits)


def test_cli_train_on_a_full_disk_exits_4_and_leaves_nothing(tmp_path):
    runs = tmp_path / "runs"
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000));"
            "sys.argv = ['aeviz', 'train', '--k', '3', '--epochs', '0.2', '--set', 'hidden=8'];"
            "from aeviz.cli import main; sys.exit(main())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "AEVIZ_RUNS_DIR": str(runs)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 4, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["run_id"] is None and summary["saved"] is False
    assert "File too large" in summary["save_error"] and "nothing was saved" in summary["save_error"]
    assert "NOT saved" in result.stderr and "Traceback" not in result.stderr
    assert list(runs.iterdir()) == []  # no staging folder, no claimed id


def test_save_on_a_failing_disk_leaves_nothing_and_can_be_repeated(result, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    real_open = open

    def full_disk_open(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk_open)
    with pytest.raises(aeviz.runs.store.SaveFailed, match="No space left on device.*nothing was saved"):
        store.save(result)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr("builtins.open", real_open)
    run_id = store.save(result)  # "save again" once there is room
    assert store.load(run_id).run_id == run_id


def test_run_ids_have_64_random_bits_and_a_collision_is_retried(result, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    first = store.save(result)
    assert len(first.rsplit("-", 1)[-1]) == 16
    tokens = iter([first.rsplit("-", 1)[-1], "0123456789abcdef"])
    monkeypatch.setattr(aeviz.runs.store.secrets, "token_hex", lambda n: next(tokens))
    second = store.save(result)
    assert second != first and second.endswith("0123456789abcdef")
    assert {info.run_id for info in store.list()} == {first, second}


@pytest.mark.parametrize("change, reason", [
    ({"k": "three"}, "k must be a whole number"),
    ({"variant": "nonsense"}, "unknown variant"),
    ({"k": 5}, "weights do not fit"),
    ({"tags": "x"}, "tags must be an object"),
])
def test_a_damaged_run_is_listed_with_its_reason_and_refused(result, tmp_path, monkeypatch, capsys, change, reason):
    store = RunStore(tmp_path)
    good, bad = store.save(result), store.save(result)
    config = json.loads((tmp_path / bad / CONFIG_FILE).read_text())
    (tmp_path / bad / CONFIG_FILE).write_text(json.dumps({**config, **change}))
    infos = {info.run_id: info for info in store.list()}
    assert not infos[good].damaged and reason in infos[bad].problem
    with pytest.raises(DamagedRun, match=reason):
        store.load(bad)
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    assert main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(bad in line and "damaged: " in line and reason in line for line in lines)
    assert main(["runs", "--json"]) == 0
    listed = {row["run_id"]: row for row in json.loads(capsys.readouterr().out.strip().splitlines()[-1])}
    assert listed[bad]["damaged"] is True and reason in listed[bad]["problem"]
    assert listed[good]["damaged"] is False and listed[good]["problem"] == ""
    assert main(["report", bad]) == 2  # a one-line error, no traceback
    assert reason in capsys.readouterr().err


def test_a_job_that_could_not_save_keeps_its_model_to_save_again_or_download(tmp_path, digits, monkeypatch):
    from aeviz.runs.archive import import_run, result_archive
    from aeviz.jobs.manager import JobManager

    store = RunStore(tmp_path / "runs")
    real_save = RunStore.save
    failing = {"on": True}

    def save(self, result, run_id=None):
        if failing["on"] and self is store:
            raise aeviz.runs.store.SaveFailed("cannot write runs to x (No space left on device); nothing was saved")
        return real_save(self, result, run_id)

    monkeypatch.setattr(RunStore, "save", save)
    manager = JobManager(max_running=1, store_factory=lambda: store, dataset_loader=lambda name: digits)
    config = TrainConfig(dataset="digits", k=3, epochs=0.2, params={"hidden": "8"}, device="cpu")
    view = manager.wait(manager.submit(config, owner="me").job_id, timeout=120)
    assert view.status == "completed" and view.run_id is None and "No space left" in view.error
    assert store.list() == []
    copy = import_run(result_archive(manager.result(view.job_id)), RunStore(tmp_path / "other"), "mine.zip")
    assert RunStore(tmp_path / "other").load(copy).model.k == 3  # the download imports as a run
    with pytest.raises(aeviz.runs.store.SaveFailed):
        manager.save_again(view.job_id, owner="me")  # still full: still kept, still unsaved
    failing["on"] = False
    with pytest.raises(Exception, match="another session"):
        manager.save_again(view.job_id, owner="someone else")
    saved = manager.save_again(view.job_id, owner="me")
    assert saved.run_id and not saved.error and store.load(saved.run_id).model.k == 3
