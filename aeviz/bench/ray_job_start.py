"""A page's training job on Ray: seconds from Train to the job's first progress when it trains in a worker
kept from the job before (aeviz.cluster.worker_pool) against a new worker, which first imports torch and loads
the dataset. Both on a local Ray instance with 2 CPUs, through the app's job manager, interleaved."""

from __future__ import annotations

import time

from aeviz.bench import INFO, BenchContext, Result, Row, median, skipped, verdict
from aeviz.cluster.connection import connect, ray_available
from aeviz.cluster.worker_pool import WORKERS
from aeviz.jobs.manager import JobManager
from aeviz.training.config import TrainConfig

ROW_NAME = "ray_job_start"
TARGET = 0.25            # kept worker's start / new worker's start
REPEATS, QUICK_REPEATS = 3, 1
TIMEOUT = 300.0


def seconds_to_first_progress(manager, config) -> float:
    """Submit `config`; seconds until its first progress; then wait for its end."""
    started = time.perf_counter()
    job_id = manager.submit(config, owner="bench").job_id
    while time.perf_counter() - started < TIMEOUT:
        view = manager.view(job_id, with_history=False)
        if view.progress is not None or not view.active:
            break
        time.sleep(0.02)
    first = time.perf_counter() - started
    done = manager.wait(job_id, timeout=TIMEOUT)
    if done.status != "completed" or "on a Ray worker" not in done.message:
        raise RuntimeError(f"the bench's job did not train on Ray: {done.status}, {done.message}")
    return first


def run(context: BenchContext) -> list[Result]:
    what = "a training job on Ray: Train to its first progress, in a kept worker against a new one"
    if not ray_available():
        return [skipped(ROW_NAME, what, "Ray is not installed (pip install -r requirements-ray.txt)")]
    dataset = context.bench_dataset()
    config = TrainConfig(dataset=dataset, variant="plain", k=32, epochs=0.1 if dataset != "digits" else 2.0,
                         device="cpu", snapshot_seconds=0.0)
    ray = connect(None, num_cpus=2)  # this process's local instance (a new one unless one is running)
    manager = JobManager(ray_address="local")
    fresh, kept = [], []
    for repeat in range(context.repeats or (QUICK_REPEATS if context.quick else REPEATS)):
        WORKERS.let_go()
        deadline = time.monotonic() + 30
        while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        context.say(f"  repeat {repeat + 1}: a job in a new worker, then one in the worker it leaves")
        fresh.append(seconds_to_first_progress(manager, config))
        kept.append(seconds_to_first_progress(manager, config))
    WORKERS.let_go()
    ratio = median(kept) / median(fresh)
    details = {"new_worker_seconds": fresh, "kept_worker_seconds": kept, "dataset": dataset}
    return [
        Result(ROW_NAME, f"{what} ({dataset})", "s", median(kept), "a new worker (imports torch, loads the data)",
               median(fresh), ratio, f"<= {TARGET}x", verdict(ratio <= TARGET),
               f"medians of {len(kept)}; new: {', '.join(f'{s:.2f}' for s in fresh)} s; "
               f"kept: {', '.join(f'{s:.2f}' for s in kept)} s", details),
        Result(ROW_NAME, "a kept worker's start, saved per job after the first", "s",
               median(fresh) - median(kept), status=INFO),
    ]


ROW = Row(ROW_NAME, "Ray training jobs: a kept worker against a new one", run, order=85)
