"""Shared background tasks (aeviz.training.shared_tasks): one task per key that sessions follow, given again
while it runs or once it has a result, started anew after a failure or a stop, the most recent N kept, and
followed by its starter before its work (or its wait for a turn) begins."""

from __future__ import annotations

import contextlib
import threading

from aeviz.errors import AevizError
from aeviz.training.shared_tasks import SharedTask, SharedTasks
from aeviz.training.tasks import COMPLETED, FAILED, STOPPED
from tests.conftest import wait_until

WAIT = 30.0


class Echo(SharedTask):
    """Returns its value once `go` is set; fails when the value is None; stops when asked."""

    def __init__(self, value, go: threading.Event):
        super().__init__(f"echo {value}")
        self.value, self.go = value, go

    def work(self):
        while not self.go.wait(0.01):
            if self.stop_requested:
                return None
        if self.value is None:
            raise AevizError("no value")
        return self.value


def test_sessions_follow_one_task_which_stops_when_the_last_leaves():
    tasks, go = SharedTasks(), threading.Event()
    task = tasks.start("k", lambda: Echo(1, go), "a")
    assert tasks.start("k", lambda: Echo(2, go), "b") is task and task.followers() == {"a", "b"}
    assert task.leave("a") is True and not task.stop_requested
    assert task.leave("b") is False
    assert task.wait(WAIT) and task.status == STOPPED
    again = tasks.start("k", lambda: Echo(3, go), "a")  # a stopped task is not given again
    assert again is not task and again.value == 3
    go.set()
    assert again.wait(WAIT) and again.status == COMPLETED and again.result == 3
    assert tasks.start("k", lambda: Echo(4, go), "c") is again  # a result is given again, without work
    assert again.followed_by("c")


def test_a_failed_task_is_started_anew_and_the_most_recent_are_kept():
    tasks, go = SharedTasks(kept=2), threading.Event()
    go.set()
    failed = tasks.start("k", lambda: Echo(None, go), "a")
    assert failed.wait(WAIT) and failed.status == FAILED and failed.message == "no value"
    assert tasks.start("k", lambda: Echo(5, go), "a") is not failed
    for key in ("x", "y"):
        tasks.start(key, lambda: Echo(key, go), "a").wait(WAIT)
    assert tasks.get("k") is None and tasks.get("x").result == "x" and tasks.get("y").result == "y"


def test_the_gate_is_made_for_the_task_and_sees_its_starter_among_its_followers():
    tasks, go, seen = SharedTasks(), threading.Event(), []

    def gate_for(task):
        @contextlib.contextmanager
        def turn(stop):
            seen.append(task.followers())  # what a job manager's abandonment rule would ask about
            yield ""
        return turn

    go.set()
    task = tasks.start("k", lambda: Echo(7, go), "a", gate_for=gate_for)
    assert task.wait(WAIT) and task.result == 7
    wait_until(lambda: seen, WAIT)
    assert seen == [frozenset({"a"})]


def test_a_gone_session_leaves_every_task_it_followed():
    """aeviz.jobs.presence tells the registries of a session gone: it follows nothing any more, a task only it
    followed stops, one another session follows goes on."""
    tasks, go = SharedTasks(), threading.Event()
    alone = tasks.start("alone", lambda: Echo(1, go), "gone")
    shared = tasks.start("shared", lambda: Echo(2, go), "gone")
    tasks.start("shared", lambda: Echo(3, go), "stays")
    tasks.forget_owner("gone")
    assert alone.wait(WAIT) and alone.status == STOPPED and not alone.followers()
    assert shared.followers() == {"stays"} and not shared.stop_requested
    go.set()
    assert shared.wait(WAIT) and shared.result == 2
