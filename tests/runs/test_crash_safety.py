"""A training run is checkpointed as it goes: killed with SIGKILL mid-run (in a child process) it is listed as
interrupted at its epoch, and can be resumed (the epochs go on to the original budget) or kept (a normal
stopped run); a checkpoint that cannot be written never stops training."""

import errno
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from aeviz.training.config import TrainConfig
from aeviz.runs.interrupted import discard_interrupted, interrupted_runs, keep_interrupted, resume_trainer
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from aeviz.runs.checkpoints import CHECKPOINT_FOLDER, Checkpointer, checkpoint_path, owner_tag
from tests.conftest import ROOT

EPOCHS = 40
CHILD = textwrap.dedent("""
    import collections, sys
    from aeviz.training.config import TrainConfig
    from aeviz.runs.interrupted import job_trainer
    from aeviz.runs.store import RunStore
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=%d, batch_size=64, lr=0.01,
                         snapshot_seconds=0.0)
    trainer = job_trainer(config, None, RunStore(), "linear-k4-digits-00c0ffee00c0ffee", "session-a")
    collections.deque(trainer.run(), maxlen=0)
    print("finished", flush=True)
""") % EPOCHS


def limit_child():
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))  # a runaway child stops by itself


def killed_mid_run(runs_dir):
    """Train in a child that checkpoints every 0.2 s; SIGKILL it once a checkpoint is on disk. Returns the run id."""
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(runs_dir), "AEVIZ_OFFLINE": "1", "PYTHONPATH": str(ROOT),
           "AEVIZ_CHECKPOINT_SECONDS": "0.2"}
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=limit_child)
    folder = runs_dir / CHECKPOINT_FOLDER
    try:
        deadline = time.monotonic() + 90
        while not list(folder.glob("*.pt")) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # a second checkpoint or so, mid-write perhaps: the file is replaced atomically
        assert child.poll() is None, f"the child ended before it could be killed: {child.stderr.read()}"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    return "linear-k4-digits-00c0ffee00c0ffee"


@pytest.fixture(scope="module")
def interrupted_store(tmp_path_factory):
    """A runs folder holding one run killed mid-training (made once; each test works on a copy)."""
    runs_dir = tmp_path_factory.mktemp("killed")
    killed_mid_run(runs_dir)
    return runs_dir


@pytest.fixture
def store(interrupted_store, tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(interrupted_store, copy)
    return RunStore(copy)


def test_a_run_killed_mid_training_is_listed_as_interrupted_at_its_epoch(store):
    [run] = interrupted_runs(store)
    assert run.run_id == "linear-k4-digits-00c0ffee00c0ffee" and run.status == "interrupted"
    assert 0 < run.epochs < EPOCHS and run.steps > 0 and not run.damaged
    assert run.owner_tag == owner_tag("session-a") != owner_tag("session-b")
    assert "session-a" not in checkpoint_path(store, run.run_id).read_bytes().decode("latin-1")
    assert "interrupted at epoch" in run.label
    assert store.list() == []  # never listed as a saved run, and no staging folder or temporary file left
    assert [p.name for p in (store.root / CHECKPOINT_FOLDER).iterdir() if p.name.startswith(".")] == []


def test_resume_goes_on_from_the_checkpoint_to_the_original_budget(store, digits):
    [run] = interrupted_runs(store)
    trainer = resume_trainer(store, run.run_id, digits)
    assert trainer.step == run.steps and trainer.history and trainer.history[-1]["step"] <= run.steps
    restored = list(trainer.history)
    events = list(trainer.run())
    finished = events[-1]
    assert finished.status == "completed" and finished.saved_run_id == run.run_id
    metrics = RunStore(store.root).info(run.run_id).metrics
    assert metrics["epochs"] == pytest.approx(EPOCHS)  # the epoch count went on, not from zero
    assert metrics["steps"] == math.ceil(EPOCHS * trainer.steps_per_epoch)
    history = RunStore(store.root).load(run.run_id).history
    assert history[:len(restored)] == restored and history[len(restored)]["step"] > run.steps
    steps = [row["step"] for row in history]
    assert steps == sorted(steps)
    assert interrupted_runs(store) == [] and list((store.root / CHECKPOINT_FOLDER).iterdir()) == []


def test_keep_makes_it_a_normal_stopped_run(store, digits):
    [run] = interrupted_runs(store)
    assert keep_interrupted(store, run.run_id, digits) == run.run_id
    info = store.info(run.run_id)
    assert not info.damaged and info.metrics["status"] == "stopped"
    assert info.metrics["epochs"] == pytest.approx(run.epochs) and info.metrics["test_mse"] > 0
    assert store.load(run.run_id).model is not None
    assert interrupted_runs(store) == [] and list((store.root / CHECKPOINT_FOLDER).iterdir()) == []


def test_a_running_runs_checkpoint_is_not_interrupted_and_cannot_be_taken(store, digits):
    [run] = interrupted_runs(store)
    trainer = resume_trainer(store, run.run_id, digits)  # holds the run's lock, as a live trainer does
    assert interrupted_runs(store) == []
    with pytest.raises(Exception, match="being trained"):
        resume_trainer(store, run.run_id, digits)
    with pytest.raises(Exception, match="being trained"):
        discard_interrupted(store, run.run_id)
    trainer.checkpointer.close(saved=False)  # as if that process died: interrupted again
    assert [r.run_id for r in interrupted_runs(store)] == [run.run_id]
    discard_interrupted(store, run.run_id)
    assert interrupted_runs(store) == []


def test_a_damaged_checkpoint_is_flagged_not_fatal(store):
    [run] = interrupted_runs(store)
    checkpoint_path(store, run.run_id).write_bytes(b"not a checkpoint")
    [damaged] = interrupted_runs(store)
    assert damaged.damaged and "checkpoint" in damaged.problem
    with pytest.raises(Exception, match="checkpoint"):
        resume_trainer(store, run.run_id)


def test_a_checkpoint_write_that_fails_never_stops_training(digits, tmp_path, monkeypatch):
    import aeviz.runs.checkpoints as checkpoints

    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints, "write_atomically", full_disk)
    store = RunStore(tmp_path)
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=3, batch_size=64, snapshot_seconds=0.0)
    trainer = Trainer(config, digits, store=store, run_id="linear-k4-digits-0000000000000001")
    trainer.checkpointer = Checkpointer(store, trainer.run_id, seconds=1e-6)  # due at every step
    finished = list(trainer.run())[-1]
    assert finished.status == "completed" and finished.saved_run_id == trainer.run_id
    assert finished.result.metrics["epochs"] == pytest.approx(3)
    assert "No space left on device" in trainer.checkpointer.error
    assert any("could not be checkpointed" in w for w in store.info(trainer.run_id).metrics["warnings"])
    assert interrupted_runs(store) == []


