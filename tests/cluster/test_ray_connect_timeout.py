"""Joining a Ray cluster at a wrong address ends in seconds with a message, instead of Ray's wait for ever
(which hung the first job, and every job after it behind the connect lock)."""

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from aeviz.cluster import connection as ray_cluster
from aeviz.errors import AevizError


def test_an_address_gives_the_port_to_knock_on():
    assert ray_cluster.head_endpoint("head:6379") == ("head", 6379)
    assert ray_cluster.head_endpoint("ray://10.0.0.5:10001") == ("10.0.0.5", 10001)
    assert ray_cluster.head_endpoint("[::1]:6379") == ("::1", 6379)
    assert ray_cluster.head_endpoint("auto") is None  # Ray finds it itself
    assert ray_cluster.head_endpoint("head:port") is None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_port_where_nothing_listens_is_an_error_at_once_and_ray_is_not_started(monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setattr(ray_cluster, "init_on_owner_thread", lambda *a, **k: pytest.fail("ray.init was called"))
    address = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(AevizError, match="nothing accepts connections") as caught:
        ray_cluster.connect(address)
    assert time.monotonic() - started < ray_cluster.PORT_PROBE_SECONDS + 2
    assert address in str(caught.value) and "ray start --head" in str(caught.value)


def test_an_unknown_host_is_named():
    with pytest.raises(ray_cluster.Unreachable, match="'no-such-head.invalid' is not known"):
        ray_cluster.knock("no-such-head.invalid:6379")


class SlowRay:
    """ray.init blocks until released; counts its calls."""

    def __init__(self):
        self.calls = 0
        self.release = threading.Event()

    def init(self, **options):
        self.calls += 1
        self.release.wait(30)


def test_a_join_that_runs_past_its_wait_is_reported_and_not_started_twice():
    ray = SlowRay()
    with pytest.raises(ray_cluster.JoinStillWaiting):
        ray_cluster.init_on_owner_thread(ray, wait_seconds=0.3, address="head:6379")
    started = time.monotonic()
    with pytest.raises(ray_cluster.JoinStillWaiting):  # the same ray.init, past its deadline: no new wait
        ray_cluster.init_on_owner_thread(ray, wait_seconds=0.3, address="head:6379")
    assert time.monotonic() - started < 0.2
    assert ray.calls == 1
    ray.release.set()
    ray_cluster.init_on_owner_thread(ray, wait_seconds=5, address="head:6379")  # it answered in the end
    assert ray.calls == 1


SILENT_HEAD = """
import json, socket, threading, time
from aeviz.cluster import connection as ray_cluster
from aeviz.errors import AevizError
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(8)
held = []
def accept():
    while True:
        held.append(server.accept()[0])  # accepts, never answers
threading.Thread(target=accept, daemon=True).start()
ray_cluster.CONNECT_SECONDS = 4
address = f"127.0.0.1:{server.getsockname()[1]}"
out = {}
for attempt in ("first", "second"):
    started = time.monotonic()
    try:
        ray_cluster.connect(address)
        out[attempt] = {"error": None}
    except AevizError as exc:
        out[attempt] = {"error": str(exc), "seconds": time.monotonic() - started}
print(json.dumps(out), flush=True)
"""


def test_a_head_that_accepts_but_never_answers_is_given_up_after_the_wait():
    """In a child process: the ray.init left waiting there must not reach this one's Ray."""
    pytest.importorskip("ray")
    done = subprocess.run([sys.executable, "-c", SILENT_HEAD], capture_output=True, text=True, timeout=180)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    first, second = out["first"], out["second"]
    assert first["error"] and "has not answered in 4 s" in first["error"], first
    assert 3.5 < first["seconds"] < 30
    assert second["error"] and second["seconds"] < 1.0, second  # the same join, past its deadline
