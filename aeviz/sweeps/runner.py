"""A sweep as a background task, for the app: start(), stop(), progress, and snapshot() to draw.

    runner = SweepRunner(spec).start()   # or SweepRunner(spec, make_executor("ray")) (aeviz.jobs.sweep_executors)
    sweep, current = runner.snapshot()   # a consistent copy, and the point training now (local executor)
"""

from __future__ import annotations

import copy
from typing import Any

from aeviz.runs.store import RunStore
from aeviz.sweeps.engine import LocalExecutor, iter_sweep
from aeviz.sweeps.events import PointFinished, PointProgress, PointStarted, SweepFinished
from aeviz.sweeps.spec import SweepSpec
from aeviz.sweeps.store import Sweep, SweepStore
from aeviz.training.tasks import BackgroundTask, TaskProgress


class SweepRunner(BackgroundTask):
    """Runs `iter_sweep` in the task's thread. The engine changes the sweep only while holding the task's
    lock, and snapshot() copies it holding the same lock.

    `executor`: an executor object (None: a LocalExecutor), made before, so that its errors (Ray missing or
    unreachable) show before the task exists.
    """

    def __init__(self, spec_or_sweep: SweepSpec | Sweep, executor: Any = None, store: RunStore | None = None,
                 sweeps: SweepStore | None = None):
        sweep = spec_or_sweep if isinstance(spec_or_sweep, Sweep) else Sweep.create(spec_or_sweep)
        super().__init__(sweep.sweep_id)
        self.sweep = sweep
        self.executor = executor if executor is not None else LocalExecutor()
        self.store = store if store is not None else RunStore()
        self.sweeps = sweeps if sweeps is not None else SweepStore()
        self._current: PointProgress | None = None   # the point training now (local executor)

    def work(self) -> Sweep:
        for event in iter_sweep(self.sweep, self.executor, self.store, self.sweeps, self.stop_event, self.lock):
            with self.lock:
                if isinstance(event, PointProgress):
                    self._current = event
                elif isinstance(event, PointStarted):
                    self._current = PointProgress(event.point, 0.0, float("nan"), 0.0)
                elif isinstance(event, (PointFinished, SweepFinished)):
                    self._current = None
        with self.lock:
            self.end(self.sweep.status if self.sweep.status in ("completed", "stopped") else "completed",
                     self.sweep.message)
        return self.sweep

    def cleanup(self) -> None:
        with self.lock:
            self._current = None

    def snapshot(self) -> tuple[Sweep, PointProgress | None]:
        """A copy of the sweep as it stands and the progress of the current point."""
        with self.lock:
            current = copy.copy(self._current)
            if current is not None:
                current.point = copy.copy(current.point)
            return copy.deepcopy(self.sweep), current

    @property
    def progress(self) -> TaskProgress:
        sweep, current = self.snapshot()
        total = max(len(sweep.points), 1)
        done = sum(p.done for p in sweep.points)
        fraction = min(1.0, done / total + (current.fraction / total if current is not None else 0.0))
        text = f"{done} of {total} points done"
        if current is not None:
            text += f" · now {current.point.label}: {current.fraction:.0%}"
        elif self.running and getattr(self.executor, "waiting", ""):  # its next point waits for a slot
            text += f" · {self.executor.waiting}"
        elif self.running and sweep.executor == "ray":
            queued = sum(p.status == "queued" for p in sweep.points)
            text += f" · {queued} queued or training on Ray" if sweep.startup_seconds else " · starting Ray…"
        return TaskProgress(fraction, text)
