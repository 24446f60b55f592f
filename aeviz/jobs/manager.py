"""Background training jobs: a process-wide manager that runs `Trainer.run()` in threads.

    manager = default_manager()
    job = manager.submit(TrainConfig(dataset="digits", variant="plain", k=8, epochs=3), owner="session-id")
    view = manager.view(job.job_id)   # a consistent copy: status, latest progress/snapshot, history
    manager.stop(job.job_id)          # within one training step; the weights learned so far are kept

Each job belongs to the sessions that follow it (the app's session ids: the one that started it, its
owner, and each that asked for the same configuration since), so a reloaded page finds its runs again.
One training per configuration: a submit whose configuration (aeviz.training.fingerprint) is queued or
training already follows that job instead of queuing a duplicate; a follower that stops it only leaves it,
and it stops when its last follower leaves (or when stopped without an owner: the teacher). At most
`max_running` jobs train at once (``$AEVIZ_MAX_JOBS``, default 1: CPUs are shared); the others wait in a
queue and know their position; one session may have at most ``$AEVIZ_MAX_QUEUED_PER_SESSION`` (default 3)
waiting (QueueFull past that); a queued job none of whose followers has been seen for
``$AEVIZ_ABANDON_SECONDS`` (default 600; a closed tab) is cancelled when its turn comes. Work that trains
outside a job (a page's trainer, a sweep's point) holds one of the same slots (`hold_slot`, `slot_gate`:
aeviz.jobs.slots), waiting its turn in the same queue (or `try_hold_slot`: one free now, without queueing).
A running job is checkpointed (a crash loses little: aeviz.runs.checkpoints); an ended one is saved with the
run store, and its model then leaves memory (`result` loads it back from the store); at exit or SIGTERM/Ctrl-C
running jobs are stopped and saved (aeviz.jobs.shutdown). With a Ray address (``$AEVIZ_RAY_ADDRESS``) jobs train
on the cluster's workers (aeviz.jobs.executors). A job is a background task (aeviz.training.tasks).
A session that is gone (aeviz.jobs.presence: its tabs closed) is forgotten (`forget_owner`): its ended jobs
that no other session follows go, and so does its last sign once its queued and running jobs have ended.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import secrets
import threading
import time
from typing import Any, Callable

from aeviz.data.datasets import get_spec
from aeviz.training.config import TrainConfig, ValidConfig
from aeviz.training.device import share_cpu_threads, warm_up_optimizers
from aeviz.errors import AevizError, QueueFull
from aeviz.jobs.executors import JobCluster
from aeviz.jobs.presence import PRESENCE
from aeviz.jobs.slots import SlotHold
from aeviz.jobs.view import JobView
from aeviz.serving.allocator import give_back_free_memory
from aeviz.server_settings import MAX_QUEUED_ENV, abandon_seconds_from_env, max_jobs_from_env, max_queued_from_env
from aeviz.training.fingerprint import config_fingerprint
from aeviz.jobs.shutdown import stop_jobs_at_exit
from aeviz.training.shared_tasks import Followed, SharedTask
from aeviz.training.tasks import ACTIVE, CANCELLED, RUNNING, STARTING, TASKS, TrainerTask
from aeviz.runs.store import RunStore, new_run_id
from aeviz.training.events import Finished, Progress, Snapshot
from aeviz.runs.interrupted import job_trainer
from aeviz.runs.checkpoints import owner_tag


class Job(TrainerTask, Followed):
    """One training run: builds its Trainer in its thread, keeps the loss history, saves the run at its end."""

    def __init__(self, job_id: str, owner: str, config: TrainConfig | ValidConfig, manager: "JobManager",
                 resume: str | None = None):
        super().__init__(None, "training", on_end=manager.job_ended)
        self.valid = config if isinstance(config, ValidConfig) else None  # checked at submit: not again
        self.job_id, self.owner = job_id, owner
        self.config = self.valid.config if self.valid is not None else config
        self.created = time.time()
        self.created_monotonic = time.monotonic()
        self.report(message="waiting for a free training slot")
        self._manager = manager
        self.history: list[dict[str, float]] = []
        self.test_history: list[dict[str, float]] = []
        self.metrics: dict[str, Any] = {}
        self.run_id: str | None = None
        self.showable = threading.Event()  # set at the first snapshot (something to draw) or at the end
        self.resume = resume  # the interrupted run it continues (aeviz.runs.interrupted), whose id it keeps

        self.save_as = resume or new_run_id(self.config.variant, self.config.k, self.config.dataset)  # one id throughout
        self.note = ""                     # where it trains, when worth saying; added to its final message
        # what it trains (None for a resumed run: it continues one run, and takes no followers)
        self.fingerprint = None if resume else config_fingerprint(self.config)
        self._followers = {owner}          # the sessions that follow it (Followed); its owner first

    def leave(self, owner: str) -> bool:
        """`owner` stops following: True if it left and other sessions still follow; False if it is the last
        follower (it stays one, and the job should stop)."""
        with self.lock:
            if self._followers - {owner}:
                self._followers.discard(owner)
                return True
            return False

    def forget_follower(self, owner: str) -> bool:
        """`owner`'s session is gone: it no longer follows this (ended) job. True if no session follows it now."""
        with self.lock:
            self._followers.discard(owner)
            return not self._followers

    def saved_as(self, run_id: str) -> None:
        """Record that the run, not saved when the job ended, has now been saved as `run_id` (its model then
        leaves memory: the run store has it)."""
        with self.lock:
            self.run_id, self._error = run_id, ""
            self._message = self._message.split("; not saved:")[0]
            self.release_model()

    def release_model(self) -> None:
        """Drop the ended job's result, model included, once its run is saved (a page loads it back from the
        run store by its run id); the job keeps what its view shows: metrics, run id, histories. A run not
        saved keeps its model, to save again or download."""
        with self.lock:
            if self.run_id is None or self.status in ACTIVE:
                return
            self._result = None
            if self.finished is not None:
                self.finished = dataclasses.replace(self.finished, result=None)

    def make_source(self):
        manager = self._manager
        if manager.cluster is not None and not self.resume:  # on the Ray cluster, or here with a note saying why
            # lazy: PIL only when called (this module imports without it)

            source, self.note = manager.cluster.source_for(self.config, manager.store(), self.save_as,
                                                           fallback=self.local_trainer, tag=owner_tag(self.owner))
            if source is not None:
                return source
        return self.local_trainer()

    def local_trainer(self):
        """The Trainer that trains this job in the app's own process (also where a lost cluster's job restarts)."""

        manager = self._manager
        share_cpu_threads(manager.max_running)
        dataset = manager.dataset_loader(self.config.dataset) if manager.dataset_loader else None
        trainer = job_trainer(self.valid or self.config, dataset, manager.store(), self.save_as, self.owner, bool(self.resume))
        with self.lock:  # resumed: its history goes on; a lost cluster's job starting here: it starts over
            self.history, self.test_history = list(trainer.history), list(trainer.test_history)
        return trainer

    def where(self) -> str:  # where it trains, when worth saying (the source's own note once it has one)
        return getattr(self.source, "note", "") or self.note

    def on_event(self, event) -> None:
        super().on_event(event)
        if isinstance(event, Progress):
            self.history.append(self.source.history[-1] if self.source.history else {})
        elif isinstance(event, Snapshot):
            self.test_history.append({"step": event.step, "elapsed": event.elapsed, "test_mse": event.test_mse})
            self.showable.set()
        elif isinstance(event, Finished):  # everything a view shows of the end changes at once
            self._result = event.result
            self.metrics = dict(event.result.metrics) if event.result is not None else {}
            self.run_id = event.saved_run_id
            self.note = self.where()  # the source is dropped at the end; its note stays
            if self.note:
                self._message += f" ({self.note})"
            if event.save_error:
                self._error = event.save_error
                self._message += f"; not saved: {event.save_error}"

    def cleanup(self) -> None:
        """Drop the trainer (it holds the dataset on the device) and, once the run is saved, the model (a run
        not saved keeps it, on the CPU): ended runs hold no GPU memory, and saved ones no model."""
        with self.lock:
            self.source = None
            if self._result is not None and self._result.model is not None:
                self._result.model.to("cpu")
            self.release_model()
        self.showable.set()

    def view(self, position: int | None, with_history: bool) -> JobView:
        with self.lock:
            return JobView(self.job_id, self.owner, self.config, self._status, self._message, position,
                           self.created, self.started, self.last_progress, self.snapshot,
                           list(self.history) if with_history else [],
                           list(self.test_history) if with_history else [],
                           dict(self.metrics), self.run_id, self._error, self.save_as, self.where(),
                           frozenset(self._followers))


