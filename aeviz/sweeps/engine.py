"""The sweep engine: runs a sweep's points on an executor, saves each as an ordinary run, and
yields events the CLI, the app and other pages consume alike.

    sweep = run_sweep(SweepSpec(dataset="digits", variants=["plain"], grid={"k": [2, 8, 32]}, epochs=5),
                      on_event=print)

    runner = SweepRunner(spec, make_executor("ray")).start()   # a background task (sweeps.runner)

Executors: `LocalExecutor` (the default) trains in this process, one point after another (stoppable within
a point); the Ray executor (aeviz.cluster.sweep_executor) runs each point as a Ray task, and
aeviz.jobs.sweep_executors makes either by name. Both hand back a finished point's
result here, where it is saved with the RunStore, tagged with the sweep id in config.tags.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator

from aeviz.errors import AevizError
from aeviz.runs.store import RunStore
from aeviz.sweeps.events import (PointFinished, PointOutcome, PointProgress, PointQueued, PointStarted, SweepEvent,
                                 SweepFinished, SweepStarted)
from aeviz.sweeps.spec import SweepPoint, SweepSpec
from aeviz.sweeps.store import Sweep, SweepStore
from aeviz.training.tasks import describe_error
from aeviz.data.datasets import load_dataset
from aeviz.training.events import Progress
from aeviz.training.trainer import Trainer



# ---------------------------------------------------------------------------- executors
class LocalExecutor:
    """In this process, one point after another; the dataset is loaded once (load_dataset caches).

    `threads`: torch's intra-op threads while the sweep runs (None: leave torch's setting).
    """

    name = "local"
    startup_seconds = 0.0
    points_at_once = 1  # the most points worth giving it at once: it trains them one after another

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def start(self, spec: SweepSpec) -> float:
        return 0.0

    def run(self, sweep: Sweep, points: list[SweepPoint], stop: threading.Event) -> Iterator[Any]:
        import torch

        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        try:
            yield from self._run(sweep, points, stop)
        finally:
            torch.set_num_threads(before)

    def _run(self, sweep: Sweep, points: list[SweepPoint], stop: threading.Event) -> Iterator[Any]:
        for point in points:
            if stop.is_set():
                return
            yield PointStarted(point)
            try:
                config = sweep.spec.config_for(point, sweep.sweep_id)
                trainer = Trainer(config, load_dataset(config.dataset))
                for event in trainer.run():
                    if isinstance(event, Progress):
                        yield PointProgress(point, event.fraction, event.loss, event.elapsed)
                    if stop.is_set():
                        trainer.stop()  # ends this point before its next step
                finished = trainer.finished
                yield PointOutcome(point, finished.status, finished.message, finished.result)
            except Exception as exc:  # a point that fails is recorded; the sweep goes on
                yield PointOutcome(point, "failed", describe_error(exc))


# ---------------------------------------------------------------------------- the engine
def iter_sweep(sweep: Sweep, executor: Any = None, store: RunStore | None = None,
               sweeps: SweepStore | None = None, stop: threading.Event | None = None,
               lock: Any = None) -> Iterator[SweepEvent]:
    """Run every point of `sweep` not yet done (a reopened sweep resumes); yield events.

    Each finished point is saved as a run and the sweep file is rewritten, so stopping (set `stop`)
    keeps every point that finished. Only this generator changes the sweep, each time holding `lock`
    (when given), so another thread holding it reads a consistent sweep.
    """
    executor = executor if executor is not None else LocalExecutor()
    store = store if store is not None else RunStore()
    sweeps = sweeps if sweeps is not None else SweepStore()
    stop = stop if stop is not None else threading.Event()
    lock = lock if lock is not None else contextlib.nullcontext()
    todo = [point for point in sweep.points if not point.done]
    with lock:
        for point in todo:
            point.status, point.error = "pending", ""
        sweep.status, sweep.executor, sweep.message = "running", executor.name, ""
    sweeps.save(sweep)
    yield SweepStarted(sweep)
    try:
        startup = executor.start(sweep.spec) or getattr(executor, "startup_seconds", 0.0)
        with lock:
            sweep.startup_seconds = startup
        started = time.perf_counter()
        for event in executor.run(sweep, todo, stop):
            if isinstance(event, PointOutcome):
                finish_point(event, store, lock)
                with lock:
                    sweep.wall_seconds = time.perf_counter() - started
                sweeps.save(sweep)
                yield PointFinished(event.point)
                continue
            if isinstance(event, (PointQueued, PointStarted)):
                with lock:
                    event.point.status = "queued" if isinstance(event, PointQueued) else "running"
            yield event
        with lock:
            sweep.wall_seconds = time.perf_counter() - started
    except BaseException as exc:
        with lock:
            for point in todo:
                if point.status in ("running", "queued"):
                    point.status = "stopped"
            if isinstance(exc, KeyboardInterrupt):  # Ctrl-C: a stop, not a failure; finished points are kept
                sweep.status = "stopped"
                sweep.message = (f"interrupted; {sum(p.done for p in sweep.points)} of {len(sweep.points)} "
                                 f"points kept")
            else:
                sweep.status, sweep.message = "failed", describe_error(exc)
        sweeps.save(sweep)
        raise
    with lock:  # an executor that stopped the sweep by itself says why (aeviz.jobs.sweep_executors)
        end_sweep(sweep, todo, stop.is_set(), getattr(executor, "stopped_because", ""))
    sweeps.save(sweep)
    yield SweepFinished(sweep)


def end_sweep(sweep: Sweep, todo: list[SweepPoint], stopped: bool, why: str = "") -> None:
    """The sweep's final status and message once its executor has run out of points (`why`: the reason it
    was stopped, when not by request)."""
    for point in todo:
        if point.status == "running":
            point.status = "stopped"
    failed = sweep.counts().get("failed", 0)
    if stopped and any(not p.done for p in sweep.points):
        sweep.status = "stopped"
        sweep.message = (f"stopped {'(' + why + ')' if why else 'by request'}; "
                         f"{sum(p.done for p in sweep.points)} of {len(sweep.points)} points kept")
    else:
        sweep.status = "completed"
        sweep.message = f"{len(sweep.points) - failed} of {len(sweep.points)} points trained" + (
            f"; {failed} failed" if failed else "")


def finish_point(outcome: PointOutcome, store: RunStore, lock: Any = None) -> None:
    """Save a point's run (outside `lock`: it writes files) and record its status, metrics and run id."""
    lock = lock if lock is not None else contextlib.nullcontext()
    run_id, error = None, ""
    if outcome.status in ("completed", "diverged") and outcome.result is not None:
        try:
            run_id = store.save(outcome.result)
        except AevizError as exc:
            error = f"trained but not saved: {exc}"
    point = outcome.point
    with lock:
        point.status = outcome.status
        point.error = outcome.message if outcome.status in ("failed", "diverged") else ""
        if outcome.status in ("completed", "diverged") and outcome.result is not None:
            point.metrics = _point_metrics(outcome.result.metrics)
            point.run_id = run_id
            if error:
                point.status, point.error = "failed", error
        elif outcome.status == "stopped":
            point.error = "stopped before its budget was spent; not saved"


def _point_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics a sweep keeps per point: numbers and short strings (no warning lists)."""
    return {name: value for name, value in metrics.items()
            if isinstance(value, (int, float, str, bool)) or value is None}


def run_sweep(spec_or_sweep: SweepSpec | Sweep, executor: Any = None,
              on_event: Callable[[SweepEvent], None] | None = None, store: RunStore | None = None,
              sweeps: SweepStore | None = None, stop: threading.Event | None = None) -> Sweep:
    """Validate (a spec), run to the end (or until `stop` is set), return the sweep.

    `executor`: an executor object (None: a LocalExecutor; aeviz.jobs.sweep_executors makes one by name).
    Bad grids raise AevizError before anything trains.
    """
    sweep = spec_or_sweep if isinstance(spec_or_sweep, Sweep) else Sweep.create(spec_or_sweep)
    for event in iter_sweep(sweep, executor, store, sweeps, stop):
        if on_event is not None:
            on_event(event)
    return sweep
