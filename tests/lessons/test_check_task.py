"""A lesson check that trains runs as a background task (issue 33, item 5): the anomaly lesson's check trained a
copy of the run inside the page's script run. Now CheckTask trains it in its own thread, waiting for a training
slot like any training; sessions checking the same run follow one check; a finished check is given again."""

from __future__ import annotations

import threading
import time

import pytest

from aeviz.lessons import get_lesson, metrics
from aeviz.lessons.check import check_trains
from aeviz.lessons.check_task import CheckTasks
from aeviz.runs.store import RunStore
from aeviz.training.tasks import CANCELLED, COMPLETED, QUEUED, RUNNING, STOPPED
from aeviz.training.trainer import Trainer
from tests.conftest import forgotten_by_presence, manager_with_one_busy_slot, wait_until

LESSON = "anomaly"
WAIT = 120.0  # seconds: a bound on waits that end in seconds when the code is right


class GatedTrainer:
    """A real trainer whose run() first waits for `release` (set by the test, or by stop()), so a test can see
    what happens while a check trains."""

    def __init__(self, real, entered: threading.Event, release: threading.Event):
        self.real, self.entered, self.release = real, entered, release

    def run(self):
        self.entered.set()
        assert self.release.wait(WAIT), "the test never released the check's training"
        yield from self.real.run()

    def stop(self) -> None:
        self.real.stop()
        self.release.set()

    @property
    def finished(self):
        return self.real.finished


@pytest.fixture
def gate(monkeypatch):
    """The check's trainer waits on gate.release (gate.entered: it has begun); made with the real anomaly_trainer."""
    entered, release = threading.Event(), threading.Event()
    real = metrics.anomaly_trainer
    monkeypatch.setattr(metrics, "anomaly_trainer", lambda *a, **kw: GatedTrainer(real(*a, **kw), entered, release))
    yield type("Gate", (), {"entered": entered, "release": release})
    release.set()  # a test that failed half-way leaves no thread waiting


def anomaly_run(store: RunStore, digits, tags: dict | None = None) -> str:
    """A saved run with the anomaly lesson's settings, one epoch (its check then trains one epoch too)."""
    config = get_lesson(LESSON).config()
    config.epochs, config.tags = 1, dict(tags or {})
    trainer = Trainer(config, digits, store=store)
    for _ in trainer.run():
        pass
    return trainer.finished.saved_run_id


def test_only_the_anomaly_lessons_check_trains():
    from aeviz.lessons import load_lessons

    assert [lesson.id for lesson in load_lessons() if check_trains(lesson)] == [LESSON]


def test_the_check_trains_in_its_task_and_tells_its_listeners_once(tmp_path, digits, gate):
    store = RunStore(tmp_path)
    run_id = anomaly_run(store, digits)
    heard = []
    task = CheckTasks().start(get_lesson(LESSON), run_id, "a", store=store)
    task.when_checked(heard.append)
    wait_until(gate.entered.is_set, WAIT, "the check to start training")
    assert task.running and task.status == RUNNING and task.result is None and not heard
    gate.release.set()
    assert task.wait(WAIT)
    assert task.status == COMPLETED, task.message
    assert task.result.metric == "anomaly_auc_margin_over_pca" and task.result.run_id == run_id
    assert heard == [task.result] and task.progress.fraction == 1.0
    late = []
    task.when_checked(late.append)  # a listener that comes after the end hears at once
    assert late == [task.result]


def test_sessions_follow_one_check_which_stops_when_the_last_leaves(tmp_path, digits, gate):
    store, lesson = RunStore(tmp_path), get_lesson(LESSON)
    run_id = anomaly_run(store, digits)
    checks = CheckTasks()
    task = checks.start(lesson, run_id, "a", store=store)
    heard = []
    task.when_checked(heard.append)
    assert checks.start(lesson, run_id, "b", store=store) is task  # the second session follows the same check
    wait_until(gate.entered.is_set, WAIT, "the check to start training")
    assert task.leave("a") is True and not task.stop_requested  # it goes on for b
    assert task.leave("b") is False  # nobody waits: it stops
    assert task.wait(WAIT)
    assert task.status == STOPPED and task.result is None and "nothing was measured" in task.message
    assert heard == []
    again = checks.start(lesson, run_id, "a", store=store)  # a stopped check is not given again: a new one
    assert again is not task
    again.stop()
    assert again.wait(WAIT)


