"""A local Ray head must outlive the thread that started it.

Ray starts a local instance's GCS and raylet with PR_SET_PDEATHSIG=SIGKILL, which Linux sends when the
thread that started them ends. The app connects from a job's thread, so the head used to die with the
first finished job. Run in a child process: this test module's own Ray must not be the one tested."""

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import threading, time
    from aeviz.cluster import connection as ray_cluster
    asker = threading.Thread(target=ray_cluster.connect, kwargs={"num_cpus": 1})
    asker.start()
    asker.join()
    time.sleep(3)  # the thread that started Ray has ended
    ray = ray_cluster.import_ray()

    @ray.remote
    def answer():
        return 42

    print("answer", ray.get(answer.remote(), timeout=90), flush=True)
""")


def run_child() -> subprocess.CompletedProcess:
    # Without the owner thread (ray.init straight from `asker`) this child never answers: its head is
    # killed as `asker` ends, and the driver waits for it to come back (tried: no answer in 240 s).
    return subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=240)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_a_local_head_started_from_a_thread_outlives_that_thread():
    pytest.importorskip("ray")
    done = run_child()
    assert "answer 42" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]

