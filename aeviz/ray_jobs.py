"""Page-started training jobs on a Ray cluster: one actor per job, followed by the app's job thread.

The actor (`TrainingActor`) trains in a thread of its worker process and keeps the trainer's events
until they are fetched. `RayTrainingSource` is what a job (aeviz.jobs) runs in place of a Trainer: it
asks the actor for new events every POLL_SECONDS, so the page's live view (progress, losses,
snapshots) is the one an in-process job gives; `stop()` reaches the actor; at the end the weights come
back as bytes and this process saves the run in its own store, so the cluster needs no shared
filesystem. A worker that dies before anything was learned is started once more; after that, or once
something was learned, the job ends failed and says so.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator

from aeviz.errors import AevizError
from aeviz.ray_cluster import first_line
from aeviz.tasks import describe_error

POLL_SECONDS = 0.2            # the live view's cadence, and how long one wait for an answer lasts
STARTUP_TIMEOUT_SECONDS = 600.0  # a cluster with no free CPU keeps the actor waiting; give up after this
LOST_AFTER_SECONDS = 120.0    # a started worker that has answered nothing this long is given up as lost
CPUS_PER_JOB = 1              # each job trains with one torch thread on one of the cluster's CPUs


class WorkerLost(Exception):
    """The actor died or stopped answering (its reason in a line)."""


# ---------------------------------------------------------------------------- worker side
class TrainingActor:
    """Trains one configuration in a thread of a Ray worker; `poll` hands the events over."""

    def __init__(self, config_json: dict[str, Any], threads: int, checkpoint_seconds: float | None = None,
                 tag: str = ""):
        self._lock = threading.Lock()
        self._checkpoint = None  # training_checkpoints.LatestCheckpoint, every `checkpoint_seconds`
        self._stop = threading.Event()
        self._events: list[tuple[Any, dict | None]] = []  # (event, its history row), not yet acknowledged
        self._base = 0                                     # the stream index of self._events[0]
        self._done = False
        self._payload: dict[str, Any] | None = None
        self._error = ""
        threading.Thread(target=self._train, args=(config_json, threads, checkpoint_seconds, tag), daemon=True).start()

    def _train(self, config_json: dict[str, Any], threads: int, checkpoint_seconds: float | None, tag: str) -> None:
        import torch

        from aeviz.config import TrainConfig
        from aeviz.data import load_dataset
        from aeviz.events import Finished, Progress
        from aeviz.sweeps.ray_executor import result_payload
        from aeviz.train import Trainer

        try:
            torch.set_num_threads(max(1, int(threads)))
            config = TrainConfig.from_json(config_json)
            trainer = Trainer(config, load_dataset(config.dataset))  # the dataset: cached per worker process
            if checkpoint_seconds:  # kept here as bytes; the server fetches and writes them (checkpoint())
                from aeviz.training_checkpoints import LatestCheckpoint

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

    def stop(self) -> None:
        self._stop.set()

    def checkpoint(self, seen: int) -> tuple[int, bytes | None]:
        """(its number, the latest checkpoint's bytes) when newer than number `seen`, else (seen, None)."""
        latest = self._checkpoint
        writes, data = (latest.writes, latest.data) if latest is not None else (seen, None)
        return (writes, data) if data is not None and writes > seen else (seen, None)


def spawn_actor(ray, config, checkpoint_seconds: float | None = None, tag: str = "") -> Any:
    actor_class = ray.remote(num_cpus=CPUS_PER_JOB, max_restarts=0)(TrainingActor)
    return actor_class.remote(config.to_json(), CPUS_PER_JOB, checkpoint_seconds, tag)


# ---------------------------------------------------------------------------- server side
class RayTrainingSource:
    """Trainer-like for aeviz.jobs: `run()` yields Started, Progress, Snapshot and one Finished, `stop()`
    is thread-safe, `history` has a row per Progress; the training happens in a Ray actor."""

    def __init__(self, ray, config, store=None, retries: int = 1, run_id: str | None = None, tag: str = ""):
        self.ray, self.config, self.store, self.retries, self.run_id = ray, config, store, retries, run_id
        # The worker's checkpoints are written here (a dead worker leaves the run interrupted, not lost).
        self.checkpointer = None
        if store is not None and run_id is not None:
            from aeviz.training_checkpoints import Checkpointer

            self.checkpointer = Checkpointer(store, run_id, tag)
        self._seen_checkpoint = 0
        self.history: list[dict[str, float]] = []
        self.actor = None
        self.attempts = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            actor = self.actor
        if actor is not None:
            actor.stop.remote()  # fire and forget: the server never waits on the worker

    def run(self) -> Iterator[Any]:
        try:
            yield from self._attempts()
        finally:  # not saved (the worker died, or failed): its checkpoint stays, listed as interrupted
            if self.checkpointer is not None:
                self.checkpointer.close(saved=False)

    def _attempts(self) -> Iterator[Any]:
        seconds = self.checkpointer.seconds if self.checkpointer is not None else None
        while True:
            self.attempts += 1
            with self._lock:
                self.actor = spawn_actor(self.ray, self.config, seconds,
                                         self.checkpointer.tag if self.checkpointer is not None else "")
            if self._stop.is_set():
                self.actor.stop.remote()
            try:
                payload = yield from self._follow(self.actor)
                break
            except WorkerLost as exc:
                if self.history or self.attempts > self.retries:
                    retried = " (it had already been started again once)" if self.attempts > 1 else ""
                    kept = ("; its last checkpoint was kept: the run is listed as interrupted, to resume or keep"
                            if self.checkpointer is not None and self.checkpointer.writes else "")
                    raise AevizError(f"the Ray worker running this job died: {exc}{retried}{kept}") from None
            finally:
                self._release(self.actor)
        yield self._finished(payload)

    def _release(self, actor) -> None:
        """Kill the actor so its CPU is free at once (a dead or finished one is killed harmlessly)."""
        try:
            self.ray.kill(actor)
        except Exception:  # Ray itself gone: nothing left to free
            pass

    def _follow(self, actor) -> Iterator[Any]:
        """Yield the actor's events as they come; return its payload at the end (raises WorkerLost)."""
        from aeviz.events import Progress

        ray, cursor, answered = self.ray, 0, None
        waiting_since = time.monotonic()
        while True:
            ref = actor.poll.remote(cursor)
            while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
                silent = time.monotonic() - (answered or waiting_since)
                if answered is None and silent > STARTUP_TIMEOUT_SECONDS:
                    raise WorkerLost(f"the cluster did not start it within {STARTUP_TIMEOUT_SECONDS:.0f} s")
                if answered is not None and silent > LOST_AFTER_SECONDS:
                    raise WorkerLost(f"it has not answered for {LOST_AFTER_SECONDS:.0f} s")
            try:
                events, cursor, done, payload, error = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                raise WorkerLost(first_line(exc)) from None
            answered = time.monotonic()
            for event, row in events:
                if isinstance(event, Progress) and row is not None:
                    self.history.append(row)
                yield event
            self._fetch_checkpoint(actor)
            if done:
                if error or payload is None:
                    raise AevizError(error or "the Ray worker ended without a result")
                return payload
            time.sleep(POLL_SECONDS)

    def _fetch_checkpoint(self, actor) -> None:
        """When one is due, the worker's newest checkpoint, written into this process's store."""
        kept = self.checkpointer
        if kept is None or kept.seconds is None or not kept.due():
            return
        kept.skip()
        try:
            self._seen_checkpoint, data = self.ray.get(actor.checkpoint.remote(self._seen_checkpoint),
                                                       timeout=10.0)
        except Exception:  # a dead or silent worker: the next poll says so
            return
        if data is not None:
            kept.write(data)

    def _finished(self, payload: dict[str, Any]):
        """The Finished event, with the run rebuilt from the payload and saved in this process's store."""
        from aeviz.events import Finished
        from aeviz.sweeps.ray_executor import result_from_payload

        finished = Finished(payload["status"], payload["message"], result_from_payload(self.config, payload))
        if self.store is not None:
            try:
                finished.saved_run_id = self.store.save(finished.result, run_id=self.run_id)
            except AevizError as exc:
                finished.save_error = str(exc)
        if self.checkpointer is not None:
            self.checkpointer.close(saved=finished.saved_run_id is not None)
        return finished
