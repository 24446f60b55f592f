"""Checkpoints of a training run in progress, so that a crashed server (kill -9, a power cut) loses at most
a few seconds of the run, which can then be resumed or kept (aeviz.runs.interrupted).

A Trainer given a Checkpointer writes its whole state (weights, the optimiser's moments, step, epoch,
elapsed time, loss history, the codes recorded so far, the random generator) every
``$AEVIZ_CHECKPOINT_SECONDS`` (default 30; 0: never) to ``<runs folder>/.checkpoints/<run id>.pt``: one
file, replaced atomically (safe_io.write_atomically), read back with ``weights_only=True``. While a
process trains the run it holds an advisory lock (flock) on ``<run id>.lock``; the kernel drops it when
the process dies, however it dies, so a checkpoint whose lock is free is a run nobody trains any more.
A write that fails never stops training: the trainer's warnings say so and training goes on.

    trainer.checkpointer = Checkpointer(store, run_id, owner_tag(session_id))
    state = trainer_state(trainer, tag)         # in memory (a worker can send it back to be written)
    write_checkpoint(store, run_id, state)

When the run is saved its checkpoint and lock are removed. This module reads and sets the Trainer's
private state (optimiser, stage, last good weights): the two change together.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError, RunNotFound
from aeviz.runs.format import config_record
from aeviz.safe_io import write_atomically
from aeviz.server_settings import checkpoint_seconds_from_env

try:
    import fcntl
except ImportError:  # not on POSIX: no lock, so another live process's run would be listed as interrupted
    fcntl = None

CHECKPOINT_FOLDER = ".checkpoints"   # in the runs folder; hidden from the run listing (a dot folder)
CHECKPOINT_FORMAT = 1
log = logging.getLogger(__name__)


def owner_tag(owner: str) -> str:
    """What a checkpoint records of the browser session that started the run: a hash, never the id itself
    (a session id is a bearer token)."""
    return hashlib.sha256(f"aeviz-run-owner:{owner}".encode()).hexdigest() if owner else ""


def checkpoint_path(store, run_id: str) -> Path:
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise RunNotFound(f"no run named {run_id!r}")
    return store.root / CHECKPOINT_FOLDER / f"{run_id}.pt"


def lock_path(store, run_id: str) -> Path:
    return checkpoint_path(store, run_id).with_suffix(".lock")


class RunLock:
    """An exclusive advisory lock on a run's lock file, held while a process trains (or keeps) the run."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (never waits); True when this object holds it."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
        self._handle = handle
        return True

    def release(self, remove: bool = False) -> None:
        if self._handle is None:
            return
        if remove:  # removed while held: nobody can take a lock on a file about to vanish and think it theirs
            self.path.unlink(missing_ok=True)
        self._handle.close()
        self._handle = None


def is_locked(path: Path) -> bool:
    """Whether a live process holds the lock at `path` (this one included)."""
    if fcntl is None:
        return False
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)  # closing drops the lock taken just to test it
    return False


def trainer_state(trainer, tag: str = "") -> dict[str, Any]:
    """Everything needed to continue `trainer` later, as plain values and tensors (loadable with
    weights_only=True). Made in the training thread between two steps."""
    return {"format": CHECKPOINT_FORMAT, "run_id": trainer.run_id, "owner_tag": tag, "saved_at": time.time(),
            "config": config_record(trainer.config, trainer.params, trainer.model.input_shape),
            **trainer.state_dict()}


