"""The one kind of background task (aeviz.training.tasks): status, progress, stop, failure, and a trainer as a task."""

from __future__ import annotations

import threading

import pytest

from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError
from aeviz.training.tasks import (CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, STOPPED, BackgroundTask, TrainerTask,
                         describe_error)
from aeviz.training.trainer import Trainer


class Counting(BackgroundTask):
    """Counts up, reporting each step, until `limit` or a stop; waits on `gate` before each step."""

    def __init__(self, limit: int, gate: threading.Event | None = None, fail_at: int | None = None,
                 fail_with: Exception | None = None):
        super().__init__("counting")
        self.limit, self.gate, self.fail_at, self.fail_with = limit, gate, fail_at, fail_with
        self.seen = []

    def work(self):
        count = 0
        while count < self.limit and not self.stop_requested:
            if self.gate is not None:
                self.gate.wait(10)
                self.gate.clear()
            if count == self.fail_at:
                raise self.fail_with
            count += 1
            self.report(count / self.limit, f"{count} of {self.limit}", status=RUNNING)
        return count


def test_a_task_runs_reports_progress_and_completes():
    task = Counting(4)
    assert task.status == QUEUED and not task.running and not task.done
    assert task.start() is task
    assert task.wait(10)
    assert (task.status, task.result, task.progress.fraction, task.progress.text) == (COMPLETED, 4, 1.0, "4 of 4")
    assert not task.running and task.done and task.error == ""
    with pytest.raises(AevizError, match="already started"):
        task.start()


def test_stop_ends_the_work_at_its_next_check_and_keeps_the_result():
    gate = threading.Event()
    task = Counting(1000, gate).start()
    gate.set()
    while task.progress.fraction == 0.0:
        gate.set()
    assert task.running
    task.stop()
    assert task.stop_requested
    gate.set()
    assert task.wait(10)
    assert task.status == STOPPED and 1 <= task.result < 1000


def test_failures_end_failed_with_a_clear_message():
    bad = Counting(3, fail_at=1, fail_with=AevizError("the settings are wrong")).start()
    bad.wait(10)
    assert (bad.status, bad.message, bad.error) == (FAILED, "the settings are wrong", "the settings are wrong")
    bug = Counting(3, fail_at=0, fail_with=KeyError("x")).start()
    bug.wait(10)
    assert bug.status == FAILED and bug.error == "KeyError: 'x'"
    assert bug.message == "counting failed unexpectedly (KeyError: 'x')"
    assert describe_error(RuntimeError("first\nsecond")) == "RuntimeError: first"


def test_a_task_not_started_can_be_cancelled_once_and_calls_its_end_hook():
    ended = []
    task = BackgroundTask("queued", on_end=ended.append)
    assert task.cancel("nobody came")
    assert (task.status, task.message, task.done, ended) == (CANCELLED, "nobody came", True, [task])
    assert not task.cancel()
    with pytest.raises(AevizError):
        task.start()


def test_a_trainer_runs_as_a_task_with_its_events_and_outcome(digits):
    config = TrainConfig(dataset="digits", variant="plain", k=4, epochs=2, device="cpu", params={"hidden": [16]})
    lines = []
    task = TrainerTask(Trainer(config, digits), "digits", describe=lambda p: lines.append(p) or "extra",
                       outcome=lambda finished: finished.result.metrics["test_mse"]).start()
    assert task.wait(60)
    assert task.status == COMPLETED and task.finished.status == COMPLETED
    assert task.result == task.finished.result.metrics["test_mse"]
    assert task.started is not None and task.snapshot is not None and lines
    assert task.progress.text.startswith("digits: 100% (epoch 2.0") and task.progress.text.endswith(" · extra")


def test_a_stop_before_the_trainer_begins_still_stops_it(digits):
    config = TrainConfig(dataset="digits", variant="plain", k=4, epochs=500, device="cpu", params={"hidden": [16]})
    task = TrainerTask(Trainer(config, digits), "long")
    task.stop()  # Trainer.run() clears its own stop flag when it begins: the task passes the stop on again
    task.start()
    assert task.wait(60)
    assert task.status == STOPPED and task.finished.result.metrics["epochs"] < 500
