"""Warm Ray workers kept between training jobs: the next job trains in the kept worker with the same result,
an idle one gives its CPU back, a failed job's worker is not kept, and a late Stop cannot reach the next job."""

import time
from functools import partial
from types import SimpleNamespace

import pytest

from aeviz.cluster import jobs as ray_jobs
from aeviz.training.config import TrainConfig
from aeviz.jobs.manager import JobManager
from aeviz.cluster.training_actor import TrainingActor
from aeviz.cluster.worker_pool import WORKERS, WorkerPool
from tests.conftest import wait_until
from tests.cluster.test_ray_jobs import RAY_TIMEOUT, small



class FakeRay:
    def __init__(self, job="01"):
        self.job, self.killed = job, []

    def get_runtime_context(self):
        return SimpleNamespace(get_job_id=lambda: self.job)

    def is_initialized(self):
        return True

    def kill(self, actor):
        self.killed.append(actor)


def test_the_pool_keeps_a_worker_for_its_own_ray_only_and_not_while_another_waits_for_a_cpu():
    pool, ray = WorkerPool(idle_seconds=60), FakeRay()
    pool.starting(1)  # a new worker of this process waits for a CPU: the kept one's goes to it
    pool.keep(ray, "a")
    assert ray.killed == ["a"] and len(pool) == 0
    pool.starting(-1)
    pool.keep(ray, "b")
    assert len(pool) == 1 and pool.take(ray) == "b" and pool.take(ray) is None
    pool.keep(ray, "c")
    assert pool.take(FakeRay(job="02")) is None  # Ray was shut down and started again: "c" died with it
    assert len(pool) == 0


def test_an_idle_worker_is_let_go_after_its_time():
    pool, ray = WorkerPool(idle_seconds=0.3), FakeRay()
    pool.keep(ray, "a")
    wait_until(lambda: ray.killed == ["a"], 10, "the idle worker's end")
    assert len(pool) == 0


def test_a_gpu_job_lets_the_kept_cpu_workers_go():
    pool, ray = WorkerPool(idle_seconds=60), FakeRay()
    pool.keep(ray, "a")
    source = ray_jobs.RayTrainingSource(ray, small(device="cuda"), resources={"num_cpus": 1, "num_gpus": 1},
                                        pool=pool)
    assert source.kept_worker(None, "") == (None, 0)
    assert ray.killed == ["a"] and len(pool) == 0


def finished(actor, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events, _, done, payload, error = actor.poll(0)
        if done:
            return payload, error
        time.sleep(0.05)
    raise AssertionError("the actor's job did not end in time")


def test_a_worker_trains_one_job_after_another_and_a_late_stop_reaches_only_its_own(digits):
    actor = TrainingActor(small(epochs=1.0).to_json(), 1)
    first, error = finished(actor)
    assert error == "" and first["status"] == "completed"
    long = TrainConfig(dataset="digits", variant="linear", k=4, max_seconds=120.0, batch_size=128,
                       snapshot_seconds=0.0, seed=3)  # runs until stopped (30 epochs took 0.3 s on an idle machine)
    job = actor.start(long.to_json(), 1)
    assert job == 2
    with pytest.raises(RuntimeError, match="still training"):
        actor.start(small().to_json(), 1)
    actor.stop(1)  # the first job's Stop, pressed after it ended: the second goes on
    time.sleep(0.3)
    assert not actor.poll(0)[2]
    actor.stop(2)
    second, error = finished(actor)
    assert error == "" and second["status"] == "stopped"


def count_spawns(monkeypatch) -> list:
    spawned = []

    def counted(*args, **kwargs):
        actor = spawn(*args, **kwargs)
        spawned.append(actor)
        return actor

    spawn = ray_jobs.spawn_actor
    monkeypatch.setattr(ray_jobs, "spawn_actor", counted)
    return spawned


def test_the_next_job_trains_in_the_kept_worker_with_the_same_result(ray_instance, monkeypatch):
    spawned = count_spawns(monkeypatch)
    manager = JobManager(ray_address="local")
    first = manager.wait(manager.submit(small(), owner="ann").job_id, timeout=RAY_TIMEOUT)
    assert first.status == "completed", first.message
    assert len(WORKERS) == 1
    assert ray_instance.available_resources().get("CPU", 0) == 1.0  # the kept worker holds its CPU
    second = manager.wait(manager.submit(small(), owner="bob").job_id, timeout=RAY_TIMEOUT)
    assert second.status == "completed", second.message
    assert "on a Ray worker" in second.message
    assert len(spawned) == 1  # one worker process for both jobs
    assert second.metrics["test_mse"] == pytest.approx(first.metrics["test_mse"], rel=1e-6, abs=1e-9)
    assert second.history and second.history[-1]["step"] == first.history[-1]["step"]  # as many steps
    WORKERS.let_go()
    wait_until(lambda: ray_instance.available_resources().get("CPU", 0) == 2.0, 30, "the CPU's return")


def test_a_failed_jobs_worker_is_not_kept(ray_instance):
    from aeviz.errors import AevizError

    source = ray_jobs.RayTrainingSource(ray_instance, small(), pool=WORKERS,
                                        make_dataset=partial(int, "not a dataset"))
    with pytest.raises(AevizError, match="not a dataset"):
        for _ in source.run():
            pass
    assert len(WORKERS) == 0
    wait_until(lambda: ray_instance.available_resources().get("CPU", 0) == 2.0, 30, "the CPU's return")
