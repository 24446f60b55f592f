"""The one connection to Ray that sweeps and page-started training jobs share.

`$AEVIZ_RAY_ADDRESS` (e.g. `head:6379` or `ray://head:10001`) names an existing cluster; without it,
sweeps start a local Ray instance and training jobs stay in the app's own process. On a cluster the
aeviz package is shipped to the workers with the job (`runtime_env.py_modules`), so the workers need
only Python, torch and Ray; results (weights as bytes) come back to this process, which saves them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError
from aeviz.tasks import describe_error

ADDRESS_ENV = "AEVIZ_RAY_ADDRESS"
INSTALL_HINT = ("the ray executor needs Ray, which is not installed; install it with "
                "`.venv/bin/python -m pip install -r requirements-ray.txt` (or use --executor local)")

RECONNECT_ENV = "RAY_gcs_rpc_server_reconnect_timeout_s"
OUTLIVE_CLUSTER_SECONDS = 7 * 24 * 3600

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
            root = Path(__file__).resolve().parent
            options["runtime_env"] = {"py_modules": [str(root)], "env_vars": forwarded_env()}
            try:
                init_on_owner_thread(ray, address=address, **options)
            except Exception as exc:
                raise AevizError(
                    f"cannot reach the Ray cluster at {address} ({describe_error(exc)}); is a head node "
                    f"running there (`ray start --head`), and if it uses token authentication, are "
                    f"RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN) set here?") from None
        else:
            # address="local": always a new instance here, never a cluster left running on this machine
            init_on_owner_thread(ray, address="local", num_cpus=num_cpus or os.cpu_count() or 1, **options)
    return ray


def init_on_owner_thread(ray, **options) -> None:
    """`ray.init(**options)` on a thread that lives as long as this process.

    Ray starts a local instance's processes (its GCS and raylet) with PR_SET_PDEATHSIG=SIGKILL, and Linux
    sends that signal when the *thread* that started them ends, not the process. Called from a job's or a
    page's thread, the head was killed the moment that thread ended: with the app, as the first jobs
    finished (traced here: both SIGKILLed together, the next jobs then hung or fell back to the app).
    The owner thread waits for ever; the head ends with the process, as it should."""
    outcome: dict[str, BaseException] = {}
    started = threading.Event()

    def own() -> None:
        try:
            ray.init(**options)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        started.set()
        if "error" not in outcome:
            threading.Event().wait()  # for ever: this thread's end would kill a local head

    threading.Thread(target=own, name="aeviz-ray-owner", daemon=True).start()
    started.wait()
    if "error" in outcome:
        raise outcome["error"]


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
