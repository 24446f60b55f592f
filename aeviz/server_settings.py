"""How many training jobs this server runs at once, when a queued job's owner counts as gone, and how often
a training run is checkpointed: the operator's settings, read from the environment (README, "Serving a
class on one machine"). Every number is read by `number_from_env`, so each bad value gets the same kind of
one-line message naming the setting, what it takes and what it got."""

from __future__ import annotations

import math
import os

from aeviz.errors import AevizError

MAX_JOBS_ENV = "AEVIZ_MAX_JOBS"
ABANDON_ENV = "AEVIZ_ABANDON_SECONDS"
CHECKPOINT_ENV = "AEVIZ_CHECKPOINT_SECONDS"
DEFAULT_ABANDON_SECONDS = 600.0  # a queued job whose owner has not been seen this long is cancelled at its turn
DEFAULT_CHECKPOINT_SECONDS = 30.0  # a crash loses at most this much training
MAX_CHECKPOINT_SECONDS = 3600.0
SESSION_IDLE_ENV = "AEVIZ_SESSION_IDLE_SECONDS"
DEFAULT_SESSION_IDLE_SECONDS = 12 * 3600.0  # a session id unused this long has expired (aeviz.jobs.sessions)


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


def abandon_seconds_from_env(default: float = DEFAULT_ABANDON_SECONDS) -> float | None:
    """Seconds without a sign of its owner after which a queued job is cancelled at its turn (None: never)."""
    return number_from_env(ABANDON_ENV, default, "a number of seconds, 0 for never", zero_is_none=True)


def checkpoint_seconds_from_env(default: float = DEFAULT_CHECKPOINT_SECONDS) -> float | None:
    """Seconds between two checkpoints of a training run (None: 0 was set, no checkpoints)."""
    return number_from_env(CHECKPOINT_ENV, default,
                           f"a number of seconds from 0 (no checkpoints) to {MAX_CHECKPOINT_SECONDS:g}",
                           maximum=MAX_CHECKPOINT_SECONDS, zero_is_none=True)


def session_idle_seconds_from_env(default: float = DEFAULT_SESSION_IDLE_SECONDS) -> float:
    """Seconds after which an unused session id has expired."""
    return number_from_env(SESSION_IDLE_ENV, default, "a number of seconds above 0", minimum=1e-3)


def check_settings() -> None:
    """Read every setting above; the first bad one raises AevizError (the app checks them before any page)."""
    max_jobs_from_env()
    abandon_seconds_from_env()
    checkpoint_seconds_from_env()
    session_idle_seconds_from_env()
