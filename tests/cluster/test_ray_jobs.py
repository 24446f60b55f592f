"""Page-started training jobs on Ray: the same run as in-process, Stop, a dead worker, an unreachable
cluster, and the job limit that follows the cluster's CPUs."""

import time

import pytest

from aeviz.cluster import connection as ray_cluster

from aeviz.cluster import jobs as ray_jobs
from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError
from aeviz.jobs.manager import JobManager
from aeviz.runs.store import RunStore

RAY_TIMEOUT = 300  # a fresh actor imports torch in a new process; slow on a loaded 2-core machine


def small(epochs=2.0, **kw):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=epochs, batch_size=128,
                       snapshot_seconds=0.0, seed=3, **kw)


def wait_for_progress(manager, job_id, timeout=RAY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = manager.view(job_id)
        if view.progress is not None or not view.active:
            return view
        time.sleep(0.2)
    raise AssertionError("the job showed no progress in time")


def test_a_ray_job_gives_the_in_process_result_and_is_saved_here(ray_instance, digits):
    import torch

    manager = JobManager(ray_address="local")  # the fixture's instance is already joined
    on_ray = manager.wait(manager.submit(small(), owner="ann").job_id, timeout=RAY_TIMEOUT)
    assert on_ray.status == "completed", on_ray.message
    assert "on a Ray worker" in on_ray.message
    assert manager.max_running == 2  # the local instance's two CPUs, one per job
    assert on_ray.history and on_ray.test_history and on_ray.snapshot is not None and on_ray.started is not None

    here = JobManager(max_running=1, ray_address=None)
    in_process = here.wait(here.submit(small(), owner="ann").job_id, timeout=120)
    assert in_process.status == "completed" and "Ray" not in in_process.message
    assert on_ray.metrics["test_mse"] == pytest.approx(in_process.metrics["test_mse"], rel=1e-5, abs=1e-8)

    loaded = RunStore().load(on_ray.run_id)  # the weights came back as bytes and were saved by this process
    x = digits.test_images
    with torch.no_grad():
        assert float(((loaded.model(x) - x) ** 2).mean()) == pytest.approx(on_ray.metrics["test_mse"], rel=1e-5)


def test_the_applications_normal_class_model_trains_on_ray_with_the_in_process_result(ray_instance, digits):
    from aeviz.applications.anomaly_tasks import normal_class_task
    from aeviz.jobs.executors import ON_RAY, JobCluster

    normal = [c for c in range(10) if c != 0]
    on_ray = normal_class_task(small(), digits, normal, epochs=2.0, cluster=JobCluster("local")).start()
    assert on_ray.wait(RAY_TIMEOUT) and on_ray.status == "completed", on_ray.message
    here = normal_class_task(small(), digits, normal, epochs=2.0).start()
    assert here.wait(120) and here.status == "completed", here.message
    ray_model, local_model = on_ray.result, here.result
    assert ray_model.where == ON_RAY and local_model.where == ""
    assert ray_model.metrics["train_size"] == local_model.metrics["train_size"] < len(digits.train_images)
    assert ray_model.report.auc["autoencoder"] == pytest.approx(local_model.report.auc["autoencoder"], abs=1e-6)
    assert ray_model.metrics["test_mse"] == pytest.approx(local_model.metrics["test_mse"], rel=1e-5, abs=1e-8)


def test_the_held_out_sweep_trains_each_model_on_ray(ray_instance, digits):
    from aeviz.applications.anomaly import HeldOutSweep
    from aeviz.applications.anomaly_tasks import placed_trainer
    from aeviz.jobs.executors import JobCluster
    from aeviz.cluster.jobs import RayTrainingSource

    cluster, sources = JobCluster("local"), []

    def on_ray(normal):
        source, _ = placed_trainer(cluster, small(), digits, normal, 2.0, None)
        sources.append(source)
        return source

    sweep = HeldOutSweep(small(), digits, epochs=2.0, classes=[3, 9], make_trainer=on_ray)
    here = HeldOutSweep(small(), digits, epochs=2.0, classes=[3, 9])
    for run in (sweep, here):
        for _ in run.run():
            pass
    assert all(isinstance(source, RayTrainingSource) for source in sources) and len(sources) == 2
    assert sweep.finished.status == "completed" and sorted(sweep.reports) == [3, 9]
    for held_out in (3, 9):
        assert sweep.reports[held_out].auc["autoencoder"] == pytest.approx(here.reports[held_out].auc["autoencoder"],
                                                                             abs=1e-6)


def test_i_autorec_trains_on_ray_with_the_in_process_result(ray_instance):
    from aeviz.recommender import autorec
    from aeviz.recommender import movielens
    from aeviz.jobs.executors import ON_RAY, JobCluster
    from aeviz.cluster.jobs import RayTrainingSource

    if movielens.find_folder()[0] is None:
        pytest.skip("MovieLens 100K is not here (AEVIZ_DATA_DIR)")
    data = movielens.load_movielens(download_missing=False)
    config = autorec.autorec_config(k=50, epochs=2.0, device="cpu")
    source, where = autorec.placed_trainer(data, config, JobCluster("local"))
    assert isinstance(source, RayTrainingSource) and where == ON_RAY
    on_ray, local = [list(trainer.run())[-1] for trainer in (source, autorec.make_trainer(data, config))]
    assert on_ray.status == local.status == "completed", on_ray.message
    rmse = [autorec.evaluation_report(finished.result.model, data)["test_rmse"] for finished in (on_ray, local)]
    assert rmse[0] == pytest.approx(rmse[1], rel=1e-5)


def test_stop_reaches_the_ray_worker(ray_instance):
    manager = JobManager(ray_address="local")
    view = manager.submit(small(epochs=10_000.0), owner="s")
    assert wait_for_progress(manager, view.job_id).active
    manager.stop(view.job_id)
    done = manager.wait(view.job_id, timeout=120)
    assert done.status == "stopped", done.message
    assert done.run_id is not None and RunStore().load(done.run_id).info.metrics["test_mse"] > 0


def test_a_worker_killed_mid_run_is_reported(ray_instance):
    manager = JobManager(ray_address="local")
    view = manager.submit(small(epochs=10_000.0), owner="s")
    assert wait_for_progress(manager, view.job_id).active
    source = manager.job(view.job_id).source
    ray_instance.kill(source.actor)
    done = manager.wait(view.job_id, timeout=120)
    assert done.status == "failed"
    assert "the Ray worker running this job died" in done.message
    assert source.attempts == 1  # it had learned something: not started again


def test_a_worker_that_dies_before_learning_is_started_once_more(ray_instance, monkeypatch):
    spawned = []

    def dies_first(ray, config, *rest):
        actor = spawn(ray, config, *rest)
        if not spawned:
            ray.kill(actor)
        spawned.append(actor)
        return actor

    spawn = ray_jobs.spawn_actor
    monkeypatch.setattr(ray_jobs, "spawn_actor", dies_first)
    manager = JobManager(ray_address="local")
    done = manager.wait(manager.submit(small(epochs=1.0), owner="s").job_id, timeout=RAY_TIMEOUT)
    assert done.status == "completed", done.message
    assert len(spawned) == 2


def test_an_unreachable_cluster_trains_here_with_a_note(monkeypatch, digits):
    def unreachable(address=None, num_cpus=None):
        raise AevizError(f"cannot reach the Ray cluster at {address}")

    monkeypatch.setattr(ray_cluster, "connect", unreachable)
    manager = JobManager(max_running=1, ray_address="nowhere:6379")
    done = manager.wait(manager.submit(small(), owner="s").job_id, timeout=120)
    assert done.status == "completed"
    assert "in the app's own process" in done.message and "nowhere:6379" in done.message
    assert done.run_id is not None


SIX_CPUS = [{"Alive": True, "Resources": {"CPU": 4.0}}, {"Alive": True, "Resources": {"CPU": 2.0}}]  # ray.nodes()


def test_the_job_limit_follows_the_clusters_cpus_unless_set(monkeypatch):
    monkeypatch.delenv("AEVIZ_MAX_JOBS", raising=False)
    manager = JobManager(ray_address="head:6379")
    assert manager.max_running == 1  # until a job has joined the cluster
    manager.cluster.joined(SIX_CPUS)
    assert manager.max_running == 6 // ray_jobs.CPUS_PER_JOB
    monkeypatch.setenv("AEVIZ_MAX_JOBS", "2")
    explicit = JobManager(ray_address="head:6379")
    explicit.cluster.joined(SIX_CPUS)
    assert explicit.max_running == 2
    assert JobManager(ray_address=None).max_running == 2  # without Ray: the setting, as before


def test_a_dead_workers_last_checkpoint_is_kept_as_an_interrupted_run(ray_instance, monkeypatch):
    from aeviz.runs.interrupted import interrupted_runs, resume_trainer
    from aeviz.runs.checkpoints import checkpoint_path, owner_tag

    monkeypatch.setenv("AEVIZ_CHECKPOINT_SECONDS", "0.3")
    manager = JobManager(ray_address="local")
    view = manager.submit(small(epochs=10_000.0), owner="s")
    assert wait_for_progress(manager, view.job_id).active
    source = manager.job(view.job_id).source
    deadline = time.monotonic() + RAY_TIMEOUT
    while not checkpoint_path(RunStore(), view.save_as).is_file():  # the worker's checkpoint, written here
        assert time.monotonic() < deadline and manager.view(view.job_id).active, "no checkpoint came back"
        time.sleep(0.1)
    assert interrupted_runs(RunStore()) == []  # the job is alive: not interrupted
    ray_instance.kill(source.actor)
    done = manager.wait(view.job_id, timeout=120)
    assert done.status == "failed" and "its last checkpoint was kept" in done.message
    [run] = interrupted_runs(RunStore())
    assert run.run_id == view.save_as and run.steps > 0 and run.owner_tag == owner_tag("s")
    assert resume_trainer(RunStore(), run.run_id).step == run.steps