def test_a_completed_run_leaves_no_checkpoint(digits, tmp_path):
    store = RunStore(tmp_path)
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=2, batch_size=64, snapshot_seconds=0.0)
    trainer = Trainer(config, digits, store=store, run_id="linear-k4-digits-0000000000000002")
    trainer.checkpointer = Checkpointer(store, trainer.run_id, seconds=1e-6)
    assert list(trainer.run())[-1].saved_run_id == trainer.run_id
    assert trainer.checkpointer.writes > 0 and not trainer.checkpointer.error
    assert list((tmp_path / CHECKPOINT_FOLDER).iterdir()) == []
    assert [info.run_id for info in store.list()] == [trainer.run_id]


def test_the_checkpoint_interval_setting_is_checked(monkeypatch):
    from aeviz.errors import AevizError
    from aeviz.server_settings import checkpoint_seconds_from_env

    monkeypatch.setenv("AEVIZ_CHECKPOINT_SECONDS", "")
    assert checkpoint_seconds_from_env() == 30.0
    monkeypatch.setenv("AEVIZ_CHECKPOINT_SECONDS", "0")
    assert checkpoint_seconds_from_env() is None
    for bad in ("soon", "-1", "nan", "1e9"):
        monkeypatch.setenv("AEVIZ_CHECKPOINT_SECONDS", bad)
        with pytest.raises(AevizError, match="AEVIZ_CHECKPOINT_SECONDS"):
            checkpoint_seconds_from_env()


def test_a_checkpoint_made_far_from_the_store_is_written_by_the_server(digits, tmp_path):
    """A Ray worker's trainer keeps its checkpoint as bytes (LatestCheckpoint); the server writes them and the
    run is listed, resumable, as any other checkpoint."""
    from aeviz.runs.checkpoints import LatestCheckpoint, write_checkpoint

    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=EPOCHS, batch_size=64, snapshot_seconds=0.0)
    trainer = Trainer(config, digits, run_id="linear-k4-digits-0000000000000003")  # no store: a worker's
    trainer.checkpointer = LatestCheckpoint(1e-6, owner_tag("session-a"))
    events = trainer.run()
    while trainer.checkpointer.writes < 3:
        next(events)
    store = RunStore(tmp_path)
    write_checkpoint(store, trainer.run_id, trainer.checkpointer.data)
    [run] = interrupted_runs(store)
    assert run.run_id == trainer.run_id and 0 < run.steps <= trainer.step and run.owner_tag == owner_tag("session-a")
    assert resume_trainer(store, run.run_id, digits).step == run.steps