class JobManager:
    """Runs training jobs in background threads; every method is thread-safe."""

    def __init__(self, max_running: int | None = None, store_factory: Callable[[], Any] | None = None,
                 dataset_loader: Callable[[str], Any] | None = None, abandon_seconds: float | None | str = "env",
                 ray_address: str | None = "env", max_queued: int | None | str = "env"):
        # `ray_address`: a Ray cluster to train on ("env": $AEVIZ_RAY_ADDRESS; None: this process only).
        explicit = max_running if max_running is not None else max_jobs_from_env(default=None)
        self.max_running = explicit or 1  # with Ray and no setting: 1 until a job has joined the cluster
        self.cluster = JobCluster.from_setting(ray_address, self.set_limit if explicit is None else None)
        # Closed tabs leave queued runs nobody watches. Pages ask for their owner's jobs every few seconds
        # while one is active, so an owner unseen for `abandon_seconds` has gone: its queued job is
        # cancelled at its turn (running jobs never are; they end with their budget and are saved).
        self.abandon_seconds = abandon_seconds_from_env() if abandon_seconds == "env" else abandon_seconds
        # Queued runs one session may have at once ("env": $AEVIZ_MAX_QUEUED_PER_SESSION; None: no limit), so
        # that one session pressing Train again and again cannot push everyone else's runs back.
        self.max_queued = max_queued_from_env() if max_queued == "env" else max_queued
        self._store_factory = store_factory
        self.dataset_loader = dataset_loader
        self._jobs: dict[str, Job] = {}
        self._holds: dict[str, SlotHold] = {}  # slots held (or waited for) by training outside the jobs: sweeps
        self._queue: list[str] = []
        self._seen: dict[str, float] = {}     # owner -> time.monotonic() of the last sign of them
        self._gone: set[str] = set()          # owners whose session is gone but who follow an active job
        self._lock = threading.RLock()  # reentrant: a job that cannot start ends, and its end asks for the next

    # ------------------------------------------------------------------ submitting
    def submit(self, config: TrainConfig | ValidConfig, owner: str = "", resume: str | None = None) -> JobView:
        """Queue a training job (`resume`: continuing that interrupted run, whose own settings it keeps); it
        starts at once when a slot is free. A TrainConfig is validated first (TrainConfig.validate: InvalidConfig
        at once, nothing queued); a ValidConfig is taken as it is. When a job with the same configuration
        fingerprint is queued or training, `owner` follows that job instead (its view is returned); when
        `owner` already has `max_queued` jobs waiting, QueueFull says so and nothing is queued."""
        if resume is None and not isinstance(config, ValidConfig):  # validated on a copy: the caller's stays theirs
            config = copy.deepcopy(config).validate(get_spec(config.dataset).image_shape)
        else:
            config = copy.deepcopy(config)
        job = Job(f"job-{secrets.token_hex(4)}", owner, config, self, resume)
        with self._lock:
            self._saw(owner)
            same = self._attachable(job.fingerprint)
            if same is not None:
                same.follow(owner)
                return same.view(self._position(same.job_id), True)
            self._check_queue_room(owner)
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
        self._start_queued()
        return self.view(job.job_id)

    def _attachable(self, fingerprint: str | None) -> Job | None:
        """The job queued or training `fingerprint` (not one being stopped), if any; called with the lock held."""
        if fingerprint is None:
            return None
        for job in self._jobs.values():
            if (job.fingerprint == fingerprint and not job.stop_requested
                    and (job.job_id in self._queue or job.status in (STARTING, RUNNING))):
                return job
        return None

    def _check_queue_room(self, owner: str) -> None:
        """QueueFull when `owner` has `max_queued` entries waiting already; called with the lock held."""
        if self.max_queued is None:
            return
        waiting = self._waiting_of(owner)
        if waiting >= self.max_queued:
            raise QueueFull(f"you already have {waiting} run(s) or task(s) waiting in the queue, the most one "
                            f"session may queue on this server ({MAX_QUEUED_ENV}={self.max_queued}); wait for one "
                            f"to start, or cancel one")

    def _waiting_of(self, owner: str) -> int:
        """The queue's entries `owner` started: its jobs, and the holds its page tasks and sweeps wait with
        (one each at most); called with the lock held."""
        entries = [self._jobs.get(entry_id) or self._holds.get(entry_id) for entry_id in self._queue]
        return sum(1 for entry in entries if entry is not None and entry.owner == owner)

    def active_job_for(self, config: TrainConfig | ValidConfig) -> JobView | None:
        """The job queued or training `config` now (the one a submit of it would follow), or None."""
        valid = config.config if isinstance(config, ValidConfig) else config
        try:
            fingerprint = config_fingerprint(valid)
        except AevizError:
            return None
        with self._lock:
            job = self._attachable(fingerprint)
            return None if job is None else job.view(self._position(job.job_id), False)

    def queued_count(self, owner: str) -> int:
        """How many entries waiting in the queue `owner` started (what max_queued limits): its jobs, and the
        holds of its page tasks and sweeps."""
        with self._lock:
            return self._waiting_of(owner)

    def hold_slot(self, owner: str, label: str, followers: Callable[[], frozenset[str]] | None = None) -> SlotHold:
        """Queue a hold of one training slot for `owner`'s work that trains outside a job (a sweep's point):
        it waits in the same queue under the same limit and abandonment rule as the jobs (aeviz.jobs.slots),
        asking about `owner`, or about the sessions `followers()` names (a shared task's followers). Release
        it with `release` once that work is done. Not a sign of `owner` (the work asks, not its session)."""
        hold = self._new_hold(owner, label, followers)
        with self._lock:
            self._holds[hold.job_id] = hold
            self._queue.append(hold.job_id)
        self._start_queued()
        return hold

    def try_hold_slot(self, owner: str, label: str) -> SlotHold | None:
        """A training slot for `owner`'s work at once, when one is free now and nothing waits in the queue
        (further points of a sweep that trains several at once, beside the one that waited its turn); None
        otherwise, and nothing is queued. Release it with `release` as for hold_slot."""
        with self._lock:
            if self._queue or TASKS.closing or self._training_now() >= self.max_running:
                return None
            hold = self._new_hold(owner, label)
            self._holds[hold.job_id] = hold
            hold.start()  # counts as training from now (a hold started as the process exits is cancelled)
            if hold.status == CANCELLED:
                self._holds.pop(hold.job_id, None)
                return None
        return hold

    def _new_hold(self, owner: str, label: str, followers: Callable[[], frozenset[str]] | None = None) -> SlotHold:
        return SlotHold(f"hold-{secrets.token_hex(4)}", owner, label, self.job_ended, followers)

    def slot_gate(self, owner: str, label: str, followers: Callable[[], frozenset[str]] | None = None,
                  queued_at: Callable[[int | None], None] | None = None) -> Callable[[threading.Event], Any]:
        """A gate for BackgroundTask.take_turns: the task's work waits for a training slot held for `owner`
        (or for `followers()`: hold_slot), hearing its place in the queue meanwhile (`queued_at(position)`:
        BackgroundTask.queued_at), and gives it back when it ends."""
        @contextlib.contextmanager
        def turn(stop: threading.Event):
            hold = self.hold_slot(owner, label, followers)
            tell = None if queued_at is None else (lambda: queued_at(self.position(hold.job_id)))
            try:
                yield hold.why_not_granted(stop, tell)
            finally:
                self.release(hold)
        return turn

    def slot_gate_for(self, owner: str, label: str) -> Callable[[SharedTask], Callable[[threading.Event], Any]]:
        """For SharedTasks.start: the slot gate of a task that sessions share, held for whichever sessions
        follow it (so it is not abandoned while one of them is there) and telling it its place in the queue."""
        return lambda task: self.slot_gate(owner, label, task.followers, task.queued_at)

    def release(self, hold: SlotHold) -> None:
        """Give back `hold`'s slot (or its place in the queue): the next queued job or hold starts."""
        with self._lock:
            queued = hold.job_id in self._queue
            if queued:
                self._queue.remove(hold.job_id)
            self._holds.pop(hold.job_id, None)
        if not (queued and hold.cancel("released before its turn")):
            hold.stop()

    def held_slots(self) -> int:
        """Training slots held now by work outside the jobs (holds whose turn has come)."""
        with self._lock:
            return sum(1 for hold in self._holds.values() if hold.status in (STARTING, RUNNING))

    def position(self, job_id: str) -> int | None:
        """A job's or a hold's place in the queue (1: next), None when it is not waiting."""
        with self._lock:
            return self._position(job_id)

    def _entry(self, entry_id: str) -> Job | SlotHold:
        return self._jobs[entry_id] if entry_id in self._jobs else self._holds[entry_id]

    def _training_now(self) -> int:
        """Jobs and holds holding a slot; called with the lock held."""
        return sum(1 for entry in [*self._jobs.values(), *self._holds.values()] if entry.status in (STARTING, RUNNING))

    def _position(self, job_id: str) -> int | None:
        return self._queue.index(job_id) + 1 if job_id in self._queue else None

    def touch(self, owner: str) -> None:
        """A sign that `owner` (a browser session) is still there."""
        with self._lock:
            self._saw(owner)

    def _saw(self, owner: str) -> None:
        """Called with the lock held."""
        self._seen[owner] = time.monotonic()
        self._gone.discard(owner)

    def forget_owner(self, owner: str) -> None:
        """`owner`'s session is gone (aeviz.jobs.presence): it stops following the ended jobs, and an ended job
        that no session follows any more is forgotten (its run is in the store). Its queued and running jobs go
        on (the abandonment rule still counts from its last sign): the manager forgets it once they have ended."""
        with self._lock:
            for job in [job for job in self._jobs.values() if job.followed_by(owner) and job.status not in ACTIVE]:
                if job.forget_follower(owner):
                    del self._jobs[job.job_id]
            if any(entry.followed_by(owner) for entry in [*self._jobs.values(), *self._holds.values()]):
                self._gone.add(owner)
            else:
                self._gone.discard(owner)
                self._seen.pop(owner, None)

    def owner_count(self) -> int:
        """The sessions the manager keeps anything for (when it last saw them): those not gone, and gone ones
        still following a queued or running job."""
        with self._lock:
            return len(self._seen.keys() | self._gone)

    def _abandoned(self, job: Job) -> bool:
        """Whether none of the job's followers has been seen for `abandon_seconds`."""
        if self.abandon_seconds is None:
            return False
        now = time.monotonic()
        return all(now - self._seen.get(owner, job.created_monotonic) > self.abandon_seconds
                   for owner in job.followers())

    def _start_queued(self) -> None:
        cancelled = []
        with self._lock:
            running = self._training_now()
            while self._queue and running < self.max_running:
                job = self._entry(self._queue.pop(0))
                if self._abandoned(job) or TASKS.closing:
                    cancelled.append(job)
                    continue
                job.report(message="loading the dataset and building the model")
                job.start()  # (one started as the process exits is cancelled: the lock is reentrant for it)
                running += 1
        for job in cancelled:  # outside the lock: a cancelled job's end starts the next one
            job.cancel("cancelled: the process is exiting" if TASKS.closing else
                       f"cancelled at its turn: its browser sessions had not been seen for over "
                       f"{self.abandon_seconds:g} s (tab closed?)")

    def job_ended(self, job: Job | SlotHold) -> None:
        """Called by each job as it ends: its slot goes to the next queued job, and followers whose session
        has gone meanwhile are forgotten."""
        with self._lock:
            gone = job.followers() & self._gone
        for owner in gone:
            self.forget_owner(owner)
        self._start_queued()
        if not self.active_count() and not self.held_slots():  # the last training has ended: its memory is free
            give_back_free_memory()

    def set_limit(self, max_running: int) -> None:
        """Run up to `max_running` jobs at once from now on (queued ones start if slots opened)."""
        with self._lock:
            self.max_running = max(1, int(max_running))
        self._start_queued()

    # ------------------------------------------------------------------ control
    def stop(self, job_id: str, owner: str | None = None) -> JobView:
        """Stop a running job (it keeps and saves what it learned) or cancel a queued one. With `owner` (a
        session), that session leaves the job: it stops only when no other session follows it (one session
        never stops another's training; a session that does not follow it gets AevizError). Without
        `owner` (the teacher, the command line), it stops for everyone."""
        job = self.job(job_id)
        if owner is not None and not job.followed_by(owner):
            raise AevizError(f"job {job_id} belongs to another session; only the sessions that follow it "
                             f"can stop it")
        if owner is not None and job.leave(owner):
            return self._view_of(job)  # it goes on for the others
        with self._lock:
            queued = job_id in self._queue
            if queued:
                self._queue.remove(job_id)
        if queued:
            job.cancel("cancelled before it started")
        else:
            job.stop()
        return self._view_of(job)

    def stop_all(self) -> list[Job]:
        """Cancel queued jobs and stop running ones (each saves what it learned, as stopped), without waiting;
        returns the jobs that were active."""
        with self._lock:
            self._queue = []  # nothing starts any more
            active = [j for j in self._jobs.values() if j.status in ACTIVE]
            holds = list(self._holds.values())
        for job in [*active, *holds]:  # a queued job cancels; a running one stops within a step and saves
            job.cancel("cancelled before it started: the server is shutting down") or job.stop()
        return active

    def stop_all_and_wait(self, timeout: float = 20.0) -> list[JobView]:
        """stop_all, then wait up to `timeout` s for the running jobs to save."""
        active = self.stop_all()
        deadline = time.monotonic() + timeout
        for job in active:
            job.wait(max(0.0, deadline - time.monotonic()))
        return [job.view(None, with_history=False) for job in active]

    def save_again(self, job_id: str, owner: str | None = None) -> JobView:
        """Try again to save an ended job whose run could not be written (a full disk freed since, say).
        Raises SaveFailed (the model stays in memory) or AevizError for another session's job."""
        job = self.job(job_id)
        if owner is not None and not job.followed_by(owner):
            raise AevizError(f"job {job_id} belongs to another session")
        result = job.result
        if result is None or job.run_id is not None:
            return self._view_of(job)
        job.saved_as(self.store().save(result))
        return self._view_of(job)

    def wait(self, job_id: str, timeout: float | None = None) -> JobView:
        """Block until the job ends (or `timeout` seconds pass); returns its view (also when the job was
        forgotten as it ended: no session followed it any more)."""
        job = self.job(job_id)
        job.wait(timeout)
        return self._view_of(job)

    def wait_showable(self, job_id: str, timeout: float) -> JobView:
        """Block until the job has a first snapshot to draw, or has ended, or `timeout` seconds pass."""
        job = self.job(job_id)
        job.showable.wait(timeout)
        return self._view_of(job)

    def forget(self, job_id: str) -> None:
        """Drop an ended job from the manager (its saved run stays in the store)."""
        job = self.job(job_id)
        if job.status in ACTIVE:
            raise AevizError(f"job {job_id} is still {job.status}; stop it first")
        with self._lock:
            self._jobs.pop(job_id, None)

    # ------------------------------------------------------------------ reading
    def view(self, job_id: str, with_history: bool = True) -> JobView:
        return self._view_of(self.job(job_id), with_history)

    def _view_of(self, job: Job, with_history: bool = True) -> JobView:
        with self._lock:
            position = self._position(job.job_id)
        return job.view(position, with_history)

    def jobs(self, owner: str | None = None, with_history: bool = False) -> list[JobView]:
        """Jobs (that one owner follows, or all), oldest first. Asking for an owner's jobs counts as a sign of them."""
        with self._lock:
            if owner is not None:
                self._saw(owner)
            ids = [j.job_id for j in sorted(self._jobs.values(), key=lambda j: j.created)
                   if owner is None or j.followed_by(owner)]
        return [self.view(job_id, with_history) for job_id in ids]

    def result(self, job_id: str):
        """The ended job's result with its model: the TrainResult in memory while its run is not saved; once
        saved, the run loaded back from the run store (a LoadedRun: the same config, model, metrics and
        histories); None before it ends, or when it ended without a result."""
        job = self.job(job_id)
        result = job.result
        if result is None and job.run_id is not None and job.status not in ACTIVE:
            return self.store().load(job.run_id)
        return result

    def store(self):
        return self._store_factory() if self._store_factory else RunStore()

    def active_count(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status in ACTIVE)

    def job(self, job_id: str) -> Job:
        """The live Job (its state changes as it trains; pages read `view`, a consistent copy)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise AevizError(f"no training job {job_id!r} in this app process (it may have restarted; "
                             f"finished runs are in the run list)")
        return job


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def default_manager() -> JobManager:
    """The process-wide manager every session of the app shares."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager()
            stop_jobs_at_exit(_manager)  # SIGTERM / Ctrl-C / exit: the jobs are stopped and saved first
            PRESENCE.on_forget(_manager.forget_owner)  # a session gone: its ended jobs and last sign go too
            threading.Thread(target=warm_up_optimizers, daemon=True, name="aeviz-optim-warmup").start()
        return _manager
