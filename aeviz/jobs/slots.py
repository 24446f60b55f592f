"""A place in the job manager's queue for training that runs outside a job (a page's trainer; a sweep's point,
in this process or on Ray): it waits its turn like a job, under the same limit of trainings at once and the
same abandonment rule, and holds a training slot from its turn until it is released (`try_hold_slot`: a slot
free now, or none, without queueing).

    hold = manager.hold_slot(owner, "sweep s-1: k=8")
    if hold.wait_turn(stop):        # False: cancelled at its turn (its sessions had gone) or `stop` was set
        try: ...train...
        finally: manager.release(hold)

A hold is followed by its owner, or by the sessions a `followers()` callable names (those that follow the
shared task it gates, aeviz.training.shared_tasks): the abandonment rule cancels it at its turn only when
none of them has been seen for a while, so a task several sessions wait for is not lost when the one that
started it leaves.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from aeviz.training.tasks import CANCELLED, COMPLETED, RUNNING, TURN_POLL_SECONDS, BackgroundTask


class SlotHold(BackgroundTask):
    """Holds one of the manager's training slots from its turn (its start) until released (its stop)."""

    def __init__(self, hold_id: str, owner: str, label: str, on_end: Callable[[BackgroundTask], None],
                 followers: Callable[[], frozenset[str]] | None = None):
        super().__init__(label, on_end)
        self.job_id, self.owner = hold_id, owner
        self._followed = followers            # None: followed by its owner alone
        self.fingerprint = None               # no submit attaches to it: what it trains is not a job's
        self.created_monotonic = time.monotonic()
        self.granted = threading.Event()
        self.report(message="waiting for a free training slot")

    def followers(self) -> frozenset[str]:
        """The sessions whose presence keeps the hold's turn (the abandonment rule asks about them)."""
        return frozenset({self.owner}) if self._followed is None else frozenset(self._followed())

    def followed_by(self, owner: str) -> bool:
        return owner in self.followers()

    def work(self) -> None:
        self.report(status=RUNNING, message="training")
        self.granted.set()
        self.stop_event.wait()  # released
        self.end(COMPLETED, "released")

    def wait_turn(self, stop: threading.Event, meanwhile: Callable[[], None] | None = None) -> bool:
        """Block until the slot is this hold's (True), or it was cancelled at its turn, or `stop` is set
        (False; the caller releases it either way). `meanwhile()` is called now and then as it waits."""
        while not self.granted.wait(TURN_POLL_SECONDS):
            if self.done or stop.is_set():
                return False
            if meanwhile is not None:
                meanwhile()
        return not stop.is_set()

    def why_not_granted(self, stop: threading.Event, meanwhile: Callable[[], None] | None = None) -> str:
        """wait_turn, said as a reason: "" when the slot is this hold's, else why not (the cancelling message:
        its session had gone; or "stopped before its turn")."""
        if self.wait_turn(stop, meanwhile):
            return ""
        return self.message if self.status == CANCELLED else "stopped before its turn"
