"""A Ray cluster that goes away mid-session: the job whose worker it took, and every later job, train in the
app's own process with a note; probing a cluster never waits longer than its timeout."""

import os
import threading
import time

import pytest

from aeviz.cluster import connection as ray_cluster
from aeviz.training.config import TrainConfig
from aeviz.jobs.executors import ON_RAY, live_nodes
from aeviz.jobs.manager import JobManager
from aeviz.runs.store import RunStore
from tests.conftest import wait_until

RAY_TIMEOUT = 300  # a fresh actor imports torch in a new process; slow on a loaded 2-core machine


def small(epochs=2.0):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=epochs, batch_size=128,
                       snapshot_seconds=0.0, seed=3)


def test_a_cluster_lost_mid_run_sends_its_job_and_later_ones_here(monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.delenv("AEVIZ_MAX_JOBS", raising=False)
    monkeypatch.delenv(ray_cluster.RECONNECT_ENV, raising=False)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        manager = JobManager(ray_address="local")  # joins the instance just started
        job_id = manager.submit(small(epochs=10_000.0), owner="s").job_id
        on_ray = wait_until(lambda: (v := manager.view(job_id)).progress is not None and v, RAY_TIMEOUT,
                            "progress on the Ray worker")
        assert on_ray.where == ON_RAY and manager.max_running == 2
        # the app outlives a lost head: Ray would otherwise end this process after 60 s without one
        assert int(os.environ[ray_cluster.RECONNECT_ENV]) >= 24 * 3600
    finally:
        ray.shutdown()  # the cluster goes away, the job's actor with it

    started = time.monotonic()
    here = wait_until(lambda: (v := manager.view(job_id)).where.startswith("started again") and v.progress and v,
                      120, "the job starting again in this process")
    assert "the Ray cluster was lost" in here.where and here.status == "running"
    assert time.monotonic() - started < 60  # noticed at once, not after a long silence
    assert manager.max_running == 1         # back to the in-process limit
    done = manager.wait(manager.stop(job_id).job_id, timeout=120)
    assert done.status == "stopped" and "started again in the app's own process" in done.message
    assert done.run_id is not None and RunStore().load(done.run_id).info.metrics["test_mse"] > 0

    later = manager.wait(manager.submit(small(), owner="t").job_id, timeout=120)
    assert later.status == "completed", later.message
    assert "in the app's own process: the Ray cluster at local was lost" in later.message
    assert not ray.is_initialized()  # it did not start a new instance behind the operator's back


class SilentRay:
    def __init__(self, nodes=None, error=None, hang=False, initialized=True):
        self._nodes, self._error, self._hang, self._initialized = nodes, error, hang, initialized
        self.release = threading.Event()

    def is_initialized(self):
        return self._initialized

    def nodes(self):
        if self._hang:
            self.release.wait(30)
        if self._error:
            raise self._error
        return self._nodes


def test_probing_a_cluster_never_waits_past_its_timeout():
    hung = SilentRay(nodes=[], hang=True)
    started = time.monotonic()
    nodes, why = live_nodes(hung, timeout=0.5)
    assert time.monotonic() - started < 5 and nodes == [] and "did not answer within" in why
    hung.release.set()
    assert live_nodes(SilentRay(error=ConnectionError("GCS unreachable\nmore")), timeout=5) == ([], "GCS unreachable")
    assert live_nodes(SilentRay(error=AssertionError("never asked"), initialized=False)) == (
        [], "Ray was shut down in the app's process")
    dead_only = SilentRay(nodes=[{"Alive": False, "Resources": {"CPU": 4.0}}])
    assert live_nodes(dead_only, timeout=5) == ([], "no live node is left")
    alive = {"Alive": True, "Resources": {"CPU": 4.0}}
    assert live_nodes(SilentRay(nodes=[alive, {"Alive": False}]), timeout=5) == ([alive], "")


class SlowOnceRay(SilentRay):
    """A head that misses the first probe (a busy machine), then answers."""

    def __init__(self, nodes):
        super().__init__(nodes=nodes)
        self.calls = 0

    def nodes(self):
        self.calls += 1
        if self.calls == 1:
            self.release.wait(30)
        return self._nodes


def test_a_head_slow_to_answer_once_is_asked_again_not_given_up():
    alive = {"Alive": True, "Resources": {"CPU": 2.0}}
    slow = SlowOnceRay([alive])
    assert live_nodes(slow, timeout=0.3, attempts=3) == ([alive], "")
    assert slow.calls == 2
    never = SilentRay(nodes=[alive], hang=True)
    started = time.monotonic()
    nodes, why = live_nodes(never, timeout=0.3, attempts=3)  # three misses in a row: given up
    assert nodes == [] and "did not answer within" in why and time.monotonic() - started < 5
    never.release.set()
    slow.release.set()
    gone = SilentRay(error=ConnectionError("GCS unreachable"))
    assert live_nodes(gone, timeout=5, attempts=3) == ([], "GCS unreachable")  # a failure is not waited on


def test_jobs_submitted_together_ask_the_head_once(monkeypatch):
    """A class pressing Train at once: the first job asks the head which nodes it has, the next ones within
    TRUST_SECONDS do not (a head busy starting their workers missed its probes under load)."""
    import aeviz.cluster.connection
    import aeviz.cluster.jobs
    from aeviz.training.config import TrainConfig
    from aeviz.jobs.executors import TRUST_SECONDS, JobCluster

    class CountingRay(SilentRay):
        calls = 0

        def nodes(self):
            CountingRay.calls += 1
            return super().nodes()

    class PlacedSource:
        def __init__(self, ray, config, store, **kwargs):
            self.note = ON_RAY

    head = CountingRay(nodes=[{"Alive": True, "Resources": {"CPU": 4.0}}])
    monkeypatch.setattr(aeviz.cluster.connection, "connect", lambda address: head)
    monkeypatch.setattr(aeviz.cluster.jobs, "RayTrainingSource", PlacedSource)
    limits = []
    now = [1000.0]
    cluster = JobCluster("local", set_limit=limits.append, clock=lambda: now[0])
    config = TrainConfig(dataset="digits", variant="plain", k=8, epochs=1.0)
    for _ in range(5):
        source, where = cluster.source_for(config, None, None, fallback=lambda: None)
        assert where == ON_RAY and isinstance(source, PlacedSource)
    assert CountingRay.calls == 1 and limits == [4]
    now[0] += TRUST_SECONDS + 1  # a minute later the next job asks again
    cluster.source_for(config, None, None, fallback=lambda: None)
    assert CountingRay.calls == 2


def test_a_job_waiting_for_its_worker_notices_a_gone_head_in_seconds(monkeypatch):
    """A job whose actor has not started yet waits up to STARTUP_TIMEOUT_SECONDS (a busy cluster); it
    asks the head every HEAD_CHECK_SECONDS, so a head that is gone sends it back here at once instead."""
    import aeviz.cluster.jobs as ray_jobs
    from aeviz.jobs.executors import JobCluster

    class NeverReady(SilentRay):
        def wait(self, refs, timeout):
            time.sleep(timeout)
            return [], refs

    class Method:
        def remote(self, *args):
            return object()

    class Actor:
        poll = Method()

    monkeypatch.setattr(ray_jobs, "HEAD_CHECK_SECONDS", 0.5)
    head = NeverReady(error=ConnectionError("GCS unreachable"))
    cluster = JobCluster("local")
    source = ray_jobs.RayTrainingSource(head, small(), cluster=cluster, fallback=lambda: None)
    started = time.monotonic()
    with pytest.raises(ray_jobs.WorkerLost, match="head stopped answering"):
        source.poll(Actor(), 0, started, started=False)
    assert time.monotonic() - started < 10 < ray_jobs.STARTUP_TIMEOUT_SECONDS
    assert "GCS unreachable" in cluster.lost


def test_a_given_up_cluster_is_not_asked_again():
    from aeviz.jobs.executors import JobCluster

    class Counting(SilentRay):
        calls = 0

        def nodes(self):
            Counting.calls += 1
            return super().nodes()

    cluster = JobCluster("local")
    gone = Counting(error=ConnectionError("GCS unreachable"))
    assert not cluster.still_there(gone) and Counting.calls == 1 and "GCS unreachable" in cluster.lost
    assert not cluster.still_there(gone) and Counting.calls == 1  # the job's fallback asks again: no new probe