def checkpoint_bytes(state: dict[str, Any]) -> bytes:
    """A state (trainer_state's) serialised, as its checkpoint file holds it."""
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def write_checkpoint(store, run_id: str, state: dict[str, Any] | bytes) -> Path:
    """Write a state (trainer_state's, or checkpoint_bytes of it, e.g. sent back by a Ray worker) as the run's
    checkpoint, atomically; raises OSError."""
    data = state if isinstance(state, bytes) else checkpoint_bytes(state)  # whole in memory before the disk
    path = checkpoint_path(store, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    return path


def restore(trainer, state: dict[str, Any]) -> None:
    """Put a checkpoint's state into a freshly built Trainer of the same configuration: run() then goes on
    from the checkpoint's step, with its optimiser's moments and history, to the original budget."""
    trainer.load_state_dict(state)


class CheckpointClock:
    """When a checkpoint is due: every `seconds` (None: never) since the last one; counts the `writes` and
    keeps the latest `error`. The Trainer asks `due()` between steps and then calls `save(trainer)`."""

    def __init__(self, seconds: float | None, tag: str = ""):
        self.seconds, self.tag = seconds, tag
        self.writes = 0
        self.error = ""
        self._last = time.monotonic()

    def due(self) -> bool:
        return self.seconds is not None and time.monotonic() - self._last >= self.seconds

    def skip(self) -> None:
        """The next checkpoint is due `seconds` from now."""
        self._last = time.monotonic()


class Checkpointer(CheckpointClock):
    """Writes a trainer's checkpoint to the run store every `seconds`, holding the run's lock from the first
    write; `close()` when the run ends."""

    def __init__(self, store, run_id: str, tag: str = "", seconds: float | None | str = "env",
                 lock: RunLock | None = None):
        super().__init__(checkpoint_seconds_from_env() if seconds == "env" else seconds, tag)
        self.store, self.run_id = store, run_id
        self.lock = lock or RunLock(lock_path(store, run_id))

    def save(self, trainer) -> float:
        """Write the checkpoint now; returns the seconds it took. Never raises: a checkpoint is insurance,
        and training goes on without it (the trainer's warnings and the log say so)."""
        started = time.perf_counter()
        try:
            state = trainer_state(trainer, self.tag)
        except Exception as exc:
            state = exc
        self.write(state, trainer.warnings)
        return time.perf_counter() - started

    def write(self, state: dict[str, Any] | bytes | Exception, warnings: list | None = None) -> bool:
        """Write a state (or checkpoint_bytes, e.g. a Ray worker's) as the checkpoint, holding the run's lock;
        False (said once in the log and `warnings`) when it could not be written. Never raises."""
        self.skip()
        try:
            if isinstance(state, Exception):
                raise state
            if not self.lock.acquire():
                raise AevizError("another process is training this run")
            write_checkpoint(self.store, self.run_id, state)
            self.writes += 1
            return True
        except Exception as exc:
            self._note(warnings, exc)
            return False

    def _note(self, warnings: list | None, exc: Exception) -> None:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        message = (f"the run's progress could not be checkpointed ({detail}); training goes on, but a crash "
                   f"would now lose more than the last {self.seconds:g} s")
        if not self.error:
            log.warning("run %s: %s", self.run_id, message)
            if warnings is not None:
                warnings.append(message)
        self.error = message

    def close(self, saved: bool) -> None:
        """The run has ended: once it is saved its checkpoint goes; otherwise it stays (listed as interrupted,
        to resume or keep). The lock is released either way."""
        if saved:
            checkpoint_path(self.store, self.run_id).unlink(missing_ok=True)
        self.lock.release(remove=saved)


class LatestCheckpoint(CheckpointClock):
    """A checkpointer for a trainer far from the run store (a Ray worker): it keeps its latest checkpoint as
    bytes (`data`, numbered by `writes`) for the server to fetch and write with write_checkpoint."""

    def __init__(self, seconds: float | None, tag: str = ""):
        super().__init__(seconds, tag)
        self.data: bytes | None = None

    def save(self, trainer) -> float:
        started = time.perf_counter()
        self.skip()
        try:
            self.data, self.writes = checkpoint_bytes(trainer_state(trainer, self.tag)), self.writes + 1
        except Exception as exc:  # as Checkpointer.save: never stops training
            self.error = str(exc) or type(exc).__name__
        return time.perf_counter() - started

    def close(self, saved: bool) -> None:
        self.data = None
