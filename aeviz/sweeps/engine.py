"""The sweep engine: runs a sweep's points on an executor, saves each as an ordinary run, and
yields events the CLI, the app and other pages consume alike.

    sweep = run_sweep(SweepSpec(dataset="digits", variants=["plain"], grid={"k": [2, 8, 32]}, epochs=5),
                      executor="local", on_event=print)

    runner = SweepRunner(spec, executor="ray")   # a background thread, for the app
    runner.start(); ...; runner.stop(); runner.snapshot()

Executors: `local` trains in this process, one point after another (stoppable within a point);
`ray` (aeviz.sweeps.ray_executor) runs each point as a Ray task. Both hand back a finished point's
result here, where it is saved with the RunStore, tagged with the sweep id in config.tags.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from aeviz.errors import AevizError
from aeviz.runs import RunStore
from aeviz.sweeps.spec import SweepPoint, SweepSpec
from aeviz.sweeps.store import Sweep, SweepStore

EXECUTORS = ("local", "ray")


# ---------------------------------------------------------------------------- events
@dataclass
class SweepStarted:
    sweep: Sweep


@dataclass
class PointStarted:
    point: SweepPoint


@dataclass
class PointProgress:
    point: SweepPoint
    fraction: float          # of this point's budget, 0..1
    loss: float
    elapsed: float           # seconds of training of this point


@dataclass
class PointFinished:
    point: SweepPoint        # status completed, diverged, failed or stopped; run_id when saved


@dataclass
class SweepFinished:
    sweep: Sweep


@dataclass
class PointOutcome:
    """What an executor hands back for one point (the engine saves it and yields PointFinished)."""

    point: SweepPoint
    status: str              # completed, diverged, stopped, failed
    message: str = ""
    result: Any = None       # TrainResult, when training ran to an end


SweepEvent = SweepStarted | PointStarted | PointProgress | PointFinished | SweepFinished


# ---------------------------------------------------------------------------- executors
class LocalExecutor:
    """In this process, one point after another; the dataset is loaded once (load_dataset caches).

    `threads`: torch's intra-op threads while the sweep runs (None: leave torch's setting).
    """

    name = "local"
    startup_seconds = 0.0

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
        from aeviz.data import load_dataset
        from aeviz.events import Progress
        from aeviz.train import Trainer

        for point in points:
            if stop.is_set():
                return
            point.status = "running"
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


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, AevizError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def make_executor(executor: Any = "local", ray_address: str | None = None, num_workers: int | None = None):
    """'local', 'ray' or an executor object. 'ray' raises AevizError saying how to install Ray."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        return LocalExecutor()
    if executor == "ray":
        from aeviz.sweeps.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, num_workers=num_workers)
    raise AevizError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")


# ---------------------------------------------------------------------------- the engine
def iter_sweep(sweep: Sweep, executor: Any = "local", store: RunStore | None = None,
               sweeps: SweepStore | None = None, stop: threading.Event | None = None) -> Iterator[SweepEvent]:
    """Run every point of `sweep` not yet done (a reopened sweep resumes); yield events.

    Each finished point is saved as a run and the sweep file is rewritten, so stopping (set `stop`)
    keeps every point that finished.
    """
    executor = make_executor(executor)
    store = store if store is not None else RunStore()
    sweeps = sweeps if sweeps is not None else SweepStore()
    stop = stop if stop is not None else threading.Event()
    todo = [point for point in sweep.points if not point.done]
    for point in todo:
        point.status, point.error = "pending", ""
    sweep.status, sweep.executor, sweep.message = "running", executor.name, ""
    sweeps.save(sweep)
    yield SweepStarted(sweep)
    try:
        sweep.startup_seconds = executor.start(sweep.spec) or getattr(executor, "startup_seconds", 0.0)
        started = time.perf_counter()
        for event in executor.run(sweep, todo, stop):
            if isinstance(event, PointOutcome):
                finish_point(event, store)
                sweep.wall_seconds = time.perf_counter() - started
                sweeps.save(sweep)
                yield PointFinished(event.point)
            else:
                yield event
        sweep.wall_seconds = time.perf_counter() - started
    except BaseException as exc:
        for point in todo:
            if point.status in ("running", "queued"):
                point.status = "stopped"
        sweep.status, sweep.message = "failed", describe_error(exc)
        sweeps.save(sweep)
        raise
    for point in todo:
        if point.status == "running":
            point.status = "stopped"
    counts = sweep.counts()
    failed = counts.get("failed", 0)
    if stop.is_set() and any(not p.done for p in sweep.points):
        sweep.status = "stopped"
        sweep.message = f"stopped by request; {sum(p.done for p in sweep.points)} of {len(sweep.points)} points kept"
    else:
        sweep.status = "completed"
        sweep.message = f"{len(sweep.points) - failed} of {len(sweep.points)} points trained" + (
            f"; {failed} failed" if failed else "")
    sweeps.save(sweep)
    yield SweepFinished(sweep)


