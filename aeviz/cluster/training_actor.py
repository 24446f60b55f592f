"""The worker side of a page-started training job on Ray (aeviz.cluster.jobs): an actor that trains one
configuration in a thread of its Ray worker process and keeps the trainer's events until they are fetched."""

from __future__ import annotations

import threading
from typing import Any, Callable

from aeviz.training.tasks import describe_error
from aeviz.data.datasets import load_dataset
from aeviz.training.events import Finished, Progress
from aeviz.runs.checkpoints import LatestCheckpoint


class TrainingActor:
    """Trains one configuration at a time in a thread of a Ray worker; `poll` hands the events over. A kept
    worker (aeviz.cluster.worker_pool) trains the next job's configuration when `start` is called again."""

    def __init__(self, config_json: dict[str, Any], threads: int, checkpoint_seconds: float | None = None,
                 tag: str = "", make_dataset: Callable[[], Any] | None = None):
        self._lock = threading.Lock()
        self._done = True
        self._jobs = 0  # how many jobs this worker has been given; the current one's number
        self.start(config_json, threads, checkpoint_seconds, tag, make_dataset)

    def start(self, config_json: dict[str, Any], threads: int, checkpoint_seconds: float | None = None,
              tag: str = "", make_dataset: Callable[[], Any] | None = None) -> int:
        """Train `config_json` (refused while a job trains here); returns the job's number on this worker."""
        with self._lock:
            if not self._done:
                raise RuntimeError("this worker is still training a job")
            self._jobs += 1
            self._checkpoint = None  # training_checkpoints.LatestCheckpoint, every `checkpoint_seconds`
            self._stop = threading.Event()
            self._events: list[tuple[Any, dict | None]] = []  # (event, its history row), not yet acknowledged
            self._base = 0                                     # the stream index of self._events[0]
            self._done = False
            self._payload: dict[str, Any] | None = None
            self._error = ""
        threading.Thread(target=self._train, args=(config_json, threads, checkpoint_seconds, tag, make_dataset),
                         daemon=True).start()
        return self._jobs

    def _train(self, config_json: dict[str, Any], threads: int, checkpoint_seconds: float | None, tag: str,
               make_dataset: Callable[[], Any] | None) -> None:
        import torch

        # lazy: torch only when called (this module imports without it)
        from aeviz.training.config import TrainConfig
        # lazy: torch only when called (this module imports without it)
        from aeviz.cluster.sweep_executor import result_payload
        # lazy: torch only when called (this module imports without it)
        from aeviz.training.trainer import Trainer

        try:
            torch.set_num_threads(max(1, int(threads)))
            config = TrainConfig.from_json(config_json)
            # the dataset: by name (cached per worker process), or made here (a subset, the ratings)
            trainer = Trainer(config, make_dataset() if make_dataset is not None else load_dataset(config.dataset))
            if checkpoint_seconds:  # kept here as bytes; the server fetches and writes them (checkpoint())

                self._checkpoint = trainer.checkpointer = LatestCheckpoint(checkpoint_seconds, tag)
            for event in trainer.run():
                if self._stop.is_set():  # also a stop that came before run() began (run() clears the flag)
                    trainer.stop()
                if isinstance(event, Finished):
                    payload = result_payload(event)
                    with self._lock:
                        self._payload = payload
                    continue
                row = trainer.history[-1] if isinstance(event, Progress) and trainer.history else None
                with self._lock:
                    self._events.append((event, row))
        except Exception as exc:  # said in the job's message, on the server
            with self._lock:
                self._error = describe_error(exc)
        finally:
            with self._lock:
                self._done = True

    def poll(self, cursor: int) -> tuple[list, int, bool, dict | None, str]:
        """Events from stream index `cursor` on (those before it arrived and are dropped here), the next
        cursor, whether training has ended, and then its payload (weights as bytes) or error."""
        with self._lock:
            drop = max(0, min(cursor - self._base, len(self._events)))
            del self._events[:drop]
            self._base += drop
            events = list(self._events)
            return events, self._base + len(events), self._done, self._payload, self._error

    def stop(self, job: int | None = None) -> None:
        """Stop job number `job` (None: whichever trains); a late stop for an earlier job is ignored."""
        with self._lock:
            if job is None or job == self._jobs:
                self._stop.set()

    def checkpoint(self, seen: int) -> tuple[int, bytes | None]:
        """(its number, the latest checkpoint's bytes) when newer than number `seen`, else (seen, None)."""
        latest = self._checkpoint
        writes, data = (latest.writes, latest.data) if latest is not None else (seen, None)
        return (writes, data) if data is not None and writes > seen else (seen, None)
