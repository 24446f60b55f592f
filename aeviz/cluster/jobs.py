"""Page-started training jobs on a Ray cluster: an actor per job (then kept for the next: aeviz.cluster.worker_pool),
followed by the app's job thread.

The actor (`TrainingActor`, in aeviz.cluster.training_actor) trains in a thread of its worker process and
keeps the trainer's events until they are fetched. `RayTrainingSource` is what a job (aeviz.jobs.manager) runs
in place of a Trainer (the Applications page's model of the normal classes runs one too): it
asks the actor for new events every POLL_SECONDS, so the page's live view (progress, losses,
snapshots) is the one an in-process job gives; `stop()` reaches the actor; at the end the weights come
back as bytes and this process saves the run in its own store, so the cluster needs no shared
filesystem. A worker that dies before anything was learned is started once more; after that, or once
something was learned, the job ends failed and says so.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterator

from aeviz.errors import AevizError
from aeviz.cluster.connection import first_line
from aeviz.cluster.training_actor import TrainingActor
from aeviz.cluster.worker_pool import kill
from aeviz.training.events import Finished, Progress
from aeviz.runs.checkpoints import Checkpointer

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2            # the live view's cadence, and how long one wait for an answer lasts
STARTUP_TIMEOUT_SECONDS = 600.0  # a cluster with no free CPU keeps the actor waiting; give up after this
LOST_AFTER_SECONDS = 120.0    # a started worker that has answered nothing this long is given up as lost
HEAD_CHECK_SECONDS = 30.0     # a job waiting this long on its worker asks whether the head is still there
REUSE_SECONDS = 10.0          # a kept worker that does not take the next job this fast is replaced
CPUS_PER_JOB = 1              # each job trains with one torch thread on one of the cluster's CPUs


class WorkerLost(Exception):
    """The actor died or stopped answering (its reason in a line)."""


def actor_resources(config, gpus: float = 0.0, free_gpus: float = 0.0) -> dict[str, float]:
    """What a job's actor asks the cluster for: a CPU, and a GPU where the device choice means one. `cuda`
    asks for one wherever the cluster has GPUs (it waits for one to be free); `auto` takes one only if one
    is free now. Ray hides the GPUs from an actor that asked for none, so its device is then the CPU."""
    wants_gpu = (config.device == "cuda" and gpus >= 1) or (config.device == "auto" and free_gpus >= 1)
    return {"num_cpus": CPUS_PER_JOB, "num_gpus": 1 if wants_gpu else 0}


def actor_config_json(config, resources: dict[str, float]) -> dict[str, Any]:
    """The configuration as the worker trains it."""
    config_json = config.to_json()
    if not resources.get("num_gpus") and config.device == "auto":
        config_json["device"] = "cpu"  # a GPU on its node belongs to a job that asked for it
    return config_json


def spawn_actor(ray, config, resources: dict[str, float] | None = None, checkpoint_seconds: float | None = None,
                tag: str = "", make_dataset: Callable[[], Any] | None = None) -> Any:
    resources = resources or actor_resources(config)
    actor_class = ray.remote(max_restarts=0, **resources)(TrainingActor)
    return actor_class.remote(actor_config_json(config, resources), CPUS_PER_JOB, checkpoint_seconds, tag,
                              make_dataset)


# ---------------------------------------------------------------------------- server side
class RayTrainingSource:
    """Trainer-like for aeviz.jobs.manager: `run()` yields Started, Progress, Snapshot and one Finished, `stop()`
    is thread-safe, `history` has a row per Progress; the training happens in a Ray actor. If the actor
    is lost because the cluster went away, the job starts again in this process (`fallback()` builds its
    Trainer) and `note` says so. With a `pool` (aeviz.cluster.worker_pool), a CPU job trains in a kept worker when
    there is one, and its worker is kept after a job that ended with its result."""

    def __init__(self, ray, config, store=None, retries: int = 1, run_id: str | None = None,
                 fallback: Callable[[], Any] | None = None, cluster=None, resources: dict | None = None,
                 tag: str = "", make_dataset: Callable[[], Any] | None = None, pool=None):
        self.ray, self.config, self.store, self.retries, self.run_id = ray, config, store, retries, run_id
        self.pool = pool
        self._waiting_to_start = False  # this job's new worker has not answered yet (told to the pool)
        self.make_dataset = make_dataset  # run on the worker for the training data (None: config.dataset by name)
        self.resources = resources or actor_resources(config)  # what each actor asks the cluster for
        self.fallback, self.cluster = fallback, cluster  # cluster: aeviz.jobs.executors.JobCluster
        # The worker's checkpoints are written here (a dead worker leaves the run interrupted, not lost).
        self.checkpointer = None
        if store is not None and run_id is not None:
            self.checkpointer = Checkpointer(store, run_id, tag)
        self._seen_checkpoint = 0
        self._history: list[dict[str, float]] = []
        self.actor = None
        self.job = 0             # this job's number on its actor (a kept worker trains one job after another)
        self.local = None        # the in-process Trainer, once the cluster was lost
        self.attempts = 0
        self.note = "on a Ray worker's GPU" if self.resources.get("num_gpus") else "on a Ray worker"
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def history(self) -> list[dict[str, float]]:
        return self.local.history if self.local is not None else self._history

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            actor, job, local = self.actor, self.job, self.local
        if local is not None:
            local.stop()
        elif actor is not None and self.ray.is_initialized():
            try:
                actor.stop.remote(job)  # fire and forget; by number: a kept worker may train another job by now
            except (Exception, SystemExit):  # Ray itself gone: the job's thread finds out and goes on here
                pass

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
            ended_well = False
            try:
                if not self.ray.is_initialized():
                    raise WorkerLost("Ray was shut down in the app's process")
                tag = self.checkpointer.tag if self.checkpointer is not None else ""
                actor, job = self.kept_worker(seconds, tag)  # not under the lock: stop() takes it
                if actor is None:
                    actor, job = spawn_actor(self.ray, self.config, self.resources, seconds, tag,
                                             self.make_dataset), 1
                    self._starting(True)
                with self._lock:
                    self.actor, self.job = actor, job
                if self._stop.is_set():
                    self.actor.stop.remote(job)
                payload = yield from self._follow(self.actor)
                ended_well = True
                break
            except WorkerLost as exc:
                log.warning("a Ray worker training %s was lost: %s", self.config.variant, exc)
                if self._cluster_gone():
                    if self._stop.is_set():
                        raise AevizError(f"the Ray cluster was lost before this stopped run came back ({exc})")
                    yield from self._run_here(str(exc))
                    return
                if self._history or self.attempts > self.retries:
                    retried = " (it had already been started again once)" if self.attempts > 1 else ""
                    kept = ("; its last checkpoint was kept: the run is listed as interrupted, to resume or keep"
                            if self.checkpointer is not None and self.checkpointer.writes else "")
                    raise AevizError(f"the Ray worker running this job died: {exc}{retried}{kept}") from None
            finally:
                self._starting(False)
                self._release(self.actor, keep=ended_well)
        yield self._finished(payload)

    def _cluster_gone(self) -> bool:
        return self.cluster is not None and self.fallback is not None and not self.cluster.still_there(self.ray)

    def _run_here(self, why: str) -> Iterator[Any]:
        """The cluster went away with this job's worker: train it again from the start in this process."""
        self.note = (f"started again in the app's own process: the Ray cluster was lost ({why}); "
                     f"later runs train here too")
        if self.checkpointer is not None:  # the run's checkpoints (and their lock) pass to the trainer here
            self.checkpointer.close(saved=False)
            self.checkpointer = None
        local = self.fallback()
        with self._lock:
            self.local = local
        if self._stop.is_set():
            local.stop()
        yield from local.run()  # a new Started: the job's live view begins again

    def kept_worker(self, checkpoint_seconds: float | None, tag: str) -> tuple[Any | None, int]:
        """(a kept worker now training this job, its number there), or (None, 0): no pool, none kept, or a
        GPU job (the kept workers are let go: it may be waiting for a CPU one holds)."""
        if self.pool is None:
            return None, 0
        if self.resources.get("num_gpus"):
            self.pool.let_go()
            return None, 0
        while (actor := self.pool.take(self.ray)) is not None:
            try:
                job = self.ray.get(actor.start.remote(actor_config_json(self.config, self.resources), CPUS_PER_JOB,
                                                      checkpoint_seconds, tag, self.make_dataset),
                                   timeout=REUSE_SECONDS)
                return actor, job
            except (Exception, SystemExit):  # gone while idle, or not answering: the next, or a new one
                self._release(actor)
        return None, 0

    def _starting(self, waiting: bool) -> None:
        """Tell the pool whether this job's new worker is still waiting to start (it then keeps no worker
        whose CPU this one could have)."""
        if self.pool is not None and waiting != self._waiting_to_start:
            self._waiting_to_start = waiting
            self.pool.starting(1 if waiting else -1)

    def _release(self, actor, keep: bool = False) -> None:
        """Keep the actor for the next job (`keep`: its job ended with a result, and a pool takes CPU
        workers), else kill it so its CPU is free at once (a dead or finished one is killed harmlessly)."""
        if actor is None or not self.ray.is_initialized():
            return
        if keep and self.pool is not None and not self.resources.get("num_gpus"):
            self.pool.keep(self.ray, actor)
        else:
            kill(self.ray, actor)

    def _follow(self, actor) -> Iterator[Any]:
        """Yield the actor's events as they come; return its payload at the end (raises WorkerLost)."""

        cursor, answered = 0, None
        waiting_since = time.monotonic()
        while True:
            events, cursor, done, payload, error = self.poll(actor, cursor, answered or waiting_since,
                                                              started=answered is not None)
            answered = time.monotonic()
            self._starting(False)
            for event, row in events:
                if isinstance(event, Progress) and row is not None:
                    self._history.append(row)
                yield event
            self._fetch_checkpoint(actor)
            if done:
                if error or payload is None:
                    raise AevizError(error or "the Ray worker ended without a result")
                return payload
            time.sleep(POLL_SECONDS)

    def poll(self, actor, cursor: int, since: float, started: bool):
        """One answer from the actor, waiting POLL_SECONDS at a time (never without a timeout)."""
        ray = self.ray
        if not ray.is_initialized():  # shut down here: never let a call start a new instance
            raise WorkerLost("Ray was shut down in the app's process")
        try:
            ref = actor.poll.remote(cursor)
            next_check = since + HEAD_CHECK_SECONDS
            while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
                now = time.monotonic()
                silent = now - since
                if self.cluster is not None and now >= next_check:  # a gone head never answers: no long wait
                    next_check = now + HEAD_CHECK_SECONDS
                    if not self.cluster.still_there(ray):
                        raise WorkerLost("the cluster's head stopped answering while this job waited for its worker")
                if not started and silent > STARTUP_TIMEOUT_SECONDS:
                    raise WorkerLost(f"the cluster did not start it within {STARTUP_TIMEOUT_SECONDS:.0f} s")
                if started and silent > LOST_AFTER_SECONDS:
                    raise WorkerLost(f"it has not answered for {LOST_AFTER_SECONDS:.0f} s")
            return ray.get(ref, timeout=LOST_AFTER_SECONDS)
        except WorkerLost:
            raise
        except SystemExit:  # Ray's calls raise it while Ray shuts down in this process
            raise WorkerLost("Ray was shut down in the app's process") from None
        except Exception as exc:  # the actor died (RayActorError), or Ray's head is gone
            raise WorkerLost(first_line(exc)) from None

    def _fetch_checkpoint(self, actor) -> None:
        """When one is due, the worker's newest checkpoint, written into this process's store."""
        kept = self.checkpointer
        if kept is None or kept.seconds is None or not kept.due() or not self.ray.is_initialized():
            return
        kept.skip()
        try:
            self._seen_checkpoint, data = self.ray.get(actor.checkpoint.remote(self._seen_checkpoint),
                                                       timeout=10.0)
        except (Exception, SystemExit):  # a dead or silent worker: the next poll says so
            return
        if data is not None:
            kept.write(data)

    def _finished(self, payload: dict[str, Any]):
        """The Finished event, with the run rebuilt from the payload and saved in this process's store."""
        # lazy: torch only when called (this module imports without it)
        from aeviz.cluster.sweep_executor import result_from_payload

        finished = Finished(payload["status"], payload["message"], result_from_payload(self.config, payload))
        if self.store is not None:
            try:
                finished.saved_run_id = self.store.save(finished.result, run_id=self.run_id)
            except AevizError as exc:
                finished.save_error = str(exc)
        if self.checkpointer is not None:
            self.checkpointer.close(saved=finished.saved_run_id is not None)
        return finished
