"""The `ray` executor: each sweep point is a Ray task.

A local Ray instance is started with this machine's cores, or an existing cluster is joined when
an address is given (`--ray-address`, or `$AEVIZ_RAY_ADDRESS`; e.g. `ray://head:10001` or
`head:6379`). On a cluster the aeviz package is shipped to the workers with the job
(`runtime_env.py_modules`), and results (metrics, history and the weights as bytes) come back
to the driver, which saves them: the cluster needs no shared filesystem. Each worker process
loads a dataset once and keeps it (`load_dataset` caches per process), so tasks carry only a
configuration. A worker that dies loses only its point, which Ray retries once; after that the
point is marked failed with the reason and the sweep goes on.
"""

from __future__ import annotations

import io
import os
import threading
import time
from typing import Any, Iterator

from aeviz.errors import AevizError
from aeviz.cluster.connection import cluster_cpus, configured_address, connect, first_line, import_ray
from aeviz.sweeps.events import PointOutcome, PointQueued
from aeviz.sweeps.spec import SweepPoint, SweepSpec
from aeviz.training.tasks import describe_error
from aeviz.analysis.pca import pca_test_mse_curve
from aeviz.data.datasets import load_dataset
from aeviz.runs.checks import load_weights_into_model
from aeviz.training.config import TrainConfig
from aeviz.training.result import TrainResult
from aeviz.training.trainer import Trainer, train

POLL_SECONDS = 0.2


# ---------------------------------------------------------------------------- worker side
def train_point_payload(config_json: dict[str, Any], threads: int) -> dict[str, Any]:
    """Train one point in a Ray worker; return what the driver needs to save it as a run.

    Runs in the worker process: the dataset comes from that process's cache after the first point.
    """
    import torch


    torch.set_num_threads(max(1, int(threads)))  # one core per point: 2 workers on 2 cores don't oversubscribe
    config = TrainConfig.from_json(config_json)
    trainer = Trainer(config, load_dataset(config.dataset))
    for _ in trainer.run():
        pass
    return result_payload(trainer.finished)


def result_payload(finished) -> dict[str, Any]:
    """A Finished event as plain data (the weights as bytes) for the driver to save as a run."""
    import torch

    result = finished.result
    buffer = io.BytesIO()
    torch.save({name: value.detach().cpu() for name, value in result.model.state_dict().items()}, buffer)
    return {"status": finished.status, "message": finished.message, "params": result.params,
            "metrics": result.metrics, "history": result.history, "test_history": result.test_history,
            "code_snapshots": result.code_snapshots, "input_shape": list(result.model.input_shape),
            "weights": buffer.getvalue(), "pid": os.getpid()}


def warm_worker(dataset: str, threads: int) -> int:
    """Import torch, load `dataset` and take one training step in a worker, so that the first
    points don't pay for it (and start-up is measured apart from the sweep)."""
    import torch


    torch.set_num_threads(max(1, int(threads)))
    data = load_dataset(dataset)
    pca_test_mse_curve(data)
    train(TrainConfig(dataset=dataset, variant="plain", k=2, epochs=1e-9, device="cpu", params={"hidden": [8]}), data)
    time.sleep(0.2)  # hold the slot a moment so each warm-up lands on its own worker
    return os.getpid()


def result_from_payload(config, payload: dict[str, Any]):
    """Rebuild a TrainResult on the driver from a worker's payload (weights loaded safely)."""

    config_json = {**config.to_json(), "resolved_params": payload["params"], "input_shape": payload["input_shape"]}
    model = load_weights_into_model(config_json, payload["weights"])
    return TrainResult(config, model, payload["params"], payload["metrics"], payload["history"],
                       payload["test_history"], payload.get("code_snapshots") or {})


# ---------------------------------------------------------------------------- driver side
class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, num_workers: int | None = None, cpus_per_point: int = 1,
                 warm_up: bool = True):
        self.ray = import_ray()
        self.address = configured_address(address)
        self.num_workers = num_workers
        self.points_at_once = num_workers  # the most points worth giving it at once (None: any number: Ray queues them)
        self.cpus_per_point = max(1, int(cpus_per_point))
        self.warm_up = warm_up
        self.startup_seconds = 0.0
        self._warmed: set[str] = set()
        self._lock = threading.Lock()

    def start(self, spec: SweepSpec) -> float:
        """Connect (or start a local instance) and warm each worker up on the dataset; return the seconds it took."""
        ray = self.ray
        started = time.perf_counter()
        with self._lock:
            connect(self.address, self.num_workers)
            if self.warm_up and spec.dataset not in self._warmed:
                slots = max(1, cluster_cpus(ray) // self.cpus_per_point)
                if self.num_workers:
                    slots = min(slots, self.num_workers)
                warm = ray.remote(warm_worker).options(num_cpus=self.cpus_per_point)
                ray.get([warm.remote(spec.dataset, self.cpus_per_point) for _ in range(slots)])
                self._warmed.add(spec.dataset)
        elapsed = time.perf_counter() - started
        self.startup_seconds += elapsed
        return elapsed

    def run(self, sweep, points: list[SweepPoint], stop: threading.Event) -> Iterator[Any]:
        ray = self.ray
        task = ray.remote(train_point_payload).options(
            num_cpus=self.cpus_per_point, max_retries=1, retry_exceptions=False)
        pending: dict[Any, tuple[SweepPoint, Any]] = {}
        for point in points:
            config = sweep.spec.config_for(point, sweep.sweep_id)
            pending[task.remote(config.to_json(), self.cpus_per_point)] = (point, config)
            yield PointQueued(point)  # Ray starts it when a worker is free
        while pending:
            if stop.is_set():  # keep what is already back, cancel the rest (queued or training)
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                yield from self._collect(ready, pending)
                for ref, (point, _) in pending.items():
                    ray.cancel(ref)
                    yield PointOutcome(point, "stopped", "stopped by request")
                return
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            yield from self._collect(ready, pending)

    def _collect(self, ready: list, pending: dict) -> Iterator[PointOutcome]:
        ray = self.ray
        for ref in ready:
            point, config = pending.pop(ref)
            try:
                payload = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the training raised: not retried
                cause = getattr(exc, "cause", None)
                yield PointOutcome(point, "failed", describe_error(cause) if cause is not None else first_line(exc))
                continue
            except ray.exceptions.RayError as exc:  # the worker died, and again on its one retry
                yield PointOutcome(point, "failed", f"worker lost twice (retried once): {first_line(exc)}")
                continue
            try:
                result = result_from_payload(config, payload)
            except AevizError as exc:
                yield PointOutcome(point, "failed", f"weights came back damaged: {exc}")
                continue
            yield PointOutcome(point, payload["status"], payload["message"], result)
