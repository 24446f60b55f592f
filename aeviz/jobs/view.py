"""A copy of a training job's state (aeviz.jobs.manager), safe to read while the job trains on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aeviz.training.config import TrainConfig
from aeviz.training.tasks import ACTIVE


@dataclass
class JobView:
    """A copy of a job's state, safe to read while the job trains on."""

    job_id: str
    owner: str
    config: TrainConfig
    status: str                         # aeviz.training.tasks' vocabulary: queued, starting, running, completed, ...
    message: str = ""
    queue_position: int | None = None   # 1 = next to start; None unless queued
    created: float = 0.0
    started: Any = None                 # events.Started
    progress: Any = None                # latest events.Progress
    snapshot: Any = None                # latest events.Snapshot
    history: list[dict[str, float]] = field(default_factory=list)
    test_history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None           # the saved run, once ended
    error: str = ""
    save_as: str = ""                   # the run id it will be saved under, known from the start
    where: str = ""                     # where it trains, when that is worth saying (aeviz.jobs.executors)
    followers: frozenset[str] = frozenset()  # the sessions that follow it (its owner among them)

    def followed_by(self, owner: str) -> bool:
        return owner in self.followers

    def followers_besides(self, owner: str) -> int:
        """How many other sessions than `owner` follow it (they keep it going if `owner` leaves)."""
        return len(self.followers - {owner})

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def label(self) -> str:
        # The saved run's short id (as every other page shows it), known before the run finishes.
        c = self.config
        short_id = (self.run_id or self.save_as or self.job_id).rsplit("-", 1)[-1]
        return f"{c.variant} · k={c.k} · {c.dataset} · {short_id}"
