"""A sweep on a server counts against the job manager's limits: each point of a sweep holds one of the
manager's training slots (aeviz.jobs.slots), so with a limit of one training at once a sweep never trains beside
a job, and a sweep whose session has gone stops at its next point's turn (it once trained beside the queue,
thirty sweeps for thirty students, and kept running after its tab closed). A Ray sweep, which trains several
points at once, goes in batches of as many points as there are free slots (it once trained all its points on
the cluster beside the queue)."""

import threading
import time

import pytest

import aeviz.cluster.sweep_executor as ray_sweeps
from aeviz.jobs.manager import JobManager
from aeviz.jobs.sweep_executors import QueuedExecutor, make_executor
from aeviz.runs.store import RunStore
from aeviz.sweeps.engine import LocalExecutor, run_sweep
from aeviz.sweeps.events import PointOutcome, PointQueued
from aeviz.sweeps.runner import SweepRunner
from aeviz.sweeps.spec import SweepSpec
from aeviz.sweeps.store import Sweep, SweepStore
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


# ---------------------------------------------------------------------------- a Ray sweep takes the same slots
class StandInRay:
    """Stands in for aeviz.cluster.sweep_executor.RayExecutor (no cluster): like it, it starts every point it
    is given at once; it records each batch, the slots held while the batch runs, and after each outcome. A
    point ends when `go` is set (or stops when the sweep's stop is set)."""

    name = "ray"
    made: list["StandInRay"] = []

    def __init__(self, address=None, num_workers=None, manager=None):
        self.points_at_once = num_workers
        self.startup_seconds = 0.0
        self.manager = manager
        self.go = threading.Event()
        self.go.set()
        self.batches, self.held, self.held_after = [], [], []
        StandInRay.made.append(self)

    def start(self, spec) -> float:
        self.startup_seconds += 2.5
        return 2.5

    def run(self, sweep, points, stop):
        self.batches.append([p.values["k"] for p in points])
        self.held.append(self.manager.held_slots())
        for point in points:
            yield PointQueued(point)
        while not (self.go.wait(0.05) or stop.is_set()):
            pass
        for point in points:
            yield PointOutcome(point, "stopped" if stop.is_set() else "failed", "a stand-in: nothing trained")
            self.held_after.append(self.manager.held_slots())


@pytest.fixture
def ray_stand_in(monkeypatch):
    """make_executor("ray") makes a StandInRay that reads the manager the test names in `ray_stand_in.manager`."""
    StandInRay.made = []

    class Made(StandInRay):
        def __init__(self, address=None, num_workers=None):
            super().__init__(address, num_workers, manager=Made.manager)

    monkeypatch.setattr(ray_sweeps, "RayExecutor", Made)
    return Made


def ray_sweep(manager, ray_stand_in, owner="s", points=(2, 3, 4), num_workers=None):
    ray_stand_in.manager = manager
    executor = make_executor("ray", None, num_workers, manager=manager, owner=owner)
    return executor, StandInRay.made[-1], Sweep.create(spec(points=points))


def test_a_ray_sweep_on_a_busy_server_gives_the_cluster_one_point_per_free_slot(digits, tmp_path, ray_stand_in):
    manager = JobManager(max_running=2, ray_address=None)
    job = manager.submit(long_job(), owner="ann")
    wait_until(lambda: manager.view(job.job_id).status == "running")
    try:
        executor, ray, sweep = ray_sweep(manager, ray_stand_in)
        run_sweep(sweep, executor, sweeps=SweepStore(tmp_path))
        assert ray.batches == [[2], [3], [4]]  # the job has one slot: one point at a time beside it
        assert ray.held == [1, 1, 1] and manager.view(job.job_id).status == "running"
        assert sweep.executor == "ray" and sweep.startup_seconds == 2.5  # Ray's own name and start-up
        assert manager.held_slots() == 0
    finally:
        manager.stop_all_and_wait(60)


def test_a_ray_sweep_on_an_idle_server_takes_every_free_slot_and_gives_each_back_as_its_point_ends(
        tmp_path, ray_stand_in):
    manager = JobManager(max_running=2, ray_address=None)
    executor, ray, sweep = ray_sweep(manager, ray_stand_in)
    run_sweep(sweep, executor, sweeps=SweepStore(tmp_path))
    assert ray.batches == [[2, 3], [4]] and ray.held == [2, 1]
    assert ray.held_after == [1, 0, 0]  # each point's slot went back with its outcome
    assert manager.held_slots() == 0 and [p.status for p in sweep.points] == ["failed"] * 3


def test_a_ray_sweeps_batches_stay_within_its_workers(tmp_path, ray_stand_in):
    manager = JobManager(max_running=3, ray_address=None)
    executor, ray, sweep = ray_sweep(manager, ray_stand_in, points=(2, 3, 4, 5), num_workers=2)
    run_sweep(sweep, executor, sweeps=SweepStore(tmp_path))
    assert ray.batches == [[2, 3], [4, 5]] and ray.held == [2, 2]


