"""A sweep on a server counts against the job manager's limits: each point of a local sweep waits its turn in
the manager's queue (aeviz.jobs.slots), so with a limit of one training at once a sweep never trains beside a
job, and a sweep whose session has gone stops at its next point's turn (it once trained beside the queue,
thirty sweeps for thirty students, and kept running after its tab closed)."""

import time

from aeviz.jobs.manager import JobManager
from aeviz.jobs.sweep_executors import QueuedExecutor, make_executor
from aeviz.sweeps.engine import LocalExecutor
from aeviz.sweeps.runner import SweepRunner
from aeviz.sweeps.spec import SweepSpec
from aeviz.sweeps.store import SweepStore
from aeviz.training.config import TrainConfig
from aeviz.training.tasks import TrainerTask
from aeviz.training.trainer import Trainer
from tests.conftest import wait_until


def long_job(seed=0):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0, batch_size=128,
                       snapshot_seconds=0.0, seed=seed, device="cpu")


def spec(points=(2, 3), **budget):
    return SweepSpec(dataset="digits", variants=["plain"], grid={"k": list(points)}, fixed={"hidden": [32]},
                     device="cpu", **(budget or {"epochs": 100_000.0})).validated()



def training(manager, runner) -> int:
    """Trainings going on now: running jobs, and the sweep's point if one trains."""
    jobs = sum(1 for view in manager.jobs() if view.status in ("starting", "running"))
    return jobs + (runner.snapshot()[1] is not None)


def test_with_a_limit_of_one_a_sweep_waits_for_the_job_and_a_job_waits_for_the_sweep(digits, tmp_path):
    manager = JobManager(max_running=1, ray_address=None)
    job = manager.submit(long_job(), owner="ann")
    wait_until(lambda: manager.view(job.job_id).progress is not None)
    runner = SweepRunner(spec(), QueuedExecutor(manager, "bob"), sweeps=SweepStore(tmp_path)).start()
    try:
        wait_until(lambda: "waiting for a free training slot" in runner.progress.text)
        time.sleep(1.0)  # a while: it still waits (it once trained beside the job at once)
        assert training(manager, runner) == 1 and runner.snapshot()[1] is None
        manager.stop(job.job_id, owner="ann")
        wait_until(lambda: runner.snapshot()[1] is not None)  # its turn: the point trains
        later = manager.submit(long_job(seed=1), owner="cyd")
        assert later.status == "queued" and later.queue_position == 1  # behind the sweep's point
        for _ in range(10):
            assert training(manager, runner) == 1
            time.sleep(0.1)
    finally:
        runner.stop()
        assert runner.wait(60)
        manager.stop_all_and_wait(60)
    assert runner.sweep.status == "stopped"


def test_a_sweep_whose_session_has_gone_stops_at_its_next_points_turn(digits, tmp_path):
    manager = JobManager(max_running=1, ray_address=None, abandon_seconds=1.0)
    runner = SweepRunner(spec(points=(2, 3, 4), max_seconds=1.5), QueuedExecutor(manager, "gone"),
                         sweeps=SweepStore(tmp_path)).start()  # its tab then closes: no sign of "gone" again
    assert runner.wait(120)
    sweep = runner.sweep
    assert sweep.status == "stopped" and "not been seen" in sweep.message, sweep.message
    assert [p.status for p in sweep.points][:1] == ["completed"] and not all(p.done for p in sweep.points)


def test_a_sweep_whose_session_is_still_there_runs_to_the_end(digits, tmp_path):
    manager = JobManager(max_running=1, ray_address=None, abandon_seconds=1.0)
    runner = SweepRunner(spec(points=(2, 3), max_seconds=1.5), QueuedExecutor(manager, "here"),
                         sweeps=SweepStore(tmp_path)).start()
    deadline = time.monotonic() + 120
    while not runner.done and time.monotonic() < deadline:
        manager.touch("here")  # its page polls while the sweep runs
        time.sleep(0.1)
    assert runner.sweep.status == "completed" and all(p.status == "completed" for p in runner.sweep.points)


def test_make_executor_queues_local_sweeps_only_with_a_manager():
    manager = JobManager(max_running=1, ray_address=None)
    assert isinstance(make_executor("local", manager=manager, owner="s"), QueuedExecutor)
    assert isinstance(make_executor("local"), LocalExecutor)  # the command line: no server, no queue


def test_a_pages_trainer_waits_for_a_training_slot_and_gives_it_back(digits):
    manager = JobManager(max_running=1, ray_address=None)
    job = manager.submit(long_job(), owner="ann")
    config = TrainConfig(dataset="digits", variant="linear", k=3, epochs=1.0, device="cpu")
    task = TrainerTask(Trainer(config, digits), "a page's training")
    task.take_turns(manager.slot_gate("bob", task.label)).start()
    try:
        wait_until(lambda: "waiting for a free training slot" in task.progress.text)
        time.sleep(1.0)
        assert task.status == "queued" and not task.done  # the job has the only slot
        later = manager.submit(long_job(seed=1), owner="cyd")
        assert later.queue_position == 2  # behind the page's training
        manager.stop(job.job_id, owner="ann")
        assert task.wait(60) and task.status == "completed"  # its turn came, it trained
        wait_until(lambda: manager.view(later.job_id).status == "running")  # and gave the slot back
    finally:
        manager.stop_all_and_wait(60)


def test_a_pages_trainer_stopped_while_it_waits_is_cancelled(digits):
    manager = JobManager(max_running=1, ray_address=None)
    job = manager.submit(long_job(), owner="ann")
    task = TrainerTask(Trainer(TrainConfig(dataset="digits", variant="linear", k=3, epochs=1.0, device="cpu"), digits))
    task.take_turns(manager.slot_gate("bob", "t")).start()
    try:
        wait_until(lambda: task.status == "queued")
        task.stop()
        assert task.wait(30) and task.status == "cancelled"
        assert manager.position(job.job_id) is None and manager.view(job.job_id).status == "running"
    finally:
        manager.stop_all_and_wait(60)
