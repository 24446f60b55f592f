"""Where a job manager's training jobs run: on the Ray cluster named by a setting, else in this process.

`JobCluster.source_for(config, store, run_id)` gives a job (aeviz.jobs) what to run: a source that trains
in a Ray actor (aeviz.ray_jobs) with the note "on a Ray worker", or None with a note saying why the job
trains in the app's own process instead (the cluster cannot be reached). Once a job has joined the cluster,
the manager's job limit becomes the jobs the cluster's CPUs hold at once, unless the operator set it.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from aeviz.errors import AevizError
from aeviz.ray_cluster import configured_address

ON_RAY = "on a Ray worker"


class JobCluster:
    """The Ray cluster at `address` as a place for training jobs; thread-safe."""

    def __init__(self, address: str, set_limit: Callable[[int], None] | None = None):
        # `set_limit(n)`: the manager's job limit follows the cluster (None: the operator chose it).
        self.address = address
        self._set_limit = set_limit
        self._lock = threading.Lock()

    @classmethod
    def from_setting(cls, address: str | None, set_limit: Callable[[int], None] | None) -> "JobCluster | None":
        """`address` "env": $AEVIZ_RAY_ADDRESS; None or unset: no cluster (jobs train in this process)."""
        address = configured_address() if address == "env" else address
        return cls(address, set_limit) if address else None

    def source_for(self, config, store, run_id: str | None, tag: str = "") -> tuple[Any, str]:
        """(a source that trains on the cluster, ON_RAY), or (None, why it trains in this process)."""
        from aeviz.ray_cluster import connect
        from aeviz.ray_jobs import RayTrainingSource

        try:
            ray = connect(self.address)
        except AevizError as exc:
            return None, f"trained in the app's own process: {exc}"
        self.joined(ray)
        return RayTrainingSource(ray, config, store, run_id=run_id, tag=tag), ON_RAY

    def joined(self, ray) -> None:
        """A job has joined the cluster: the limit becomes the jobs its CPUs hold at once (once, unless set)."""
        from aeviz.ray_cluster import cluster_cpus
        from aeviz.ray_jobs import CPUS_PER_JOB

        with self._lock:
            set_limit, self._set_limit = self._set_limit, None
        if set_limit is not None:
            set_limit(max(1, cluster_cpus(ray) // CPUS_PER_JOB))
