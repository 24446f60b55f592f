"""One training per configuration, and a bounded queue per session.

A press on a configuration already queued or training (the same fingerprint) follows that job instead of
queuing a duplicate (ten students on one lesson link once made ten jobs, the tenth waiting for nine identical
trainings); a follower leaves without stopping it for the others, and it stops when the last one leaves or the
teacher stops it. One session may have at most max_queued runs waiting (one session once queued 16 runs
ahead of a newcomer's)."""

import threading

import pytest

from aeviz.errors import AevizError, QueueFull
from aeviz.jobs.manager import JobManager
from aeviz.runs.store import RunStore
from aeviz.server_settings import max_queued_from_env
from aeviz.training.config import TrainConfig
from tests.conftest import wait_until


def config(seed=0, epochs=100_000.0):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=epochs, batch_size=128,
                       snapshot_seconds=0.0, seed=seed, device="cpu")



def steps(manager, job_id) -> int:
    progress = manager.view(job_id).progress
    return progress.step if progress is not None else 0


def test_ten_sessions_pressing_train_on_one_configuration_share_one_training(digits):
    manager = JobManager(max_running=2, ray_address=None)
    owners = [f"student{i}" for i in range(10)]
    views, barrier = {}, threading.Barrier(len(owners))

    def press(owner):  # all at once, as a class opening one lesson link
        barrier.wait(30)
        views[owner] = manager.submit(config(), owner=owner)

    threads = [threading.Thread(target=press, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    job_ids = {view.job_id for view in views.values()}
    assert len(job_ids) == 1 and len(manager.jobs()) == 1  # one job, one training
    job_id = job_ids.pop()
    assert manager.view(job_id).followers == frozenset(owners)
    assert all([v.job_id for v in manager.jobs(owner=owner)] == [job_id] for owner in owners)  # each follows it live
    wait_until(lambda: steps(manager, job_id) > 3)

    for owner in owners[:9]:  # nine leave: it goes on for the last one
        manager.stop(job_id, owner=owner)
        assert manager.jobs(owner=owner) == []
    before = steps(manager, job_id)
    wait_until(lambda: steps(manager, job_id) > before + 3)
    assert manager.view(job_id).status == "running" and manager.view(job_id).followers == {owners[9]}

    manager.stop(job_id, owner=owners[9])  # the last follower leaving stops it, saved as stopped
    done = manager.wait(job_id, 60)
    assert done.status == "stopped" and done.run_id
    assert [info.metrics["status"] for info in RunStore().list()] == ["stopped"]
    assert [v.job_id for v in manager.jobs(owner=owners[9])] == [job_id]  # the last one still sees its run


def test_a_session_that_does_not_follow_cannot_stop_and_the_teacher_stops_for_everyone(digits):
    manager = JobManager(max_running=1, ray_address=None)
    job_id = manager.submit(config(), owner="ann").job_id
    manager.submit(config(), owner="bob")
    with pytest.raises(AevizError, match="another session"):
        manager.stop(job_id, owner="eve")
    wait_until(lambda: steps(manager, job_id) > 0)
    manager.stop(job_id)  # no owner: the teacher
    assert manager.wait(job_id, 60).status == "stopped"


def test_a_follower_joins_a_queued_job_and_a_new_press_after_the_end_trains_again(digits):
    manager = JobManager(max_running=1, ray_address=None)
    running = manager.submit(config(seed=1), owner="ann")
    queued = manager.submit(config(epochs=1.0), owner="ann")
    followed = manager.submit(config(epochs=1.0), owner="bob")
    assert followed.job_id == queued.job_id and followed.queue_position == 1
    assert manager.view(queued.job_id).followers == {"ann", "bob"}
    manager.stop(running.job_id, owner="ann")
    assert manager.wait(queued.job_id, 60).status == "completed"
    again = manager.submit(config(epochs=1.0), owner="cyd")  # ended: not followed (the saved run is reused instead)
    assert again.job_id != queued.job_id
    manager.wait(again.job_id, 60)


def test_one_session_pressing_train_twenty_times_queues_at_most_its_limit(digits):
    limit = 3
    manager = JobManager(max_running=1, ray_address=None, max_queued=limit)
    accepted, refused = [], []
    for seed in range(20):
        try:
            accepted.append(manager.submit(config(seed=seed), owner="hog"))
        except QueueFull as exc:
            refused.append(str(exc))
    try:
        assert len(accepted) == 1 + limit  # one training, `limit` waiting
        assert manager.queued_count("hog") == limit
        assert len(refused) == 20 - 1 - limit
        assert "AEVIZ_MAX_QUEUED_PER_SESSION=3" in refused[0] and "cancel one" in refused[0]
        newcomer = manager.submit(config(seed=99), owner="newcomer")
        assert newcomer.queue_position == limit + 1  # right behind the hog's `limit`, not its twenty
        # following a queued run costs no place: the hog may still follow another session's run
        assert manager.submit(config(seed=99), owner="hog").job_id == newcomer.job_id
        manager.stop(accepted[1].job_id, owner="hog")  # cancelling one frees a place
        assert manager.submit(config(seed=50), owner="hog").status == "queued"
    finally:
        manager.stop_all_and_wait(60)



def test_a_sessions_waiting_sweep_point_or_page_task_counts_against_its_queue_limit(digits):
    """Holds (a sweep's next point, a page's training, a UMAP: each waits with one) are entries of the same
    queue: a session with one waiting and one run queued has used its limit of 2."""
    manager = JobManager(max_running=1, ray_address=None, max_queued=2)
    running = manager.submit(config(seed=1, epochs=1000.0), owner="other")
    hold = manager.hold_slot("hog", "sweep s-1: k=8")
    try:
        manager.submit(config(seed=2), owner="hog")
        assert manager.queued_count("hog") == 2
        with pytest.raises(QueueFull, match="run\\(s\\) or task\\(s\\) waiting"):
            manager.submit(config(seed=3), owner="hog")
        manager.release(hold)  # the sweep stopped waiting: a place is free again
        assert manager.queued_count("hog") == 1
        assert manager.submit(config(seed=3), owner="hog").status == "queued"
    finally:
        manager.release(hold)
        manager.stop(running.job_id)
        manager.stop_all_and_wait(60)


def test_the_queue_limit_setting(monkeypatch):
    monkeypatch.delenv("AEVIZ_MAX_QUEUED_PER_SESSION", raising=False)
    assert max_queued_from_env() == 3 and JobManager(ray_address=None).max_queued == 3
    monkeypatch.setenv("AEVIZ_MAX_QUEUED_PER_SESSION", "0")
    assert JobManager(ray_address=None).max_queued is None  # 0: no limit
    monkeypatch.setenv("AEVIZ_MAX_QUEUED_PER_SESSION", "many")
    with pytest.raises(AevizError, match="AEVIZ_MAX_QUEUED_PER_SESSION must be a whole number"):
        JobManager(ray_address=None)
