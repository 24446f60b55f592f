"""A process that exits while background work runs (a page's trainer, a sweep, a training job) exits 0 with
that work stopped and saved: every BackgroundTask is known to aeviz.training.tasks.TASKS, which stops and
joins them at interpreter exit (the process once aborted with 134, "terminate called without an active
exception", when torch was torn down under a running task)."""

import os
import subprocess
import sys
import textwrap

from aeviz.sweeps.store import SweepStore
from aeviz.training.tasks import BackgroundTask, TASKS, TaskRegistry
from tests.conftest import ROOT

WORK_THEN_EXIT = textwrap.dedent("""
    import time
    from aeviz.data.datasets import load_dataset
    from aeviz.sweeps.runner import SweepRunner
    from aeviz.sweeps.spec import SweepSpec
    from aeviz.training.config import TrainConfig
    from aeviz.training.tasks import TrainerTask
    from aeviz.training.trainer import Trainer

    long = TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0, batch_size=32,
                       snapshot_seconds=0.0, device="cpu")
    trainer = TrainerTask(Trainer(long, load_dataset("digits")), "a page's training").start()
    sweep = SweepRunner(SweepSpec(dataset="digits", variants=["plain"], grid={"k": [2, 3, 4]},
                                  epochs=100_000.0, fixed={"hidden": [32]}, device="cpu").validated()).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (trainer.progress.fraction > 0 and sweep.snapshot()[1]):
        time.sleep(0.05)
    print("both running" if trainer.running and sweep.running else "not both running", flush=True)
    # the main thread returns with both tasks' threads inside torch
""")


def test_a_process_exiting_with_a_task_and_a_sweep_running_exits_cleanly(tmp_path):
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path), "AEVIZ_SWEEPS_DIR": str(tmp_path / "sweeps"),
           "AEVIZ_OFFLINE": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", WORK_THEN_EXIT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.stdout.startswith("both running"), done.stdout + done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "terminate called" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
    # the sweep ended as stopped and says so in its file (its point in progress stopped, not saved as a run)
    assert [(sweep.status, sweep.points[0].status) for sweep in SweepStore(tmp_path / "sweeps").list()] == [
        ("stopped", "stopped")]


class Waits(BackgroundTask):
    """Work that runs until it is stopped."""

    def work(self):
        self.stop_event.wait(60)
        return "stopped in time"


def test_every_started_task_is_known_until_it_ends_and_stopping_them_all_waits_for_them():
    registry = TaskRegistry()
    tasks = [Waits("one"), Waits("two")]
    for task in tasks:
        assert registry.add(task)
        task.start()  # also known to the process's registry, TASKS
    assert set(registry.live()) == set(tasks) and set(tasks) <= set(TASKS.live())
    order = []
    registry.stop_first(lambda: order.append("first"))
    assert registry.stop_all_and_wait(timeout=30) == []
    assert order == ["first"] and all(task.done and task.result == "stopped in time" for task in tasks)
    assert not registry.add(Waits("late"))  # once closing, nothing more starts


def test_a_task_started_while_the_process_exits_is_cancelled_not_run(monkeypatch):
    closed = TaskRegistry()
    closed.stop_all_and_wait(timeout=1)
    monkeypatch.setattr("aeviz.training.tasks.TASKS", closed)
    task = Waits("late").start()
    assert task.done and task.status == "cancelled" and "exiting" in task.message
