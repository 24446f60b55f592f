"""Sweep executors by name, as the CLI's --executor and the Sweeps page offer them: `local` trains in this
process, `ray` on the Ray cluster (aeviz.cluster). The sweep engine (aeviz.sweeps) takes the object and never
knows Ray.

On a server, a local sweep's points are training like any job's: `QueuedExecutor` (what make_executor gives
for `local` with a job manager and the session) has each point wait its turn in the manager's queue, so the
server's limit of trainings at once holds for sweeps too, and a sweep whose session has gone (no sign of it
for the manager's abandon_seconds: its tab was closed) stops at its next point's turn.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from aeviz.errors import AevizError
from aeviz.sweeps.engine import LocalExecutor

EXECUTORS = ("local", "ray")


class QueuedExecutor:
    """The local executor, each point holding one of `manager`'s training slots (aeviz.jobs.slots) while it
    trains; `owner`: the session the sweep belongs to (its press counts as a sign of it)."""

    name = "local"
    startup_seconds = 0.0

    def __init__(self, manager, owner: str, inner: LocalExecutor | None = None):
        self.manager, self.owner = manager, owner
        self.inner = inner if inner is not None else LocalExecutor()
        self.stopped_because = ""   # why it stopped by itself (its session had gone), for the sweep's message
        self.waiting = ""           # a line while a point waits for a slot (the sweep's progress shows it)
        manager.touch(owner)

    def start(self, spec) -> float:
        return self.inner.start(spec)

    def run(self, sweep, points: list, stop: threading.Event) -> Iterator[Any]:
        for point in points:
            if stop.is_set():
                return
            self.waiting = "waiting for a free training slot"
            with self.manager.slot_gate(self.owner, f"sweep {sweep.sweep_id}: {point.label}")(stop) as why_not:
                self.waiting = ""
                if why_not or stop.is_set():
                    if why_not and not stop.is_set():  # its turn was cancelled: its session had gone
                        self.stopped_because = why_not
                        stop.set()
                    return
                yield from self.inner.run(sweep, [point], stop)


def make_executor(executor: Any = "local", ray_address: str | None = None, num_workers: int | None = None,
                  manager=None, owner: str = ""):
    """'local', 'ray' or an executor object (returned as it is). 'ray' raises AevizError saying how to
    install Ray, or why its cluster cannot be reached. 'local' with a job `manager`: a QueuedExecutor for
    `owner` (the server's sweeps count against its limit of trainings at once)."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        return QueuedExecutor(manager, owner) if manager is not None else LocalExecutor()
    if executor == "ray":
        # lazy: Ray is optional (this module imports without it)
        from aeviz.cluster.sweep_executor import RayExecutor  # Ray is optional and slow to import

        return RayExecutor(address=ray_address, num_workers=num_workers)
    raise AevizError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
