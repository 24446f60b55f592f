"""How many training jobs this server runs at once, when a queued job's owner counts as gone, and how often
a training run is checkpointed: the operator's settings, read from the environment (README, "Serving a
class on one machine")."""

from __future__ import annotations

import os

from aeviz.errors import AevizError

MAX_JOBS_ENV = "AEVIZ_MAX_JOBS"
ABANDON_ENV = "AEVIZ_ABANDON_SECONDS"
CHECKPOINT_ENV = "AEVIZ_CHECKPOINT_SECONDS"
DEFAULT_ABANDON_SECONDS = 600.0  # a queued job whose owner has not been seen this long is cancelled at its turn


def max_jobs_from_env(default: int | None = 1) -> int | None:
    value = os.environ.get(MAX_JOBS_ENV, "").strip()
    if not value:
        return default
    try:
        return max(1, int(value))
    except ValueError:
        raise AevizError(f"{MAX_JOBS_ENV} must be a whole number of at least 1 (got {value!r})") from None


def abandon_seconds_from_env(default: float = DEFAULT_ABANDON_SECONDS) -> float | None:
    """Seconds without a sign of its owner after which a queued job is cancelled at its turn (None: never)."""
    value = os.environ.get(ABANDON_ENV, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise AevizError(f"{ABANDON_ENV} must be a number of seconds, 0 for never (got {value!r})") from None
    return seconds if seconds > 0 else None


DEFAULT_CHECKPOINT_SECONDS = 30.0  # a crash loses at most this much training
MAX_CHECKPOINT_SECONDS = 3600.0


def checkpoint_seconds_from_env(default: float = DEFAULT_CHECKPOINT_SECONDS) -> float | None:
    """Seconds between two checkpoints of a training run (None: 0 was set, no checkpoints)."""
    value = os.environ.get(CHECKPOINT_ENV, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds <= MAX_CHECKPOINT_SECONDS:  # NaN fails too
        raise AevizError(f"{CHECKPOINT_ENV} must be a number of seconds from 0 (no checkpoints) to "
                         f"{MAX_CHECKPOINT_SECONDS:g} (got {value!r})")
    return seconds if seconds > 0 else None
