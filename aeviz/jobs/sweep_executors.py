"""Sweep executors by name, as the CLI's --executor and the Sweeps page offer them: `local` trains in this
process, `ray` on the Ray cluster (aeviz.cluster). The sweep engine (aeviz.sweeps) takes the object and never
knows Ray.

On a server, a sweep's points are training like any job's, on either executor: `QueuedExecutor` (what
make_executor gives with a job manager and the session) has each point hold one of the manager's training
slots while it trains, so the server's limit of trainings at once holds for sweeps too, and a sweep whose
session has gone (no sign of it for the manager's abandon_seconds: its tab was closed) stops at its next
point's turn. The local executor trains one point at a time; Ray trains several at once, so a Ray sweep's
points go in batches: the first waits its turn, and the batch takes whatever further slots are free then.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from aeviz.errors import AevizError
from aeviz.sweeps.engine import LocalExecutor
from aeviz.sweeps.events import PointOutcome

EXECUTORS = ("local", "ray")


class QueuedExecutor:
    """An executor (`inner`: the local one by default, or a RayExecutor) whose points each hold one of
    `manager`'s training slots (aeviz.jobs.slots) while they train; `owner`: the session the sweep belongs to
    (its press counts as a sign of it).

    Points go to `inner` in batches: the batch's first point waits its turn in the manager's queue, then the
    batch takes at once whatever further slots are free (JobManager.try_hold_slot), up to the points left
    and `inner.points_at_once` (1 for the local executor: its batches are single points). Each point gives
    its slot back as its outcome arrives, and the next batch starts when this one has ended."""

    def __init__(self, manager, owner: str, inner: Any = None):
        self.manager, self.owner = manager, owner
        self.inner = inner if inner is not None else LocalExecutor()
        self.stopped_because = ""   # why it stopped by itself (its session had gone), for the sweep's message
        self.waiting = ""           # a line while a point waits for a slot (the sweep's progress shows it)
        manager.touch(owner)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def startup_seconds(self) -> float:  # the inner's (Ray's start-up, which the Sweeps page shows)
        return self.inner.startup_seconds

    def start(self, spec) -> float:
        return self.inner.start(spec)

    def run(self, sweep, points: list, stop: threading.Event) -> Iterator[Any]:
        left = list(points)
        while left and not stop.is_set():
            holds = self._take_slots(sweep, left, stop)
            if not holds:
                return
            batch, left = left[:len(holds)], left[len(holds):]
            held = list(zip(batch, holds))
            try:
                for event in self.inner.run(sweep, batch, stop):
                    if isinstance(event, PointOutcome):  # its slot goes back now: the next in the queue starts
                        ended = next((i for i, (point, _) in enumerate(held) if point is event.point), None)
                        if ended is not None:
                            self.manager.release(held.pop(ended)[1])
                    yield event
            finally:
                for _, hold in held:
                    self.manager.release(hold)

    def _take_slots(self, sweep, left: list, stop: threading.Event) -> list:
        """Slots for the next batch of `left`: the first after its turn in the queue, then those free now; none
        when its turn was cancelled (its session had gone: the sweep stops) or `stop` was set meanwhile."""
        label = f"sweep {sweep.sweep_id}: "
        self.waiting = "waiting for a free training slot"
        first = self.manager.hold_slot(self.owner, label + left[0].label)
        why_not = first.why_not_granted(stop)
        self.waiting = ""
        if why_not or stop.is_set():
            self.manager.release(first)
            if why_not and not stop.is_set():  # its turn was cancelled: its session had gone
                self.stopped_because = why_not
                stop.set()
            return []
        holds = [first]
        most = min(len(left), getattr(self.inner, "points_at_once", 1) or len(left))
        while len(holds) < most:
            hold = self.manager.try_hold_slot(self.owner, label + left[len(holds)].label)
            if hold is None:
                break
            holds.append(hold)
        return holds


def make_executor(executor: Any = "local", ray_address: str | None = None, num_workers: int | None = None,
                  manager=None, owner: str = ""):
    """'local', 'ray' or an executor object (returned as it is). 'ray' raises AevizError saying how to
    install Ray, or why its cluster cannot be reached. With a job `manager`, either in a QueuedExecutor for
    `owner` (the server's sweeps count against its limit of trainings at once); without (the command line),
    bare."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        return QueuedExecutor(manager, owner) if manager is not None else LocalExecutor()
    if executor == "ray":
        # lazy: Ray is optional (this module imports without it)
        from aeviz.cluster.sweep_executor import RayExecutor  # Ray is optional and slow to import

        ray = RayExecutor(address=ray_address, num_workers=num_workers)
        return QueuedExecutor(manager, owner, ray) if manager is not None else ray
    raise AevizError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
