"""Runs whose training was interrupted (the server was killed mid-run): listed, resumed or kept.

A checkpoint (aeviz.runs.checkpoints) whose lock no live process holds is an interrupted run. It can
be resumed (the Trainer continues from the checkpoint's weights, optimiser moments and step to the
original budget, and is saved under the same run id) or kept (measured on the test set as it stands and
saved as a `stopped` run, usable by every page), or discarded.

    for run in interrupted_runs(store): print(run.run_id, run.epochs)
    trainer = resume_trainer(store, run_id)     # then trainer.run() as for any Trainer
    keep_interrupted(store, run_id)             # -> the saved run's id (the same)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError, DamagedRun, RunNotFound
from aeviz.runs.checkpoints import (CHECKPOINT_FOLDER, CHECKPOINT_FORMAT, Checkpointer, RunLock,
                                        checkpoint_path, is_locked, lock_path, restore)
from aeviz.runs.checkpoints import owner_tag
from aeviz.runs.checks import model_spec

INTERRUPTED = "interrupted"


@dataclass
class InterruptedRun:
    """What a listing shows of an interrupted run, without loading its weights."""

    run_id: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    epochs: float = 0.0
    steps: int = 0
    saved_at: float = 0.0       # when its last checkpoint was written
    owner_tag: str = ""         # training_checkpoints.owner_tag of the session that started it
    problem: str = ""           # set when the checkpoint cannot be resumed or kept

    status = INTERRUPTED

    @property
    def damaged(self) -> bool:
        return bool(self.problem)

    @property
    def label(self) -> str:
        c = self.config
        return (f"{c.get('variant')} · k={c.get('k')} · {c.get('dataset')} · {self.run_id.rsplit('-', 1)[-1]} "
                f"(interrupted at epoch {self.epochs:.1f})")

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "path": str(self.path), "status": INTERRUPTED, "epoch": self.epochs,
                "steps": self.steps, "checkpointed": self.saved_at, "config": self.config, "metrics": {},
                "created": self.saved_at, "damaged": self.damaged, "problem": self.problem}


_summaries: dict[tuple, InterruptedRun] = {}  # (path, mtime, size) -> summary: listing stays cheap on reruns


def interrupted_runs(store) -> list[InterruptedRun]:
    """Interrupted runs in `store`, newest checkpoint first. A checkpoint that a live process holds is a run
    still training and is left out; one whose run is saved (a crash between saving and removing it) is
    removed."""
    folder = store.root / CHECKPOINT_FOLDER
    if not folder.is_dir():
        return []
    runs = []
    for path in folder.glob("*.pt"):
        run_id = path.stem
        if is_locked(lock_path(store, run_id)):
            continue
        if (store.root / run_id).is_dir():
            path.unlink(missing_ok=True)
            continue
        try:
            stat = path.stat()
        except OSError:  # resumed and finished meanwhile
            continue
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _summaries:
            _summaries[key] = _summary(run_id, path)
        runs.append(_summaries[key])
    return sorted(runs, key=lambda run: run.saved_at, reverse=True)


def interrupted_run(store, run_id: str) -> InterruptedRun | None:
    return next((run for run in interrupted_runs(store) if run.run_id == run_id), None)


def _summary(run_id: str, path: Path) -> InterruptedRun:
    run = InterruptedRun(run_id, path, saved_at=path.stat().st_mtime)
    try:
        state = _load(path, mmap=True)
        run.config = state["config"] if isinstance(state.get("config"), dict) else {}
        run.epochs, run.steps = float(state["epochs"]), int(state["step"])
        run.saved_at, run.owner_tag = float(state["saved_at"]), str(state.get("owner_tag") or "")
    except (KeyError, TypeError, ValueError) as exc:
        run.problem = f"the checkpoint lacks its progress ({exc})"
        return run
    except AevizError as exc:
        run.problem = str(exc)
        return run

    try:
        model_spec(run.config)  # the schema and the budget, as for a saved run
    except AevizError as exc:
        run.problem = f"its configuration: {exc}"
    return run


def _load(path: Path, mmap: bool = False) -> dict[str, Any]:
    """A checkpoint file's state, read with weights_only=True (pickled code is refused, never run)."""
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise RunNotFound(f"no interrupted run at {path}") from None
    except Exception as exc:  # truncated, corrupt, or holding more than plain values and tensors
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DamagedRun(f"unreadable checkpoint ({detail})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise DamagedRun("not an aeviz checkpoint of a known format")
    return state


def resume_trainer(store, run_id: str, dataset=None, tag: str | None = None):
    """A Trainer with the interrupted run's state restored and a Checkpointer holding its lock: run() goes on
    to the original budget and saves the run under the same id. `tag`: the owner to record from now on
    (default: the checkpoint's). Raises RunNotFound, DamagedRun, or AevizError when a live process holds it."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.config import TrainConfig
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.trainer import Trainer

    path = checkpoint_path(store, run_id)
    if (store.root / run_id).is_dir():
        raise AevizError(f"run {run_id} has finished and is saved; there is nothing to resume")
    if not path.is_file():
        raise RunNotFound(f"no interrupted run named {run_id!r} in {store.root}")
    lock = RunLock(lock_path(store, run_id))
    if not lock.acquire():
        raise AevizError(f"run {run_id} is being trained right now (resumed elsewhere, or still running)")
    try:
        state = _load(path)
        try:
            config = TrainConfig.from_json(state["config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedRun(f"the checkpoint of {run_id} has an unreadable configuration ({exc})") from None
        trainer = Trainer(config, dataset, store=store, run_id=run_id)
        restore(trainer, state)
        trainer.checkpointer = Checkpointer(store, run_id, state.get("owner_tag", "") if tag is None else tag,
                                            lock=lock)
    except BaseException:
        lock.release()
        raise
    return trainer


def keep_interrupted(store, run_id: str, dataset=None) -> str:
    """Save an interrupted run as it stands, as a `stopped` run (measured on the full test set, as any run
    that ends); its checkpoint goes. Returns the run id (unchanged). Raises SaveFailed and as resume_trainer."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.result import trainer_result

    trainer = resume_trainer(store, run_id, dataset)
    saved = False
    try:
        result = trainer_result(trainer, "stopped")
        result.metrics["interrupted_at_epoch"] = trainer.step / trainer.steps_per_epoch
        store.save(result, run_id=run_id)
        saved = True
    finally:
        trainer.checkpointer.close(saved=saved)
    return run_id


def discard_interrupted(store, run_id: str) -> None:
    """Delete an interrupted run's checkpoint (nobody must be training it)."""
    path = checkpoint_path(store, run_id)
    if not path.is_file():
        raise RunNotFound(f"no interrupted run named {run_id!r} in {store.root}")
    lock = RunLock(lock_path(store, run_id))
    if not lock.acquire():
        raise AevizError(f"run {run_id} is being trained right now; stop it first")
    path.unlink(missing_ok=True)
    lock.release(remove=True)


def job_trainer(config, dataset, store, run_id: str, owner: str, resume: bool = False):
    """The Trainer of a training job (aeviz.jobs.manager), checkpointed for its owner: a new one, or with `resume`
    the interrupted run `run_id` continued."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.trainer import Trainer

    if resume:
        return resume_trainer(store, run_id, dataset, tag=owner_tag(owner) if owner else None)
    trainer = Trainer(config, dataset, store=store, run_id=run_id)
    trainer.checkpointer = Checkpointer(store, run_id, owner_tag(owner))
    return trainer
