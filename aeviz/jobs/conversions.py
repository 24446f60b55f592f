"""Uploads converted into user datasets in the background, off the page's script run, with their progress:

    conversion = default_conversions().start(owner, data, "letters.zip", 28)   # returns at once
    conversion.progress        # TaskProgress: "letters.zip: 1,200 of 5,000 images converted"
    conversion.wait(); conversion.result   # the UserDatasetInfo (claimed for `owner`, within its quotas)

Its PCA is fitted at the end of the conversion, so the pages that compare a run with PCA find it ready.

A session has at most one conversion running (a second upload meanwhile is refused with a line saying so),
and the process converts at most MOST_AT_ONCE files at once; others wait their turn in their own thread, so
no session's page waits for another's file.

Conversions have their own small limit rather than the job manager's training slots: a conversion takes
seconds of one core and a bounded amount of memory (the file, at most 128 MB, and at most
MAX_CONVERSION_BYTES of work, aeviz.data.user.limits), while a training takes its slot for minutes. In a
training slot an upload would wait behind the class's trainings (one at a time by default) and hold back a
training while it converts; with its own limit the server's peak for conversions is MOST_AT_ONCE times one
conversion's budget, whatever the trainings do.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from aeviz.analysis.pca import pca_test_mse_curve
from aeviz.data.datasets import load_dataset
from aeviz.data.user import BadUserData, UserDatasetInfo, import_file
from aeviz.data.user.owners import check_bytes, check_room, claim
from aeviz.data.user.store import plain_file_name
from aeviz.training.tasks import RUNNING, STOPPED, TURN_POLL_SECONDS, BackgroundTask, TaskStopped

MOST_AT_ONCE = 2            # files converted at once in this process (each within its memory budget)


class ConversionTurns:
    """At most `most` conversions at once: `gate(stop)` is a context manager (BackgroundTask.take_turns)
    that waits for a free turn, returning "" once it has one (held until the block ends), or why not."""

    def __init__(self, most: int = MOST_AT_ONCE):
        self._free = threading.BoundedSemaphore(most)

    @contextmanager
    def gate(self, stop: threading.Event) -> Iterator[str]:
        while not self._free.acquire(timeout=TURN_POLL_SECONDS):
            if stop.is_set():
                yield "stopped before its turn; nothing was converted"
                return
        try:
            yield ""
        finally:
            self._free.release()


class Conversion(BackgroundTask):
    """One upload's conversion (import_file) in its thread; its result is the UserDatasetInfo, made the
    owner's (claimed, then checked against its quotas). The upload's bytes are let go when it ends."""

    def __init__(self, owner: str, data: bytes, file_name: str, size: int | None, on_end=None):
        self.file_name = plain_file_name(file_name)
        super().__init__(f"converting {self.file_name}", on_end)
        self.owner, self.size = owner, size
        self._data: bytes | None = data

    def work(self) -> UserDatasetInfo | None:
        self.report(0.0, f"{self.file_name}: starting", status=RUNNING, message="converting")
        with self.lock:
            data = self._data
        try:
            info = import_file(data, self.file_name, self.size, owner=self.owner, progress=self.report_unless_stopped)
        except TaskStopped:
            self.end(STOPPED, "stopped; nothing was kept")
            return None
        claim(info.name, self.owner, self.file_name)  # converted before by another session: theirs and yours
        check_bytes(info.name, self.owner)
        # Its PCA here too, not in the script run of the first page that compares with it (a 64x64 dataset's
        # takes tens of seconds): the fit and its error curve are then kept (aeviz.analysis.pca.FITS).
        self.report(1.0, f"{self.file_name}: fitting its PCA (the pages compare every run with it)")
        pca_test_mse_curve(load_dataset(info.name))
        return info

    def cleanup(self) -> None:
        with self.lock:
            self._data = None  # the task may be kept (ui.kept) long after: never with the upload's bytes


class Conversions:
    """This process's conversions: at most one running per owner (a session's key), at most `most_at_once`
    converting at once. Thread-safe."""

    def __init__(self, most_at_once: int = MOST_AT_ONCE):
        self._turns = ConversionTurns(most_at_once)
        self._lock = threading.Lock()
        self._running: dict[str, Conversion] = {}

    def start(self, owner: str, data: bytes, file_name: str, size: int | None) -> Conversion:
        """Start converting `data` (an upload named `file_name`) for `owner`; returns the running task at once.
        Raises BadUserData while `owner` has a conversion running, and QuotaExceeded (aeviz.data.user.owners)
        when it holds as many datasets as it may."""
        with self._lock:
            current = self._running.get(owner)
            if current is not None and not current.done:
                raise BadUserData(f"{plain_file_name(file_name)} was not started: {current.file_name} is still "
                                  f"converting (one file at a time per session); add it once that one has finished")
            check_room(owner)
            task = Conversion(owner, data, file_name, size, on_end=self._ended)
            task.take_turns(self._turns.gate, "waiting for other uploads to finish converting")
            self._running[owner] = task
        return task.start()

    def running(self, owner: str) -> Conversion | None:
        """`owner`'s conversion still running (or waiting for its turn), if any."""
        with self._lock:
            task = self._running.get(owner)
        return task if task is not None and not task.done else None

    def _ended(self, task: Conversion) -> None:
        with self._lock:
            if self._running.get(task.owner) is task:
                del self._running[task.owner]


_conversions: Conversions | None = None
_conversions_lock = threading.Lock()


def default_conversions() -> Conversions:
    """The process-wide conversions every session of the app shares."""
    global _conversions
    with _conversions_lock:
        if _conversions is None:
            _conversions = Conversions()
        return _conversions
