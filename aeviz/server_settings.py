"""How many training jobs this server runs at once and how many one session may queue, when a queued job's
owner counts as gone, how often a training run is checkpointed, how many sessions it takes at once and how
much memory its caches may keep: the operator's settings, read from the environment (README, "Serving a class on one machine"). Every number is read by `number_from_env`, so each
bad value gets the same kind of one-line message naming the setting, what it takes and what it got."""

from __future__ import annotations

import math
import os

from aeviz.errors import AevizError

MAX_JOBS_ENV = "AEVIZ_MAX_JOBS"
MAX_QUEUED_ENV = "AEVIZ_MAX_QUEUED_PER_SESSION"
DEFAULT_MAX_QUEUED = 3  # runs one session may have waiting in the queue at once (more are refused at submit)
ABANDON_ENV = "AEVIZ_ABANDON_SECONDS"
CHECKPOINT_ENV = "AEVIZ_CHECKPOINT_SECONDS"
DEFAULT_ABANDON_SECONDS = 600.0  # a queued job whose owner has not been seen this long is cancelled at its turn
DEFAULT_CHECKPOINT_SECONDS = 30.0  # a crash loses at most this much training
MAX_CHECKPOINT_SECONDS = 3600.0
SESSION_IDLE_ENV = "AEVIZ_SESSION_IDLE_SECONDS"
DEFAULT_SESSION_IDLE_SECONDS = 12 * 3600.0  # a session id minted this long ago has expired, unless a tab of it is
                                            # open (aeviz.jobs.sessions; the name is kept for operators' settings)
SESSION_GRACE_SECONDS = 120.0  # a session whose tabs have all closed is forgotten this long after (aeviz.jobs.presence)
MAX_SESSIONS_ENV = "AEVIZ_MAX_SESSIONS"
DEFAULT_MAX_SESSIONS = 200  # sessions open at once (a class, with room to spare); a newcomer past it is told to wait
# What the process keeps in memory to answer again quickly, least recently used dropped past it (aeviz.lru):
# loaded datasets (Fashion-MNIST: 220 MB) and PCA fits (a 64x64 dataset's: 67 MB) in MB, UMAP embeddings in number.
CACHE_ENVS = {"datasets_mb": ("AEVIZ_CACHE_DATASETS_MB", 1024),
              "pca_mb": ("AEVIZ_CACHE_PCA_MB", 256),
              "embeddings": ("AEVIZ_CACHE_EMBEDDINGS", 32)}
# The Ray cluster is the teacher's choice, never a page's: its address is AEVIZ_RAY_ADDRESS (aeviz.cluster.connection);
# without one, pages may start a local Ray instance on this machine only where AEVIZ_RAY_LOCAL is 1.
RAY_ADDRESS_ENV = "AEVIZ_RAY_ADDRESS"
# Datasets uploaded in the app belong to their session (aeviz.data.user.owners); how many, and how many MB on
# disk, a session may keep, and all sessions together. The teacher's (added on the command line) do not count.
USER_DATA_ENVS = {"datasets_per_session": ("AEVIZ_USER_DATASETS_PER_SESSION", 5),
                  "mb_per_session": ("AEVIZ_USER_DATA_MB_PER_SESSION", 200),
                  "datasets_per_server": ("AEVIZ_USER_DATASETS_MAX", 200),
                  "mb_per_server": ("AEVIZ_USER_DATA_MB_MAX", 5000)}
