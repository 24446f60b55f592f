"""Stopping the process stops and saves its training jobs: JobManager.stop_all_and_wait, and a child
process that gets SIGTERM or Ctrl-C while a job trains exits cleanly with the run saved as stopped."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

from aeviz.training.config import TrainConfig
from aeviz.jobs.manager import JobManager
from aeviz.runs.store import RunStore
from tests.conftest import ROOT


def long_job(seed: int = 0):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0, batch_size=128,
                       snapshot_seconds=0.0, seed=seed)


def wait_for_steps(manager, job_id, steps=5):
    for _ in range(600):
        view = manager.view(job_id)
        if view.progress is not None and view.progress.step > steps:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the job never started training")


def test_stop_all_and_wait_saves_running_jobs_as_stopped_and_cancels_queued(digits):
    manager = JobManager(max_running=1)
    running = manager.submit(long_job(), owner="a")
    queued = manager.submit(long_job(seed=1), owner="b")  # another configuration (the same one would follow)
    wait_for_steps(manager, running.job_id)
    views = {view.job_id: view for view in manager.stop_all_and_wait(timeout=30)}
    assert views[running.job_id].status == "stopped"
    assert views[queued.job_id].status == "cancelled"
    assert manager.active_count() == 0
    saved = RunStore().info(views[running.job_id].run_id)
    assert saved.metrics["status"] == "stopped" and 0 < saved.metrics["steps"]
    assert saved.metrics["epochs"] < 100_000


CHILD = textwrap.dedent("""
    import signal, sys, time
    if sys.argv[1:] == ["as-in-a-terminal"]:  # Ctrl-C interrupts, however the tests were started (a script's
        signal.signal(signal.SIGINT, signal.default_int_handler)  # `&` would have them ignore SIGINT)
    from aeviz.training.config import TrainConfig
    from aeviz.jobs.manager import default_manager
    manager = default_manager()
    job = manager.submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0,
                                     batch_size=128, snapshot_seconds=0.0), owner="child")
    while (manager.view(job.job_id).progress is None) or manager.view(job.job_id).progress.step < 5:
        time.sleep(0.05)
    print("training", flush=True)
    time.sleep(120)
""")


def start_child(tmp_path, ignore_sigint: bool = False):
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path), "AEVIZ_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    args = [] if ignore_sigint else ["as-in-a-terminal"]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=ignore)
    assert child.stdout.readline().strip() == "training", child.stderr.read()
    return child


def run_child_and_signal(tmp_path, signum):
    child = start_child(tmp_path)
    try:
        child.send_signal(signum)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, child.stderr.read()


def saved_statuses(runs_dir):
    return [info.metrics["status"] for info in RunStore(runs_dir).list()]


def test_sigterm_stops_and_saves_the_job_and_exits_cleanly(tmp_path):
    code, stderr = run_child_and_signal(tmp_path, signal.SIGTERM)
    assert code == 0, stderr
    assert "terminate called" not in stderr
    assert saved_statuses(tmp_path) == ["stopped"]


def test_ctrl_c_stops_and_saves_the_job(tmp_path):
    code, stderr = run_child_and_signal(tmp_path, signal.SIGINT)
    # Python ends an uncaught KeyboardInterrupt by dying of SIGINT itself (-2); never an abort (-6)
    assert code in (0, -signal.SIGINT), stderr
    assert "terminate called" not in stderr
    assert saved_statuses(tmp_path) == ["stopped"]


def test_a_process_started_ignoring_ctrl_c_keeps_training_through_it(tmp_path):
    # `nohup` or `&` in a script starts a process with SIGINT ignored: it must carry on training, not stop
    # its jobs and then carry on with nothing to do (as it did); SIGTERM still stops and saves them.
    child = start_child(tmp_path, ignore_sigint=True)
    try:
        child.send_signal(signal.SIGINT)
        threading.Event().wait(3.0)  # a stop and save takes well under a second on the digits
        assert child.poll() is None and saved_statuses(tmp_path) == []
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, child.stderr.read()
    assert saved_statuses(tmp_path) == ["stopped"]


EARLY_EXIT = textwrap.dedent("""
    from aeviz.training.config import TrainConfig
    from aeviz.jobs.manager import default_manager
    default_manager().submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0,
                                         batch_size=128, snapshot_seconds=0.0), owner="child")
    # the main thread returns at once (as Streamlit's does on SIGTERM): the job's thread is still importing
    # torch and building its trainer while the interpreter shuts down
""")


def test_an_exit_while_the_job_still_imports_torch_is_clean(tmp_path):
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path), "AEVIZ_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", EARLY_EXIT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr[-3000:]
    assert saved_statuses(tmp_path) == ["stopped"]  # the job got going, was stopped and saved
