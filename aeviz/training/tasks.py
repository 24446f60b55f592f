"""Background tasks: one way to run work in a thread and read how it is going from any other thread.

    task = TrainerTask(Trainer(config), "training").start()
    task.status          # queued, starting, running, then completed, stopped, diverged, cancelled or failed
    task.progress        # TaskProgress(fraction 0..1, text) for a progress bar
    task.stop()          # thread-safe; the work ends at its next check and keeps what it has
    task.wait(timeout)   # True once the task has ended
    task.result, task.message, task.error

Training jobs (aeviz.jobs.manager), sweeps (aeviz.sweeps.runner.SweepRunner) and a page's own trainers all
are BackgroundTasks with one status vocabulary; a page shows any of them with one panel (ui.task_panel),
and the Train page adds its richer live view of a job. State that the worker thread writes and other
threads read is guarded by `task.lock`. Nothing here imports streamlit.

Every task that starts is known to one process-wide registry (`TASKS`, weakly held): at interpreter exit
it stops them all and waits for them (a bounded wait), so a process that exits with work running exits
cleanly with that work saved or cancelled, never aborting inside torch ("terminate called without an active
exception"). A job manager stops its queue first (`TASKS.stop_first`; aeviz.jobs.shutdown arranges it).
A task may also wait for its turn before its work (`take_turns(gate)`: a job manager's training slot, so
a page's trainer counts against the server's limit of trainings at once, as its jobs do).
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable

from aeviz.errors import AevizError
from aeviz.training.events import Finished, Progress, Snapshot, Started

# One status vocabulary for trainers' Finished events, jobs, sweeps and their points.
QUEUED, STARTING, RUNNING = "queued", "starting", "running"
COMPLETED, STOPPED, DIVERGED, CANCELLED, FAILED = "completed", "stopped", "diverged", "cancelled", "failed"
ACTIVE = (QUEUED, STARTING, RUNNING)
ENDED = (COMPLETED, STOPPED, DIVERGED, CANCELLED, FAILED)
TURN_POLL_SECONDS = 0.2  # how often a task waiting for its turn (take_turns) looks at its stop flag


@dataclass(frozen=True)
class TaskProgress:
    fraction: float = 0.0    # of the whole task, 0..1
    text: str = ""           # one line for a progress bar


def describe_error(exc: BaseException) -> str:
    """An error in a line: an AevizError's own message; otherwise its type and first line (a bug)."""
    if isinstance(exc, AevizError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class TaskStopped(AevizError):
    """Raised by BackgroundTask.report_unless_stopped inside work() once a stop was asked."""


class BackgroundTask:
    """Work done by `work()` in a daemon thread; every public member is safe to use from any thread.

    A subclass implements `work()` (returns the result; checks `stop_requested` or passes `stop_event`
    on; calls `report()` as it goes) and, when stopping needs more than the flag, `on_stop()`. `work()`
    may call `end(status, message)` to set how it ended; otherwise it ends completed (or stopped, if a
    stop was asked). An AevizError ends it failed with its message; any other exception (a bug) too,
    with the exception named, so the app stays alive and says what happened.
    """

    def __init__(self, label: str = "task", on_end: Callable[["BackgroundTask"], None] | None = None):
        self.label = label
        self.lock = threading.RLock()
        self.stop_event = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_end = on_end
        self._status = QUEUED
        self._message = ""
        self._error = ""
        self._result: Any = None
        self._progress = TaskProgress(0.0, f"{label}: starting…")
        self._gate: Callable[[threading.Event], Any] | None = None
        self._waiting = ""

    def take_turns(self, gate: Callable[[threading.Event], Any],
                   waiting: str = "waiting for a free training slot") -> "BackgroundTask":
        """Before its work, wait for its turn: `gate(stop_event)` is a context manager (a job manager's
        `slot_gate`) that returns "" once the work may run, or why it may not (its turn was cancelled), and
        frees the turn when the work ends; `waiting` says what it waits for meanwhile (the gate may add its
        place in the queue: `queued_at`). Call before start(); returns the task."""
        with self.lock:
            if self._thread is not None:
                raise AevizError(f"{self.label} has started; it takes turns from its start only")
            self._gate, self._waiting = gate, waiting
        return self

    def queued_at(self, position: int | None) -> None:
        """While it waits for its turn: its place in the queue (1: next), for its progress line (a gate
        that knows it calls this)."""
        with self.lock:
            if self._status != QUEUED:
                return
            where = f": position {position}" if position else ""
            self._progress = TaskProgress(self._progress.fraction, f"{self.label}: {self._waiting}{where}")

    # ------------------------------------------------------------------ for subclasses
    def work(self) -> Any:
        raise NotImplementedError

    def on_stop(self) -> None:
        """Called by stop() in the caller's thread, after the flag is set."""

    def report(self, fraction: float | None = None, text: str | None = None, *, status: str | None = None,
               message: str | None = None) -> None:
        """Publish progress (and optionally a status and message) from the worker thread."""
        with self.lock:
            if fraction is not None or text is not None:
                self._progress = TaskProgress(self._progress.fraction if fraction is None else float(fraction),
                                              self._progress.text if text is None else text)
            if status is not None:
                self._status = status
            if message is not None:
                self._message = message

    def report_unless_stopped(self, fraction: float, text: str) -> None:
        """report() as the progress callback of a library call that takes no stop flag (a conversion, a
        UMAP fit): raises TaskStopped there once a stop was asked, for work() to catch and end stopped."""
        if self.stop_requested:
            raise TaskStopped(f"{self.label}: stopped")
        self.report(fraction, text)

    def end(self, status: str, message: str = "", error: str = "") -> None:
        """Say how the work ended (one of ENDED); the thread finishes after work() returns."""
        if status not in ENDED:
            raise ValueError(f"unknown end status {status!r}")
        with self.lock:
            self._status, self._message = status, message
            if error:
                self._error = error

    # ------------------------------------------------------------------ control
    def start(self) -> "BackgroundTask":
        """Start the work in its thread; a task started while the process exits is cancelled instead."""
        with self.lock:
            if self._thread is not None or self._done.is_set():
                raise AevizError(f"{self.label} was already started")
        if not TASKS.add(self):
            self.cancel("cancelled: the process is exiting")
            return self
        with self.lock:
            self._status = STARTING
            self._thread = threading.Thread(target=self._main, name=f"aeviz-{self.label}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop soon (thread-safe); what it has done so far is kept."""
        self.stop_event.set()
        self.on_stop()

    def cancel(self, message: str = "cancelled before it started") -> bool:
        """End a task that has not started (e.g. a queued job); returns False if it had started."""
        with self.lock:
            if self._thread is not None or self._done.is_set():
                return False
            self._status, self._message = CANCELLED, message
        self._finish()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task ends (or `timeout` seconds pass); True if it has ended."""
        return self._done.wait(timeout)

    # ------------------------------------------------------------------ reading
    @property
    def status(self) -> str:
        with self.lock:
            return self._status

    @property
    def message(self) -> str:
        with self.lock:
            return self._message

    @property
    def error(self) -> str:
        with self.lock:
            return self._error

    @property
    def result(self) -> Any:
        with self.lock:
            return self._result

    @property
    def progress(self) -> TaskProgress:
        with self.lock:
            return self._progress

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()

    @property
    def running(self) -> bool:
        """Started and not yet ended (a queued task is not running)."""
        return self._thread is not None and not self._done.is_set()

    @property
    def stopping(self) -> bool:
        return self.stop_requested and self.running

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # ------------------------------------------------------------------ the thread
    def _main(self) -> None:
        try:
            # The result goes straight to the task (no local keeps it): what cleanup() lets go of is freed
            # there, before waiters wake, never in this thread as the process exits (torch aborts then).
            self._keep_result(self.work_in_turn() if self._gate is not None else self.work())
        except Exception as exc:  # the app stays alive and says what happened
            error = describe_error(exc)
            with self.lock:
                self._status, self._error = FAILED, error
                self._message = error if isinstance(exc, AevizError) else f"{self.label} failed unexpectedly ({error})"
        finally:
            with self.lock:
                if self._status in ACTIVE:  # e.g. a BaseException went through
                    self._status, self._message = FAILED, f"{self.label} ended without finishing"
            self._finish()

    def _keep_result(self, result: Any) -> None:
        with self.lock:
            self._result = result
            if self._status in ACTIVE:
                self._status = STOPPED if self.stop_requested else COMPLETED

    def work_in_turn(self) -> Any:
        """work() once the gate gives this task its turn (see take_turns); cancelled if it never does."""
        self.report(text=f"{self.label}: {self._waiting}", status=QUEUED, message=self._waiting)
        with self._gate(self.stop_event) as why_not:
            if why_not or self.stop_requested:
                self.end(CANCELLED, why_not or "stopped before its turn")
                return None
            self.report(text=f"{self.label}: starting…", status=STARTING, message="")
            return self.work()

    def _finish(self) -> None:
        self.cleanup()
        self._done.set()
        if self._on_end is not None:
            self._on_end(self)

    def cleanup(self) -> None:
        """Called once the task has ended, before waiters wake (e.g. to release a device)."""


class TrainerTask(BackgroundTask):
    """Runs an event source, a Trainer or anything like it (`run()` yields Started, Progress, Snapshot and one
    Finished; `stop()` is thread-safe), and keeps its latest events.

    `describe(progress)` adds to the progress line (it runs in the worker thread, so it may read the
    source's state safely); `outcome(finished)` turns the Finished event into the task's result (default:
    its TrainResult), computed in the background too; `build()`, if given, makes the source in the task's
    thread instead (where it may connect to a cluster or load data).
    """

    def __init__(self, source=None, label: str = "training", describe: Callable[[Any], str] | None = None,
                 outcome: Callable[[Any], Any] | None = None, on_end=None, build: Callable[[], Any] | None = None):
        super().__init__(label, on_end)
        self.source = source
        self._build = build
        self._describe = describe
        self._outcome = outcome
        self.started = None            # events.Started
        self.last_progress = None      # the latest events.Progress
        self.snapshot = None           # the latest events.Snapshot
        self.finished = None           # events.Finished

    def make_source(self):
        """The event source, built in the worker thread (override to load data there); default: `build()`'s,
        or the given one."""
        return self._build() if self._build is not None else self.source

    def on_stop(self) -> None:
        with self.lock:
            source = self.source
        if source is not None:
            source.stop()

    def work(self) -> Any:
        source = self.make_source()
        with self.lock:
            self.source = source
            self._status, self._message = RUNNING, "training"
        for event in source.run():
            if self.stop_requested:  # also catches a stop that came before run() began
                source.stop()
            with self.lock:
                self.on_event(event)
        finished = self.finished
        if finished is None:
            raise AevizError(f"{self.label} ended without a Finished event")
        return self._outcome(finished) if self._outcome is not None else finished.result

    def on_event(self, event) -> None:
        """Keep one event (called with the lock held, in the worker thread)."""

        if isinstance(event, Progress):
            self.last_progress = event
            self._progress = TaskProgress(min(max(event.fraction, 0.0), 1.0), self.progress_line(event))
        elif isinstance(event, Snapshot):
            self.snapshot = event
        elif isinstance(event, Started):
            self.started = event
        elif isinstance(event, Finished):  # the status changes with the event (its vocabulary is the tasks')
            self.finished = event
            self._status, self._message = event.status, event.message

    def progress_line(self, progress) -> str:
        eta = f", about {progress.eta_seconds:.0f}s left" if progress.eta_seconds is not None else ""
        text = f"{self.label}: {progress.fraction:.0%} (epoch {progress.epoch:.1f}{eta})"
        if self._describe is not None:
            extra = self._describe(progress)
            if extra:
                text += " · " + extra
        return text


SHUTDOWN_SECONDS = 20.0  # how long an exiting process waits for its background work to stop and save


class TaskRegistry:
    """Every background task started in this process, held weakly (an ended task nobody keeps goes), and
    stopping them all: `stop_all_and_wait(timeout)` runs the `stop_first` callbacks (each stops a source of
    new tasks, such as a job manager's queue, and the tasks it runs), stops every task still running, and
    waits for them, all within `timeout` seconds. The first task to start installs it at interpreter exit
    (atexit runs in the main thread after it returns, while the tasks' daemon threads still run). Once it
    has begun, a task that starts is cancelled instead. Thread-safe."""

    def __init__(self):
        self._tasks: weakref.WeakSet[BackgroundTask] = weakref.WeakSet()
        self._first: list[Callable[[], Any]] = []
        self._lock = threading.Lock()
        self._installed = False
        self._closing = False

    def add(self, task: BackgroundTask) -> bool:
        """Know `task` (about to start); False once the process is stopping its work (it must not start)."""
        with self._lock:
            if self._closing:
                return False
            self._tasks.add(task)
        self.install_at_exit()
        return True

    def stop_first(self, callback: Callable[[], Any]) -> None:
        """Call `callback()` first when stopping (it should stop without waiting; the registry waits)."""
        with self._lock:
            self._first.append(callback)
        self.install_at_exit()

    def live(self) -> list[BackgroundTask]:
        """The tasks started and not yet ended."""
        with self._lock:
            return [task for task in list(self._tasks) if not task.done]

    @property
    def closing(self) -> bool:
        with self._lock:
            return self._closing

    def install_at_exit(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Stop and wait for every task at interpreter exit (once per registry)."""
        with self._lock:
            if self._installed:
                return
            self._installed = True
        register_exit_hooks_early()
        atexit.register(self.stop_at_exit, timeout)

    def stop_at_exit(self, timeout: float = SHUTDOWN_SECONDS, close: bool = True) -> None:
        """stop_all_and_wait, saying so on stderr when there is work to stop and when some did not stop."""
        live = len(self.live())
        if live:
            print(f"aeviz: stopping {live} background task(s) (training jobs, page trainings, sweeps) and saving "
                  f"what they did…", file=sys.stderr)
        left = self.stop_all_and_wait(timeout, close)
        if left:
            print(f"aeviz: {len(left)} task(s) did not stop within {timeout:g} s: "
                  f"{', '.join(task.label for task in left)}", file=sys.stderr)

    def stop_all_and_wait(self, timeout: float = SHUTDOWN_SECONDS, close: bool = True) -> list[BackgroundTask]:
        """Stop all work and wait up to `timeout` s; returns the tasks still running. With `close` (the
        process is exiting), no task starts from now on; without (a signal whose handler may carry on, as
        Ctrl-C in a notebook does), later tasks may start."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = self._closing or close
            first = list(self._first)
        for callback in first:
            callback()
        live = self.live()
        for task in live:
            task.stop()
        for task in live:
            task.wait(max(0.0, deadline - time.monotonic()))
        return self.live()


def register_exit_hooks_early() -> None:
    """A task still importing torch when the process is told to stop finishes that import during shutdown,
    where Python refuses what the import registers then: concurrent.futures' thread-pool hooks (the import
    failed with a traceback, and the task with it) and weakref.finalize's exit hook (torch's finalizers then
    ran after their modules were torn down, printing a traceback each). Registered here, before shutdown,
    and earlier than the registry's exit hook, so they run after the tasks are stopped and saved."""
    import concurrent.futures.process  # noqa: F401
    import concurrent.futures.thread  # noqa: F401

    weakref.finalize(register_exit_hooks_early, lambda: None)  # a function lives until exit: never runs early


TASKS = TaskRegistry()  # the process's one registry