def test_a_finished_check_is_given_again_without_training(tmp_path, digits, gate):
    store, lesson = RunStore(tmp_path), get_lesson(LESSON)
    run_id = anomaly_run(store, digits)
    checks = CheckTasks()
    gate.release.set()
    task = checks.start(lesson, run_id, "a", store=store)
    assert task.wait(WAIT) and task.status == COMPLETED
    assert checks.start(lesson, run_id, "b", store=store) is task and checks.get(LESSON, run_id) is task


def test_the_check_waits_for_a_training_slot_and_holds_one_while_it_trains(tmp_path, digits, gate):
    store, lesson = RunStore(tmp_path), get_lesson(LESSON)
    run_id = anomaly_run(store, digits)
    manager, busy = manager_with_one_busy_slot(store_factory=lambda: store, abandon_seconds=None)
    task = CheckTasks().start(lesson, run_id, "me", gate_for=manager.slot_gate_for("me", "lesson check"), store=store)
    wait_until(lambda: task.status == QUEUED, WAIT, "the check to wait for its turn")
    wait_until(lambda: task.progress.text.endswith("waiting for a free training slot: position 1"), WAIT,
               "the check to say its place in the queue")
    assert not gate.entered.is_set()  # no training while the only slot is taken
    manager.release(busy)
    wait_until(gate.entered.is_set, WAIT, "the check to start training once the slot is free")
    assert manager.held_slots() == 1
    after = manager.hold_slot("someone", "another training")  # the next training waits for the check
    assert manager.position(after.job_id) == 1 and not after.granted.is_set()
    gate.release.set()
    assert task.wait(WAIT) and task.status == COMPLETED, task.message
    assert after.wait_turn(threading.Event())  # the check gave its slot back
    manager.release(after)


def test_a_check_waiting_for_its_turn_goes_on_for_a_session_that_joined_when_its_starter_leaves(tmp_path, digits,
                                                                                                  gate):
    """Its slot was held for the starter alone: with the starter's tab closed before the check's turn, the
    abandonment rule cancelled it for every session that had joined. Now the hold is followed by the check's
    followers: it runs for the one still there."""
    store, lesson = RunStore(tmp_path), get_lesson(LESSON)
    run_id = anomaly_run(store, digits)
    manager, busy = manager_with_one_busy_slot(store_factory=lambda: store, abandon_seconds=0.5)
    checks = CheckTasks()
    task = checks.start(lesson, run_id, "a", gate_for=manager.slot_gate_for("a", "lesson check"), store=store)
    assert checks.start(lesson, run_id, "b", store=store) is task
    manager.touch("a")
    started = time.monotonic()

    def only_b_is_there() -> bool:  # a is never seen again; b keeps touching past the abandonment time
        manager.touch("b")
        return time.monotonic() - started > 1.0 and task.status == QUEUED

    wait_until(only_b_is_there, WAIT, "the abandonment time to pass with the check waiting")
    manager.release(busy)
    wait_until(lambda: gate.entered.is_set() or task.done, WAIT, "the check's turn")
    assert gate.entered.is_set() and not task.done, task.message  # it trains (on main: cancelled at its turn)
    gate.release.set()
    assert task.wait(WAIT) and task.status == COMPLETED, task.message


def test_a_check_whose_followers_have_all_gone_is_cancelled_at_its_turn(tmp_path, digits, gate):
    store, lesson = RunStore(tmp_path), get_lesson(LESSON)
    run_id = anomaly_run(store, digits)
    manager, busy = manager_with_one_busy_slot(store_factory=lambda: store, abandon_seconds=0.2)
    task = CheckTasks().start(lesson, run_id, "a", gate_for=manager.slot_gate_for("a", "lesson check"), store=store)
    wait_until(lambda: task.status == QUEUED, WAIT, "the check to wait for its turn")
    asked = time.monotonic()
    wait_until(lambda: time.monotonic() - asked > 0.5, WAIT, "the abandonment time to pass")  # nobody touches
    manager.release(busy)
    assert task.wait(WAIT) and task.status == CANCELLED and "not been seen" in task.message
    assert not gate.entered.is_set()


def test_a_session_gone_leaves_the_process_checks(tmp_path, digits, gate, monkeypatch):
    """The process's checks (CHECKS) hear from aeviz.jobs.presence when a session has gone (its tabs closed
    past the grace): a check only it followed stops."""
    from aeviz.lessons.check_task import CHECKS

    store = RunStore(tmp_path)
    task = CHECKS.start(get_lesson(LESSON), anomaly_run(store, digits), "s-check-gone", store=store)
    wait_until(gate.entered.is_set, WAIT, "the check to start training")
    forgotten_by_presence("s-check-gone", monkeypatch)
    assert task.wait(WAIT) and task.status == STOPPED and not task.followers()