RAY_LOCAL_ENV = "AEVIZ_RAY_LOCAL"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def number_from_env(name: str, default, takes: str, *, whole: bool = False, minimum: float = 0.0,
                    maximum: float = math.inf, zero_is_none: bool = False):
    """The number in environment variable `name` (`default` when unset or blank): a whole number (`whole`;
    "2e7" is read as 20000000) or any, from `minimum` to `maximum`. With `zero_is_none`, 0 means None (off).
    Anything else raises AevizError: "{name} must be {takes} (got '...')"."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if zero_is_none and number == 0:
        return None
    if not minimum <= number <= maximum or (whole and number != int(number)):  # NaN fails too
        raise AevizError(f"{name} must be {takes} (got {value!r})")
    return int(number) if whole else number


def max_jobs_from_env(default: int | None = 1) -> int | None:
    return number_from_env(MAX_JOBS_ENV, default, "a whole number of at least 1", whole=True, minimum=1)


def max_queued_from_env(default: int | None = DEFAULT_MAX_QUEUED) -> int | None:
    """How many queued jobs one session may have at once (None: 0 was set, no limit)."""
    return number_from_env(MAX_QUEUED_ENV, default, "a whole number, 0 for no limit", whole=True,
                           zero_is_none=True)


def abandon_seconds_from_env(default: float = DEFAULT_ABANDON_SECONDS) -> float | None:
    """Seconds without a sign of its owner after which a queued job is cancelled at its turn (None: never)."""
    return number_from_env(ABANDON_ENV, default, "a number of seconds, 0 for never", zero_is_none=True)


def checkpoint_seconds_from_env(default: float = DEFAULT_CHECKPOINT_SECONDS) -> float | None:
    """Seconds between two checkpoints of a training run (None: 0 was set, no checkpoints)."""
    return number_from_env(CHECKPOINT_ENV, default,
                           f"a number of seconds from 0 (no checkpoints) to {MAX_CHECKPOINT_SECONDS:g}",
                           maximum=MAX_CHECKPOINT_SECONDS, zero_is_none=True)


def session_idle_seconds_from_env(default: float = DEFAULT_SESSION_IDLE_SECONDS) -> float:
    """Seconds after its minting that a session id has expired (unless a tab of its session is open)."""
    return number_from_env(SESSION_IDLE_ENV, default, "a number of seconds above 0", minimum=1e-3)


def max_sessions_from_env(default: int | None = DEFAULT_MAX_SESSIONS) -> int | None:
    """How many browser sessions the app serves at once (None: 0 was set, no limit)."""
    return number_from_env(MAX_SESSIONS_ENV, default, "a whole number, 0 for no limit", whole=True,
                           zero_is_none=True)


def cache_limits() -> dict[str, int]:
    """The caches' budgets: dataset_bytes, pca_bytes and embeddings (each a whole number of at least 1 in its
    environment variable)."""
    read = {key: number_from_env(env, default, "a whole number of at least 1", whole=True, minimum=1)
            for key, (env, default) in CACHE_ENVS.items()}
    return {"dataset_bytes": read["datasets_mb"] * 10**6, "pca_bytes": read["pca_mb"] * 10**6,
            "embeddings": read["embeddings"]}


def ray_address_from_env() -> str | None:
    """The Ray cluster the server's pages may use: AEVIZ_RAY_ADDRESS, None when unset or blank."""
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


def ray_local_from_env() -> bool:
    """Whether pages may start a local Ray instance on this machine when no cluster is set (AEVIZ_RAY_LOCAL)."""
    value = os.environ.get(RAY_LOCAL_ENV, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise AevizError(f"{RAY_LOCAL_ENV} must be 1 (pages may start a local Ray instance) or 0 (got {value!r})")
    return value in _TRUE


def page_executors() -> dict[str, str]:
    """The sweep executors this server offers its pages, each with what it means: local always; ray when the
    server names a cluster (AEVIZ_RAY_ADDRESS) or allows a local instance (AEVIZ_RAY_LOCAL=1). A page
    chooses among these and never names an address (`page_ray_address`)."""
    offered = {"local": "in the app's own process, one point after another"}
    if ray_address_from_env():
        offered["ray"] = "each point a Ray task, on the Ray cluster this server was started with"
    elif ray_local_from_env():
        offered["ray"] = "each point a Ray task, on a Ray instance on this server's cores"
    return offered


def page_ray_address() -> str | None:
    """Where a page's ray executor runs: the server's cluster, else None (a local instance, only ever offered
    where AEVIZ_RAY_LOCAL allows it: see page_executors)."""
    return ray_address_from_env()


def user_data_limits() -> dict[str, int]:
    """The uploaded datasets' quotas: datasets_per_session, bytes_per_session, datasets_per_server,
    bytes_per_server (each a whole number of at least 1 in its environment variable)."""
    read = {key: number_from_env(env, default, "a whole number of at least 1", whole=True, minimum=1)
            for key, (env, default) in USER_DATA_ENVS.items()}
    return {"datasets_per_session": read["datasets_per_session"], "bytes_per_session": read["mb_per_session"] * 10**6,
            "datasets_per_server": read["datasets_per_server"], "bytes_per_server": read["mb_per_server"] * 10**6}


def check_settings() -> None:
    """Read every setting above; the first bad one raises AevizError (the app checks them before any page)."""
    max_jobs_from_env()
    max_queued_from_env()
    abandon_seconds_from_env()
    checkpoint_seconds_from_env()
    session_idle_seconds_from_env()
    max_sessions_from_env()
    cache_limits()
    ray_local_from_env()
    user_data_limits()
