"""The background job manager: runs, saves, stops, queues, survives readers in other threads."""

import threading

import pytest

from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError, InvalidConfig
from aeviz.jobs.manager import JobManager
from aeviz.server_settings import abandon_seconds_from_env, max_jobs_from_env
from aeviz.runs.store import RunStore


def small(epochs=2.0, **kw):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=epochs, batch_size=128,
                       snapshot_seconds=0.0, **kw)


def test_job_trains_in_background_and_is_saved(digits):
    manager = JobManager(max_running=1)
    view = manager.submit(small(), owner="alice")
    assert view.owner == "alice" and view.status in ("starting", "running", "queued")
    done = manager.wait(view.job_id, timeout=60)
    assert done.status == "completed", done.message
    assert done.run_id is not None
    # saved in the run store, with the same test MSE the job reports
    loaded = RunStore().load(done.run_id)
    assert loaded.config.k == 4
    assert loaded.info.metrics["test_mse"] == pytest.approx(done.metrics["test_mse"])
    assert done.history and done.test_history and done.snapshot is not None
    assert done.snapshot.originals.shape == done.snapshot.reconstructions.shape
    assert manager.jobs(owner="alice")[0].job_id == view.job_id
    assert manager.jobs(owner="bob") == []
    # one name from queue to saved run: the live label ends with the saved run's id, as other pages show it
    assert view.label == RunStore().info(done.run_id).label == done.label
    assert done.run_id == view.save_as


def test_stop_keeps_what_was_learned(digits):
    manager = JobManager(max_running=1)
    view = manager.submit(small(epochs=10_000.0), owner="s")
    # wait until it has trained a little, then stop
    for _ in range(400):
        current = manager.view(view.job_id)
        if current.progress is not None and current.progress.step > 5:
            break
        threading.Event().wait(0.05)
    manager.stop(view.job_id)
    done = manager.wait(view.job_id, timeout=30)
    assert done.status == "stopped"
    assert done.run_id is not None  # saved anyway
    assert done.metrics["steps"] > 0
    assert done.metrics["epochs"] < 10_000


def test_queue_positions_and_cancel(digits):
    manager = JobManager(max_running=1)
    first = manager.submit(small(epochs=10_000.0), owner="s")
    second = manager.submit(small(), owner="s")
    third = manager.submit(small(seed=1), owner="t")  # another configuration: the same one would follow `second`
    assert manager.view(second.job_id).status == "queued"
    assert manager.view(second.job_id).queue_position == 1
    assert manager.view(third.job_id).queue_position == 2
    cancelled = manager.stop(second.job_id)
    assert cancelled.status == "cancelled"
    assert manager.view(third.job_id).queue_position == 1
    manager.stop(first.job_id)
    assert manager.wait(first.job_id, 30).status == "stopped"
    # the queued job starts once the slot frees
    assert manager.wait(third.job_id, 60).status == "completed"
    assert manager.active_count() == 0


def test_a_queued_job_of_a_session_gone_quiet_is_cancelled_at_its_turn(digits):
    """Owners are seen when they submit or ask for their jobs (the app's pages poll every few seconds while
    a job is active). At its turn, a queued job of an owner unseen for abandon_seconds is cancelled; a job
    of an owner still polling starts."""
    manager = JobManager(max_running=1, abandon_seconds=0.5)
    first = manager.submit(small(epochs=10_000.0), owner="present")
    gone = manager.submit(small(), owner="gone")
    waiting = manager.submit(small(seed=1), owner="waiting")
    for _ in range(15):  # 1.5 s: "gone" falls silent, "waiting" and "present" keep polling
        manager.jobs(owner="waiting")
        manager.jobs(owner="present")
        threading.Event().wait(0.1)
    assert manager.view(gone.job_id).status == "queued"  # nothing is cancelled before its turn
    manager.stop(first.job_id, owner="present")
    for _ in range(600):  # "waiting" keeps polling until its job has left the queue (a stop can take a while)
        if manager.jobs(owner="waiting")[0].status != "queued":
            break
        threading.Event().wait(0.05)
    cancelled = manager.wait(gone.job_id, 30)
    assert cancelled.status == "cancelled" and "not been seen" in cancelled.message
    assert manager.wait(waiting.job_id, 60).status == "completed"
    assert manager.wait(first.job_id, 30).status == "stopped"  # running jobs are never cancelled this way


def test_abandonment_setting(monkeypatch):
    monkeypatch.setenv("AEVIZ_ABANDON_SECONDS", "0")
    assert abandon_seconds_from_env() is None and JobManager().abandon_seconds is None
    monkeypatch.setenv("AEVIZ_ABANDON_SECONDS", "90")
    assert JobManager().abandon_seconds == 90.0
    monkeypatch.setenv("AEVIZ_ABANDON_SECONDS", "soon")
    with pytest.raises(AevizError, match="AEVIZ_ABANDON_SECONDS"):
        abandon_seconds_from_env()


def test_invalid_config_is_refused_at_submit_with_message(digits):
    manager = JobManager(max_running=1)
    with pytest.raises(InvalidConfig, match="k=500"):
        manager.submit(TrainConfig(dataset="digits", variant="plain", k=500, epochs=1.0), owner="s")
    assert manager.jobs() == []  # nothing queued


def test_unknown_job_and_env_setting(monkeypatch):
    with pytest.raises(AevizError):
        JobManager().view("job-nope")
    monkeypatch.setenv("AEVIZ_MAX_JOBS", "3")
    assert max_jobs_from_env() == 3 and JobManager().max_running == 3
    monkeypatch.setenv("AEVIZ_MAX_JOBS", "many")
    with pytest.raises(AevizError):
        max_jobs_from_env()


def test_each_training_thread_gets_its_share_of_the_cores(monkeypatch):
    import threading

    import torch

    from aeviz.training import device

    monkeypatch.setattr(device.os, "cpu_count", lambda: 4)
    seen = {}

    def work(max_running):
        device.share_cpu_threads(max_running)
        seen[max_running] = torch.get_num_threads()

    for max_running in (2, 8):
        thread = threading.Thread(target=work, args=(max_running,))
        thread.start()
        thread.join()
    assert seen == {2: 2, 8: 1}
    assert device.share_cpu_threads(1) == 4  # one job at a time: torch's own default is left alone


def test_the_first_snapshot_is_there_before_the_first_step(digits):
    """A page that just pressed Train can wait for the run's first picture: the snapshot taken before
    any training step, so it can draw it long before the figures' next redraw."""
    manager = JobManager(max_running=1)
    view = manager.submit(small(epochs=10_000.0), owner="s")
    first = manager.wait_showable(view.job_id, timeout=120)
    assert first.snapshot is not None and first.status == "running"
    assert first.test_history[0]["step"] == 0                 # taken before the first step
    manager.stop(view.job_id)
    ended = manager.wait(view.job_id, timeout=60)
    assert manager.wait_showable(view.job_id, timeout=0).status == ended.status == "stopped"
