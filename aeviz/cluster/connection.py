"""The one connection to Ray that sweeps and page-started training jobs share.

`$AEVIZ_RAY_ADDRESS` (e.g. `head:6379` or `ray://head:10001`) names an existing cluster; without it,
sweeps start a local Ray instance and training jobs stay in the app's own process. On a cluster the
aeviz package is shipped to the workers with the job (`runtime_env.py_modules`), so the workers need
only Python, torch and Ray; results (weights as bytes) come back to this process, which saves them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError
from aeviz.server_settings import RAY_ADDRESS_ENV
from aeviz.training.tasks import describe_error

ADDRESS_ENV = RAY_ADDRESS_ENV  # the server's setting (aeviz.server_settings), never a page's
INSTALL_HINT = ("the ray executor needs Ray, which is not installed; install it with "
                "`.venv/bin/python -m pip install -r requirements-ray.txt` (or use --executor local)")

RECONNECT_ENV = "RAY_gcs_rpc_server_reconnect_timeout_s"
OUTLIVE_CLUSTER_SECONDS = 7 * 24 * 3600

# Ray's own ray.init(address=...) waits for ever on an address where nothing answers (it retries the GCS
# every few seconds; over 3 min traced here, with and without RECONNECT_ENV): a typo in the address would
# hang the first job, and every job after it behind _connect_lock. So the port is knocked on first, and
# the join itself is given CONNECT_SECONDS.
PORT_PROBE_SECONDS = 5.0
CONNECT_SECONDS = 60.0

_connect_lock = threading.Lock()


def import_ray():
    try:
        import ray
    except ImportError:
        raise AevizError(INSTALL_HINT) from None
    return ray


def ray_available() -> bool:
    try:
        import_ray()
    except AevizError:
        return False
    return True


def configured_address(address: str | None = None) -> str | None:
    """The cluster to join: `address` if given, else `$AEVIZ_RAY_ADDRESS`; None when neither is set."""
    return (address or os.environ.get(ADDRESS_ENV, "")).strip() or None


def connect(address: str | None = None, num_cpus: int | None = None):
    """Join the cluster at `address` (or start a local instance with `num_cpus` when None), once per
    process; returns the ray module. An unreachable cluster is an AevizError that says what to check."""
    ray = import_ray()
    no_auto_start(ray)
    # Ray ends a driver whose head has not answered for 60 s ("Failed to connect to GCS within 60 seconds
    # ... The program will terminate", seen here): that would take the app and every session with it. Read
    # when Ray starts in this process; jobs notice a lost cluster through their own timeouts instead.
    os.environ.setdefault(RECONNECT_ENV, str(OUTLIVE_CLUSTER_SECONDS))
    with _connect_lock:
        if ray.is_initialized():
            return ray
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
        if address:
            root = Path(__file__).resolve().parents[1]  # the aeviz package
            options["runtime_env"] = {"py_modules": [str(root)], "env_vars": forwarded_env()}
            hint = ("is a head node running there (`ray start --head`), and if it uses token authentication, "
                    "are RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN) set here?")
            try:
                knock(address)
                init_on_owner_thread(ray, wait_seconds=CONNECT_SECONDS, address=address, **options)
            except Unreachable as exc:
                raise AevizError(f"cannot reach the Ray cluster at {address} ({exc}); {hint}") from None
            except JoinStillWaiting as exc:
                raise AevizError(f"the Ray cluster at {address} has not answered in {exc.waited:.0f} s; "
                                 f"{hint}") from None
            except Exception as exc:
                raise AevizError(f"cannot reach the Ray cluster at {address} ({describe_error(exc)}); {hint}") from None
        else:
            # address="local": always a new instance here, never a cluster left running on this machine
            init_on_owner_thread(ray, address="local", num_cpus=num_cpus or os.cpu_count() or 1, **options)
    return ray


class JoinStillWaiting(Exception):
    """ray.init has run longer than the caller would wait; it goes on."""

    def __init__(self, waited: float):
        super().__init__(f"ray.init has waited {waited:.0f} s")
        self.waited = waited


class _OwnerThread:
    """One call of ray.init, on a thread of its own that lives as long as this process (if it succeeds)."""

    def __init__(self, ray, options: dict[str, Any]):
        self.started_at = time.monotonic()
        self.done = threading.Event()
        self.error: BaseException | None = None
        threading.Thread(target=self._own, args=(ray, options), name="aeviz-ray-owner", daemon=True).start()

    def _own(self, ray, options: dict[str, Any]) -> None:
        try:
            ray.init(**options)
        except BaseException as exc:  # handed to the callers
            self.error = exc
        self.done.set()
        if self.error is None:
            threading.Event().wait()  # for ever: this thread's end would kill a local head


_owner: _OwnerThread | None = None


def init_on_owner_thread(ray, wait_seconds: float | None = None, **options) -> None:
    """`ray.init(**options)` on a thread that lives as long as this process.

    Ray starts a local instance's processes (its GCS and raylet) with PR_SET_PDEATHSIG=SIGKILL, and Linux
    sends that signal when the *thread* that started them ends, not the process. Called from a job's or a
    page's thread, the head was killed the moment that thread ended: with the app, as the first jobs
    finished (traced here: both SIGKILLed together, the next jobs then hung or fell back to the app).
    The owner thread waits for ever; the head ends with the process, as it should.

    `wait_seconds`: JoinStillWaiting once ray.init has run that long (it goes on: a later call waits for the
    same one, up to the same deadline, instead of starting a second ray.init). Callers hold _connect_lock."""
    global _owner
    if _owner is None or _owner.done.is_set():  # none yet, or the last one ended (failed, or was shut down)
        _owner = _OwnerThread(ray, options)
    owner = _owner
    remaining = None if wait_seconds is None else max(0.0, owner.started_at + wait_seconds - time.monotonic())
    if not owner.done.wait(remaining):
        raise JoinStillWaiting(time.monotonic() - owner.started_at)
    if owner.error is not None:
        raise owner.error


def head_endpoint(address: str) -> tuple[str, int] | None:
    """(host, port) of a cluster address (`head:6379`, `ray://head:10001`, `[::1]:6379`), or None for one
    Ray resolves itself (`auto`)."""
    rest = address.split("://", 1)[-1]
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


class Unreachable(Exception):
    """Nothing answers at a cluster's address; the message says what was seen."""


