"""A lesson check in the background, for the app: a check whose metric trains a model (the anomaly lesson's
fresh model, as long as the student's own run) must not run inside a page's script run, so it runs here, in a
task (aeviz.training.tasks) that waits for one of the server's training slots like any training, reports the
training's progress and can be stopped.

    task = CHECKS.start(lesson, run_id, owner, gate_for=manager.slot_gate_for(owner, "lesson check"))
    task.when_checked(lambda result: ...)   # once, with the CheckResult, when (if) the check gets one
    task.leave(owner)                       # this session no longer waits; it stops when no session does

Checks are shared by (lesson, run) (aeviz.training.shared_tasks): a session that asks for a check already
running follows that one, and a finished check's result is given again (a saved run does not change), the
most recent `KEPT_CHECKS` of them. Its training slot is held for every session that follows it, so it is
not cancelled at its turn when the one that started it has left while another still waits.
The command line (`aeviz lessons check`) checks in the foreground with check_run.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from aeviz.errors import AevizError
from aeviz.lessons import Lesson
from aeviz.lessons.check import CheckResult, check_run, lesson_dataset
from aeviz.training.events import Progress
from aeviz.jobs.presence import PRESENCE
from aeviz.training.shared_tasks import SharedTask, SharedTasks
from aeviz.training.tasks import RUNNING, STOPPED

KEPT_CHECKS = 256  # finished checks whose results are given again (each a few numbers)


class CheckStopped(AevizError):
    """The check was stopped while it trained: nothing was measured."""


class CheckTask(SharedTask):
    """check_run of one run for one lesson, in the task's thread; its result is the CheckResult. The model a
    metric trains reports as the task's progress, and stop() stops it (the check then ends stopped, with no
    result). Sessions follow it (`follow`, `leave`): it stops when the last one leaves."""

    def __init__(self, lesson: Lesson, run_id: str, store=None,
                 dataset_loader: Callable[[str], Any] = lesson_dataset):
        super().__init__(f"checking run {run_id}")
        self.lesson, self.run_id = lesson, run_id
        self._store, self._dataset_loader = store, dataset_loader
        self._trainer = None          # the model being trained for the check, while it trains
        self._listeners: list[Callable[[CheckResult], None]] = []
        self._told = False            # the listeners have been called (the task has ended)

    def when_checked(self, callback: Callable[[CheckResult], None]) -> None:
        """Call `callback(result)` once the check has its result: at its end (in its thread, before waiters
        wake), or now if it has already ended with one. Never for a check that failed or was stopped."""
        with self.lock:
            if not self._told:
                self._listeners.append(callback)
                return
            result = self._result
        if result is not None:
            callback(result)

    # ------------------------------------------------------------------ the work
    def work(self) -> CheckResult | None:
        self.report(0.0, f"{self.label}: loading the run and its dataset", status=RUNNING, message="measuring")
        try:
            result = check_run(self.lesson, self.run_id, self._store, self._dataset_loader, train=self.train)
        except CheckStopped as exc:
            self.end(STOPPED, str(exc))
            return None
        self.report(1.0, f"{self.label}: done")
        return result

    def train(self, trainer, what: str = "") -> None:
        """Run the trainer a metric needs (check_run's `train`), reporting its progress; raises CheckStopped
        when the check is stopped meanwhile."""
        with self.lock:
            self._trainer = trainer
        try:
            for event in trainer.run():
                if self.stop_requested:  # also a stop that came before run() began (run() clears the trainer's flag)
                    trainer.stop()
                if isinstance(event, Progress):
                    fraction = min(max(event.fraction, 0.0), 1.0)
                    eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
                    self.report(0.05 + 0.9 * fraction, f"{self.label}: training {what or 'a model'}: "
                                                       f"{fraction:.0%} (epoch {event.epoch:.1f}{eta})")
        finally:
            with self.lock:
                self._trainer = None
        if self.stop_requested:
            raise CheckStopped("the check was stopped while it trained: nothing was measured or recorded")
        self.report(0.95, f"{self.label}: scoring the test images")

    def on_stop(self) -> None:
        with self.lock:
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def cleanup(self) -> None:
        with self.lock:
            self._told = True
            listeners, self._listeners = self._listeners, []
            result = self._result
        if result is None:
            return
        for callback in listeners:
            try:
                callback(result)
            except Exception as exc:  # one listener's failure must not leave the task unfinished
                print(f"aeviz: recording a check of {self.run_id} failed: {type(exc).__name__}: {exc}",
                      file=sys.stderr)


class CheckTasks:
    """The lesson checks of this process, by (lesson id, run id) (a SharedTasks of CheckTasks); thread-safe."""

    def __init__(self, kept: int = KEPT_CHECKS):
        self._tasks: SharedTasks[CheckTask] = SharedTasks(kept)

    def start(self, lesson: Lesson, run_id: str, owner: str = "", gate_for=None, store=None,
              dataset_loader: Callable[[str], Any] = lesson_dataset) -> CheckTask:
        """The check of `run_id` for `lesson`, followed by `owner`: the one running or finished with a result,
        if any, else a new one started (waiting its turn at `gate_for(task)`, a job manager's slot_gate_for,
        if given)."""
        return self._tasks.start((lesson.id, run_id), lambda: CheckTask(lesson, run_id, store, dataset_loader),
                                 owner, gate_for)

    def get(self, lesson_id: str, run_id: str) -> CheckTask | None:
        return self._tasks.get((lesson_id, run_id))

    def forget_owner(self, owner: str) -> None:
        """`owner`'s session is gone: it leaves the checks it followed (SharedTasks.forget_owner)."""
        self._tasks.forget_owner(owner)


CHECKS = CheckTasks()  # the process's checks (the app's sessions share them)
PRESENCE.on_forget(CHECKS.forget_owner)  # a session gone (its tabs closed) leaves the ones it followed