def test_a_job_queued_during_a_ray_batch_starts_when_a_point_ends(digits, tmp_path, ray_stand_in):
    manager = JobManager(max_running=2, ray_address=None)
    executor, ray, sweep = ray_sweep(manager, ray_stand_in, points=(2, 3, 4))
    ray.go.clear()
    runner = SweepRunner(sweep, executor, sweeps=SweepStore(tmp_path)).start()
    try:
        wait_until(lambda: ray.batches == [[2, 3]])
        later = manager.submit(long_job(), owner="cyd")
        assert later.status == "queued"  # both slots are the sweep's
        ray.go.set()
        wait_until(lambda: manager.view(later.job_id).status == "running")  # it took a freed slot
        assert runner.wait(60) and ray.batches == [[2, 3], [4]]  # the sweep's last point waited its turn
        assert ray.held == [2, 1]
    finally:
        runner.stop()
        manager.stop_all_and_wait(60)


def test_a_ray_sweep_waits_for_a_slot_and_stops_when_its_session_has_gone(tmp_path, ray_stand_in):
    manager = JobManager(max_running=1, ray_address=None, abandon_seconds=0.3)
    other = manager.hold_slot("ann", "another sweep's point")
    assert other.wait_turn(threading.Event())
    executor, ray, sweep = ray_sweep(manager, ray_stand_in, owner="gone")
    runner = SweepRunner(sweep, executor, sweeps=SweepStore(tmp_path)).start()  # its tab then closes
    started = time.monotonic()
    try:
        wait_until(lambda: "waiting for a free training slot" in runner.progress.text)
        wait_until(lambda: time.monotonic() - started > 0.5)  # past abandon_seconds with no sign of "gone"
        assert ray.batches == []  # nothing went to the cluster while the slot was taken
    finally:
        manager.release(other)
    assert runner.wait(30)
    assert ray.batches == [] and sweep.status == "stopped" and "not been seen" in sweep.message, sweep.message


def test_stopping_a_ray_sweep_stops_its_batch_and_starts_no_other(tmp_path, ray_stand_in):
    manager = JobManager(max_running=1, ray_address=None)
    executor, ray, sweep = ray_sweep(manager, ray_stand_in)
    ray.go.clear()
    runner = SweepRunner(sweep, executor, sweeps=SweepStore(tmp_path)).start()
    try:
        wait_until(lambda: ray.batches == [[2]])
    finally:
        runner.stop()
    assert runner.wait(30) and ray.batches == [[2]] and sweep.status == "stopped"
    assert manager.held_slots() == 0


def test_make_executor_queues_ray_sweeps_only_with_a_manager(ray_stand_in):
    ray_stand_in.manager = None
    assert isinstance(make_executor("ray"), StandInRay)  # the command line: no server, no queue
    queued = make_executor("ray", manager=JobManager(max_running=1, ray_address=None), owner="s")
    assert isinstance(queued, QueuedExecutor) and queued.name == "ray"


def test_try_hold_slot_takes_only_a_slot_free_now():
    manager = JobManager(max_running=2, ray_address=None)
    first = manager.try_hold_slot("s", "a")
    assert first is not None and manager.held_slots() == 1
    second = manager.try_hold_slot("s", "b")
    assert second is not None and manager.held_slots() == 2
    assert manager.try_hold_slot("s", "c") is None  # full: nothing queued either
    waiting = manager.hold_slot("t", "d")
    manager.release(first)
    wait_until(lambda: waiting.granted.is_set())  # the queued hold got the freed slot, not a try
    manager.release(second)
    third = manager.try_hold_slot("s", "e")
    assert third is not None and manager.held_slots() == 2  # a slot was free and nothing waited
    for hold in (waiting, third):
        manager.release(hold)
    assert manager.held_slots() == 0


def test_a_real_ray_sweep_waits_for_the_servers_slot_then_trains(ray_instance, tmp_path):
    manager = JobManager(max_running=1, ray_address=None)
    other = manager.hold_slot("ann", "a job's slot")
    assert other.wait_turn(threading.Event())
    executor = make_executor("ray", None, 2, manager=manager, owner="s")
    runner = SweepRunner(spec(points=(2, 3), epochs=1.0), executor, store=RunStore(tmp_path),
                         sweeps=SweepStore(tmp_path / ".sweeps")).start()
    try:
        wait_until(lambda: "waiting for a free training slot" in runner.progress.text, timeout=120)  # Ray started
        assert [p.status for p in runner.snapshot()[0].points] == ["pending", "pending"]  # none sent to Ray
    finally:
        manager.release(other)
    assert runner.wait(120)
    sweep = runner.sweep
    assert sweep.executor == "ray" and [p.status for p in sweep.points] == ["completed", "completed"]
    assert manager.held_slots() == 0 and len(RunStore(tmp_path).list()) == 2
