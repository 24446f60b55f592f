"""Sweep executors: the same 8-point digits sweep (k = 2, 4, 8, 16 x seeds 0, 1) on the local
executor (one point after another, torch using every core; and again with one torch thread) and
on a local Ray instance with 2 workers (a point per worker, one thread each). Ray's start-up (init, and each worker importing
torch and loading the dataset) is reported apart from the sweep's wall time.

Two targets. Parallel efficiency: Ray's speed-up over the local executor with one torch thread,
divided by the workers; it says whether Ray's workers run in parallel rather than queue. Overhead:
Ray's wall time against the local executor with every core; on one machine torch already uses
every core inside a point, so Ray cannot be faster there; it should cost little more."""

from __future__ import annotations

import time

from aeviz.bench import INFO, BenchContext, Result, Row, skipped, verdict
from aeviz.cluster.connection import import_ray, ray_available
from aeviz.cluster.sweep_executor import RayExecutor
from aeviz.runs.store import RunStore
from aeviz.sweeps import LocalExecutor, SweepSpec, SweepStore, run_sweep

ROW_NAME = "sweep_executors"
WORKERS = 2
TARGET_EFFICIENCY = 0.75   # speed-up over one thread / workers
TARGET_OVERHEAD = 1.1      # Ray wall time / local executor wall time (start-up apart)
EPOCHS, QUICK_EPOCHS = 30.0, 6.0


SAME_MSE = 0.01  # largest relative test-MSE gap between a point trained locally and on Ray


def test_mse_gaps(local_points, ray_points) -> list[float]:
    """Each point's relative test-MSE gap between the executors. Ray's workers run one torch thread, the local
    executor every core: matrix products then add in another order, and 30 epochs carry the last-bit
    differences to about 0.03-0.2% of the test MSE (digits, 1 against 2 threads, same seed). Beyond SAME_MSE
    the executors would be training something else."""
    return [abs(a.metrics["test_mse"] - b.metrics["test_mse"]) / abs(a.metrics["test_mse"])
            for a, b in zip(local_points, ray_points) if a.metrics.get("test_mse") and b.metrics.get("test_mse")]


def bench_spec(epochs: float):
    return SweepSpec(dataset="digits", variants=["plain"], grid={"k": [2, 4, 8, 16]}, seeds=[0, 1],
                     epochs=epochs, device="cpu")


def run(context: BenchContext) -> list[Result]:
    import tempfile
    from pathlib import Path


    what = f"8-point digits sweep, local vs Ray with {WORKERS} workers"
    if not ray_available():
        return [skipped(ROW_NAME, what, "Ray is not installed (pip install -r requirements-ray.txt)")]
    epochs = QUICK_EPOCHS if context.quick else EPOCHS
    with tempfile.TemporaryDirectory() as folder:
        stores = dict(store=RunStore(Path(folder) / "runs"), sweeps=SweepStore(Path(folder) / "sweeps"))
        context.say("  warming up the local executor")
        warm = bench_spec(0.5)
        warm.grid, warm.seeds = {"k": [2]}, [0]
        run_sweep(warm, **stores)
        context.say(f"  local: 8 points x {epochs:g} epochs")
        started = time.perf_counter()
        local = run_sweep(bench_spec(epochs), **stores)
        local_seconds = time.perf_counter() - started
        context.say("  local with one torch thread: 8 points")
        started = time.perf_counter()
        run_sweep(bench_spec(epochs), executor=LocalExecutor(threads=1), **stores)
        single_seconds = time.perf_counter() - started
        ray = import_ray()
        owned = not ray.is_initialized()
        try:
            context.say(f"  ray: starting a local instance with {WORKERS} CPUs, then 8 points")
            executor = RayExecutor(num_workers=WORKERS)
            sweep = run_sweep(bench_spec(epochs), executor=executor, **stores)
        finally:
            if owned:
                ray.shutdown()
    ray_seconds = sweep.wall_seconds
    gaps = test_mse_gaps(local.points, sweep.points)
    same = bool(gaps) and max(gaps) <= SAME_MSE
    speedup = single_seconds / ray_seconds if ray_seconds > 0 else float("nan")
    efficiency = speedup / WORKERS
    overhead = ray_seconds / local_seconds if local_seconds > 0 else float("nan")
    details = {"epochs_per_point": epochs, "local_seconds": local_seconds, "ray_seconds": ray_seconds,
               "local_one_thread_seconds": single_seconds, "speedup_over_one_thread": speedup,
               "ray_startup_seconds": sweep.startup_seconds, "same_test_mse": same,
               "points": [p.status for p in sweep.points]}
    note = f"{epochs:g} epochs/point; Ray start-up {sweep.startup_seconds:.1f} s not included; " \
           f"test MSE {'the same' if same else 'DIFFERS'} across executors (largest gap " \
           f"{max(gaps, default=float('nan')):.2%})"
    return [
        Result(ROW_NAME, f"{what}: parallel efficiency (speed-up over local with one torch thread / {WORKERS})",
               "", efficiency, "ideal: every worker busy", 1.0, efficiency, f">= {TARGET_EFFICIENCY}",
               verdict(efficiency >= TARGET_EFFICIENCY and same),
               f"Ray {ray_seconds:.2f} s vs local with one thread {single_seconds:.2f} s; {note}", details),
        Result(ROW_NAME, "sweep wall time on Ray against the local executor (every core): overhead", "s",
               ray_seconds, "local executor", local_seconds, overhead, f"<= {TARGET_OVERHEAD}x",
               verdict(overhead <= TARGET_OVERHEAD and same), note),
        Result(ROW_NAME, "Ray start-up (init + workers load torch and the dataset)", "s", sweep.startup_seconds,
               status=INFO),
    ]


ROW = Row(ROW_NAME, "Sweep executors: local against Ray", run, order=80)
