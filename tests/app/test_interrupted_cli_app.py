"""Interrupted runs through the CLI (`runs`, `runs --json`, `train --resume`, `runs --keep`) and the Train page
(the session that started the run, and only it, is told and offered Resume / Keep)."""

import json

import pytest

from aeviz.cli import main
from aeviz.training.config import TrainConfig
from aeviz.runs.interrupted import interrupted_runs
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from aeviz.runs.checkpoints import Checkpointer, owner_tag
from tests.apptest import open_page

OWNER = "owner-session"
EPOCHS = 12


def interrupted_run(store, digits, run_id: str, owner: str = OWNER) -> float:
    """Train with a checkpoint at every step and drop the trainer mid-run, its lock freed as when the process
    dies (the killed-process case itself is tests/runs/test_crash_safety.py). Returns the checkpoint's epoch."""
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=EPOCHS, batch_size=64, snapshot_seconds=0.0)
    trainer = Trainer(config, digits, store=store, run_id=run_id)
    trainer.checkpointer = Checkpointer(store, run_id, owner_tag(owner), seconds=1e-6)
    events = trainer.run()
    while trainer.step < 3 * trainer.steps_per_epoch:
        next(events)
    events.close()
    trainer.checkpointer.close(saved=False)
    [run] = [r for r in interrupted_runs(store) if r.run_id == run_id]
    return run.epochs


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_lists_resumes_and_keeps_interrupted_runs(capsys, digits, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    first, second = "linear-k4-digits-00000000000000a1", "linear-k4-digits-00000000000000a2"
    epoch = interrupted_run(store, digits, first)
    interrupted_run(store, digits, second)

    code, out, err = run_cli(capsys, "runs")
    assert code == 0 and f"interrupted at epoch {epoch:.1f}" in out and f"train --resume {first}" in out
    code, out, err = run_cli(capsys, "runs", "--json")
    listed = {entry["run_id"]: entry for entry in json.loads(out.strip().splitlines()[-1])}
    assert listed[first]["status"] == "interrupted" and listed[first]["epoch"] == pytest.approx(epoch)

    code, out, err = run_cli(capsys, "train", "--resume", first)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["run_id"] == first and result["status"] == "completed"
    assert result["epochs"] == pytest.approx(EPOCHS)

    code, out, err = run_cli(capsys, "runs", "--keep", second)
    assert code == 0 and f"kept {second}" in out
    code, out, err = run_cli(capsys, "runs", "--json")
    listed = {entry["run_id"]: entry for entry in json.loads(out.strip().splitlines()[-1])}
    assert listed[first]["status"] == "completed" and listed[second]["status"] == "stopped"
    assert not any(entry["status"] == "interrupted" for entry in listed.values())

    code, out, err = run_cli(capsys, "train", "--resume", second)  # nothing left to resume: one line, exit 2
    assert code == 2 and "nothing to resume" in err and "Traceback" not in err


def test_the_train_page_tells_the_owning_session_only_and_keep_saves_it(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    run_id = "linear-k4-digits-00000000000000b1"
    epoch = interrupted_run(store, digits, run_id)

    stranger = open_page("train.py", timeout=60)
    stranger.session_state["aeviz_session"] = "another-session"
    stranger.run()
    assert not stranger.exception
    assert not [w for w in stranger.warning if "interrupted" in w.value]
    assert not [b for b in stranger.button if b.key == f"keep.{run_id}"]

    owner = open_page("train.py", timeout=60)
    owner.session_state["aeviz_session"] = OWNER
    owner.run()
    assert not owner.exception
    [notice] = [w.value for w in owner.warning if "interrupted" in w.value]
    assert run_id in notice and f"at epoch {epoch:.1f} when the server stopped" in notice
    assert {b.label for b in owner.button if b.key in (f"resume.{run_id}", f"keep.{run_id}")} == {"Resume", "Keep"}

    owner.button(key=f"keep.{run_id}").click().run()
    assert not owner.exception
    assert any("Kept" in s.value for s in owner.success)
    assert interrupted_runs(store) == []
    assert store.info(run_id).metrics["status"] == "stopped"
    assert not [w for w in owner.warning if "interrupted at epoch" in w.value]


def test_resume_on_the_train_page_continues_the_run_as_a_job(digits, tmp_path, monkeypatch):
    from aeviz.jobs.manager import default_manager

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    run_id = "linear-k4-digits-00000000000000c1"
    interrupted_run(store, digits, run_id)
    at = open_page("train.py", timeout=60)
    at.session_state["aeviz_session"] = OWNER
    at.run()
    at.button(key=f"resume.{run_id}").click().run()
    assert not at.exception
    job_id = at.session_state["train_job"]
    view = default_manager().wait(job_id, timeout=120)
    assert view.save_as == run_id and view.status == "completed" and view.run_id == run_id, view.message
    assert store.info(run_id).metrics["epochs"] == pytest.approx(EPOCHS)
    assert interrupted_runs(store) == []