def knock(address: str) -> None:
    """Unreachable (saying why) unless something accepts a TCP connection at the address's port."""
    endpoint = head_endpoint(address)
    if endpoint is None:
        return
    try:
        socket.create_connection(endpoint, timeout=PORT_PROBE_SECONDS).close()
    except socket.gaierror:
        raise Unreachable(f"the host name {endpoint[0]!r} is not known") from None
    except TimeoutError:
        raise Unreachable(f"nothing answered on port {endpoint[1]} within {PORT_PROBE_SECONDS:.0f} s") from None
    except OSError as exc:
        raise Unreachable(f"nothing accepts connections on port {endpoint[1]}: {exc.strerror or exc}") from None


def no_auto_start(ray) -> None:
    """Ray starts a new local instance when a call finds it not connected: after a lost or shut-down cluster
    that would be a second Ray on the app's machine, unasked. Callers check `ray.is_initialized()` first;
    this closes the gap between that check and the call (Ray's own RAY_ENABLE_AUTO_CONNECT=0, set late)."""
    hook = getattr(getattr(ray, "_private", None), "auto_init_hook", None)
    if hook is not None and hasattr(hook, "enable_auto_connect"):
        hook.enable_auto_connect = False


def cluster_cpus(ray) -> int:
    """The cluster's CPUs, as Ray counts them (all nodes together)."""
    return int(ray.cluster_resources().get("CPU", 1))


def forwarded_env() -> dict[str, str]:
    """aeviz settings a remote worker should share with the driver (not paths to the driver's disk)."""
    return {name: os.environ[name] for name in ("AEVIZ_OFFLINE",) if name in os.environ}


def first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
