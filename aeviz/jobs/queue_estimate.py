"""When a queued training job should start: a list-scheduling estimate from what the manager shows.

Each of the `slots` training slots is free once the job on it has trained out its budget: a running
job's own estimate of the time it has left (Progress.eta_seconds), or its time budget if it has not
reported yet. Queued jobs take the earliest free slot in queue order and hold it for their own
budget: `max_seconds` if they have one, otherwise their epochs at the seconds per epoch the running
jobs on the same dataset show. Where a figure is unknown, the starts that depend on it are unknown
(None) rather than guessed.
"""

from __future__ import annotations

import heapq
import math
from statistics import median
from typing import Iterable

from aeviz.training.tasks import QUEUED, RUNNING, STARTING


def estimated_starts(left: Iterable[float | None], durations: Iterable[float | None], slots: int) -> list[float | None]:
    """Seconds from now until each queued job starts. `left`: the running jobs' seconds left (None: unknown);
    `durations`: each queued job's seconds of training, in queue order (None: unknown); `slots`: jobs at once."""
    free = [math.inf if s is None else max(0.0, float(s)) for s in left]
    free += [0.0] * max(0, slots - len(free))  # idle slots are free now
    heapq.heapify(free)
    while len(free) > max(1, slots):  # more running than slots (the limit went down): the first to end frees none
        heapq.heappop(free)
    starts: list[float | None] = []
    for duration in durations:
        start = heapq.heappop(free)
        starts.append(None if math.isinf(start) else start)
        heapq.heappush(free, math.inf if duration is None else start + max(0.0, float(duration)))
    return starts


def seconds_per_epoch(views) -> dict[str, float]:
    """Per dataset, the median seconds an epoch takes in the running jobs that have reported progress."""
    rates: dict[str, list[float]] = {}
    for view in views:
        progress = view.progress
        if view.status == RUNNING and progress is not None and progress.epoch > 0:
            rates.setdefault(view.config.dataset, []).append(progress.elapsed / progress.epoch)
    return {dataset: median(values) for dataset, values in rates.items()}


def expected_seconds(config, per_epoch: dict[str, float]) -> float | None:
    """How long a run trains: its time budget, or its epochs at the observed pace (None if unknown)."""
    if config.max_seconds:
        return float(config.max_seconds)
    pace = per_epoch.get(config.dataset)
    return None if pace is None or not config.epochs else float(config.epochs) * pace


def seconds_left(view, per_epoch: dict[str, float]) -> float | None:
    """A running (or starting) job's seconds left: its own estimate once it has one, else its whole budget."""
    if view.progress is not None and view.progress.eta_seconds is not None:
        return float(view.progress.eta_seconds)
    return expected_seconds(view.config, per_epoch)


def queue_starts(views, slots: int, held: int = 0) -> dict[str, float | None]:
    """job_id -> estimated seconds until it starts, for every queued job among `views` (all the manager's).
    `held`: slots held by other work (a page's trainer, a sweep's point: aeviz.jobs.slots), whose time left is
    unknown; a queue position no view has is such work waiting, for an unknown time."""
    per_epoch = seconds_per_epoch(views)
    running = [seconds_left(v, per_epoch) for v in views if v.status in (STARTING, RUNNING)] + [None] * held
    by_position = {v.queue_position: v for v in views if v.status == QUEUED and v.queue_position}
    durations = [expected_seconds(by_position[p].config, per_epoch) if p in by_position else None
                 for p in range(1, max(by_position, default=0) + 1)]
    starts = estimated_starts(running, durations, slots)
    return {view.job_id: starts[position - 1] for position, view in by_position.items()}
