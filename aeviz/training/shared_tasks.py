"""Background tasks that sessions share: one task per key (a lesson check of one run, a UMAP of one run's
codes), which every session asking for that key follows, instead of one each.

    tasks = SharedTasks(kept=16)
    task = tasks.start(key, make=lambda: MyTask(...), owner=session, gate_for=manager.slot_gate_for(session, label))
    task.leave(session)     # this session no longer waits; the task stops when the last follower leaves
    tasks.forget_owner(session)   # its session is gone: it leaves every task it followed

A task asked for again while it runs (and is not being stopped), or once it has ended with a result, is
given again: its asker follows it. Otherwise (none yet, or it failed, was stopped or cancelled) a new one
starts. The most recent `kept` tasks are kept. A task may wait for its turn first (`gate_for(task)`: a
gate for BackgroundTask.take_turns, such as a job manager's training slot held for the task's followers,
so the queue's abandonment rule asks about every session that follows it, not only the one that started
it). Its followers (`Followed`: follow, followed_by, followers) are kept as a training job's are
(aeviz.jobs.manager.Job uses the same piece); only leaving differs. Nothing here imports streamlit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, TypeVar

from aeviz.training.tasks import BackgroundTask

KEPT_TASKS = 64  # default: the most recent tasks kept (running, or ended with the result given again)


class Followed:
    """The sessions that follow a background task (a shared task here; a training job: aeviz.jobs.manager.Job),
    kept in `_followers` under the task's `lock`. How one leaves is the task's own: a shared task stops when
    its last follower leaves, a job's last follower stays one and the manager stops it."""

    lock: Any                # the task's own (BackgroundTask.lock)
    _followers: set[str]

    def follow(self, owner: str) -> None:
        """`owner` (a session) follows this task from now on."""
        with self.lock:
            self._followers.add(owner)

    def followed_by(self, owner: str) -> bool:
        with self.lock:
            return owner in self._followers

    def followers(self) -> frozenset[str]:
        with self.lock:
            return frozenset(self._followers)


class SharedTask(BackgroundTask, Followed):
    """A background task that sessions follow: it stops when the last one leaves."""

    def __init__(self, label: str = "task", on_end: Callable[[BackgroundTask], None] | None = None):
        super().__init__(label, on_end)
        self._followers: set[str] = set()

    def leave(self, owner: str) -> bool:
        """`owner` no longer waits for the task; it stops when nobody does. True if it goes on for others."""
        with self.lock:
            self._followers.discard(owner)
            others = bool(self._followers)
        if not others:
            self.stop()
        return others

    def reusable(self) -> bool:
        """Whether a session asking for this task may follow it: it has a result, or is still going (and
        not being stopped)."""
        return self.result is not None if self.done else not self.stop_requested


T = TypeVar("T", bound=SharedTask)


class SharedTasks(Generic[T]):
    """This process's shared tasks of one kind, by key, the most recent `kept`; thread-safe."""

    def __init__(self, kept: int = KEPT_TASKS):
        self._tasks: OrderedDict[Hashable, T] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def start(self, key: Hashable, make: Callable[[], T], owner: str = "",
              gate_for: Callable[[T], Any] | None = None) -> T:
        """The task under `key`, followed by `owner`: the one running or ended with a result, if any; else
        `make()`'s, followed by `owner` from before it starts and started (waiting its turn at
        `gate_for(task)` first, if given)."""
        with self._lock:
            task = self._tasks.get(key)
            if task is None or not task.reusable():
                task = make()
                task.follow(owner)  # followed from its first moment: its turn is never thought abandoned
                if gate_for is not None:
                    task.take_turns(gate_for(task))
                task.start()
                self._tasks[key] = task
            else:
                task.follow(owner)
            self._tasks.move_to_end(key)
            while len(self._tasks) > self._kept:
                self._tasks.popitem(last=False)
            return task

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            return self._tasks.get(key)

    def forget_owner(self, owner: str) -> None:
        """`owner`'s session is gone (its tabs closed: aeviz.jobs.presence): it follows none of the tasks any
        more, and a task still going that nobody else follows stops, as when its last follower leaves."""
        with self._lock:
            tasks = [task for task in self._tasks.values() if task.followed_by(owner)]
        for task in tasks:
            task.leave(owner)