def finish_point(outcome: PointOutcome, store: RunStore) -> None:
    point = outcome.point
    point.status = outcome.status
    point.error = outcome.message if outcome.status in ("failed", "diverged") else ""
    if outcome.status in ("completed", "diverged") and outcome.result is not None:
        point.metrics = _point_metrics(outcome.result.metrics)
        try:
            point.run_id = store.save(outcome.result)
        except AevizError as exc:
            point.status, point.error = "failed", f"trained but not saved: {exc}"
    elif outcome.status == "stopped":
        point.error = "stopped before its budget was spent; not saved"


def _point_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics a sweep keeps per point: numbers and short strings (no warning lists)."""
    return {name: value for name, value in metrics.items()
            if isinstance(value, (int, float, str, bool)) or value is None}


def run_sweep(spec_or_sweep: SweepSpec | Sweep, executor: Any = "local",
              on_event: Callable[[SweepEvent], None] | None = None, store: RunStore | None = None,
              sweeps: SweepStore | None = None, stop: threading.Event | None = None,
              ray_address: str | None = None, num_workers: int | None = None) -> Sweep:
    """Validate (a spec), run to the end (or until `stop` is set), return the sweep.

    Bad grids and a missing Ray raise AevizError before anything trains.
    """
    sweep = spec_or_sweep if isinstance(spec_or_sweep, Sweep) else Sweep.create(spec_or_sweep)
    executor = make_executor(executor, ray_address, num_workers)
    for event in iter_sweep(sweep, executor, store, sweeps, stop):
        if on_event is not None:
            on_event(event)
    return sweep


class SweepRunner:
    """A sweep in a background thread, for the app: start(), stop(), and snapshot() to draw.

    The executor is made (and Ray connected) in the constructor, so errors show at once.
    """

    def __init__(self, spec_or_sweep: SweepSpec | Sweep, executor: Any = "local", store: RunStore | None = None,
                 sweeps: SweepStore | None = None, ray_address: str | None = None, num_workers: int | None = None):
        self.sweep = spec_or_sweep if isinstance(spec_or_sweep, Sweep) else Sweep.create(spec_or_sweep)
        self.executor = make_executor(executor, ray_address, num_workers)
        self.store = store if store is not None else RunStore()
        self.sweeps = sweeps if sweeps is not None else SweepStore()
        self.current: PointProgress | None = None   # the point training now (local executor)
        self.error = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> "SweepRunner":
        self._thread = threading.Thread(target=self._work, name=f"aeviz-{self.sweep.sweep_id}", daemon=True)
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            for event in iter_sweep(self.sweep, self.executor, self.store, self.sweeps, self._stop):
                with self._lock:
                    if isinstance(event, (PointStarted, PointProgress)):
                        point = event.point
                        self.current = event if isinstance(event, PointProgress) else PointProgress(point, 0.0, float("nan"), 0.0)
                    elif isinstance(event, (PointFinished, SweepFinished)):
                        self.current = None
        except Exception as exc:
            with self._lock:
                self.error = describe_error(exc)
                self.current = None

    def stop(self) -> None:
        """Stop soon: the local executor ends the current point between two steps; Ray cancels what is left."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set() and self.running

    def snapshot(self) -> tuple[Sweep, PointProgress | None]:
        """A copy of the sweep as it stands and the progress of the current point."""
        with self._lock:
            for _ in range(5):
                try:
                    return copy.deepcopy(self.sweep), copy.copy(self.current)
                except RuntimeError:  # a dict changed while copying; try again
                    time.sleep(0.01)
            return Sweep.from_json(self.sweep.to_json()), None
