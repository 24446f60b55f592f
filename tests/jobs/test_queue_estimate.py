"""The queue's estimated start for each waiting job, from the running jobs' time left and the slots."""

import time
from types import SimpleNamespace

import pytest

from aeviz.training.config import TrainConfig
from aeviz.jobs.manager import JobManager
from aeviz.jobs.queue_estimate import estimated_starts, queue_starts


def test_queued_jobs_take_the_earliest_free_slot_in_order():
    assert estimated_starts([30, 60], [10, 10, 10], slots=2) == [30, 40, 50]
    assert estimated_starts([], [5, 5, 5], slots=2) == [0, 0, 5]          # idle slots start at once
    assert estimated_starts([1, 5, 10], [3], slots=2) == [5]              # over the limit: two must end


def test_an_unknown_budget_makes_the_starts_behind_it_unknown():
    assert estimated_starts([None, 20], [10, None, 10], slots=2) == [20, 30, None]
    assert estimated_starts([None], [10], slots=1) == [None]


def test_work_holding_or_waiting_for_a_slot_makes_the_starts_behind_it_unknown():
    views = [view("a", "queued", max_seconds=10, position=1), view("b", "queued", max_seconds=10, position=3)]
    assert queue_starts(views, slots=2) == {"a": 0.0, "b": 10.0}  # position 2: a sweep's point, length unknown
    assert queue_starts(views, slots=1) == {"a": 0.0, "b": None}
    assert queue_starts(views, slots=2, held=1) == {"a": 0.0, "b": None}  # one slot is a page's trainer's
    assert queue_starts([view("a", "queued", max_seconds=10, position=1)], slots=1, held=1) == {"a": None}


def view(job_id, status, dataset="digits", epochs=None, max_seconds=None, position=None, progress=None):
    config = SimpleNamespace(dataset=dataset, epochs=epochs, max_seconds=max_seconds)
    return SimpleNamespace(job_id=job_id, status=status, config=config, queue_position=position, progress=progress)


def test_epoch_budgets_are_timed_at_the_running_jobs_pace():
    pace = SimpleNamespace(epoch=5.0, elapsed=10.0, eta_seconds=20.0)  # 2 s an epoch on digits
    views = [view("run", "running", epochs=15, progress=pace),
             view("a", "queued", epochs=10, position=1),                # 20 s at that pace
             view("b", "queued", max_seconds=30, position=2),
             view("c", "queued", dataset="mnist", epochs=1, position=3),  # no pace known on MNIST
             view("d", "queued", max_seconds=5, position=4)]
    assert queue_starts(views, slots=1) == {"a": 20.0, "b": 40.0, "c": 70.0, "d": None}
    assert queue_starts(views, slots=2) == {"a": 0.0, "b": 20.0, "c": 20.0, "d": 50.0}


def test_a_managers_queue_has_estimates_that_follow_the_budgets():
    manager = JobManager(max_running=1, ray_address=None)
    configs = [TrainConfig(dataset="digits", variant="linear", k=4, max_seconds=s, batch_size=128, seed=1)
               for s in (4.0, 2.0, 3.0)]
    first, second, third = (manager.submit(c, owner="s").job_id for c in configs)
    deadline = time.monotonic() + 60
    while manager.view(first).progress is None and time.monotonic() < deadline:
        time.sleep(0.05)
    starts = queue_starts(manager.jobs(), manager.max_running)
    assert set(starts) == {second, third}
    assert 0 <= starts[second] <= 4.0
    assert starts[third] == pytest.approx(starts[second] + 2.0)
    manager.stop(first)
    for job_id in (first, second, third):
        manager.wait(job_id, timeout=60)
