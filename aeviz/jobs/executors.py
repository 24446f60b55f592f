"""Where a job manager's training jobs run: on the Ray cluster named by a setting, else in this process.

`JobCluster.source_for(...)` gives a job (aeviz.jobs.manager) what to run: a source that trains in a Ray actor
(aeviz.cluster.jobs) with the note "on a Ray worker", or None with a note saying why the job trains in the
app's own process instead. A job's worker is kept for the next job (aeviz.cluster.worker_pool). Once a job
has joined the cluster, the manager's job limit becomes the jobs the cluster's CPUs hold at once, unless the
operator set it.

A cluster that goes away mid-session (its head fails, or stops answering PROBE_ATTEMPTS probes of
PROBE_SECONDS in a row: a head slowed by a busy machine is given the time) is given up for the rest of
the process: later jobs, and a job whose worker it took with it, train here, with a
note on the student's page, and the limit goes back to the in-process one. Nothing here waits on the
cluster without a timeout, so a slow or lost cluster holds up a job's thread, never the server.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Callable

from aeviz.cluster import connection, jobs as ray_jobs
from aeviz.cluster.worker_pool import WORKERS
from aeviz.errors import AevizError

log = logging.getLogger(__name__)

ON_RAY = "on a Ray worker"
NO_ANSWER = "its head did not answer"
PROBE_SECONDS = 10.0   # how long the cluster's head may take to say which nodes it has
TRUST_SECONDS = 60.0   # a cluster that answered this recently takes the next job without being asked again
PROBE_ATTEMPTS = 3     # unanswered probes in a row before a job gives the cluster up (one timed out under load)


class JobCluster:
    """The Ray cluster at `address` as a place for training jobs; thread-safe."""

    def __init__(self, address: str, set_limit: Callable[[int], None] | None = None, local_limit: int = 1,
                 clock: Callable[[], float] = time.monotonic):
        # `set_limit(n)`: the manager's job limit follows the cluster (None: the operator chose it);
        # `local_limit`: the limit to go back to if the cluster is lost; `clock`: seconds, for the trust window.
        self.clock = clock
        self.address = address
        self._set_limit = set_limit
        self._local_limit = local_limit
        self._joined = False
        self._answered_at = -math.inf  # when the head last said which nodes it has (self.clock())
        self._lock = threading.Lock()
        self.lost = ""          # why the cluster was given up ("" while it is used)
        self.gpus = 0           # the cluster's GPUs, once a job has joined it

    @classmethod
    def from_setting(cls, address: str | None, set_limit: Callable[[int], None] | None) -> "JobCluster | None":
        """`address` "env": $AEVIZ_RAY_ADDRESS; None or unset: no cluster (jobs train in this process)."""
        address = connection.configured_address() if address == "env" else address
        return cls(address, set_limit) if address else None

    def source_for(self, config, store, run_id: str | None, fallback: Callable[[], Any],
                   tag: str = "", make_dataset: Callable[[], Any] | None = None) -> tuple[Any, str]:
        """(a source that trains on the cluster, where: its note), or (None, why it trains in this process).
        `fallback()` builds the in-process trainer that a job whose worker the cluster took with it runs;
        `tag`: its owner's, on its checkpoints (aeviz.runs.checkpoints); `make_dataset`: a picklable
        function the worker calls for its training data (None: the config's dataset, by name). With no `store`
        the run comes back unsaved."""

        with self._lock:
            lost = self.lost
        if lost:
            return None, self.here_note()
        try:
            ray = connection.connect(self.address)
        except AevizError as exc:  # never reached yet: the next job tries again
            return None, f"in the app's own process: {exc}"
        # A class pressing Train together asks once: a head busy starting their workers missed its probes.
        if self.clock() - self._answered_at > TRUST_SECONDS:
            nodes, why = live_nodes(ray, attempts=PROBE_ATTEMPTS)
            if why:
                self.give_up(why)
                return None, self.here_note()
            self._answered_at = self.clock()
            self.joined(nodes)
        free_gpus = free_resources(ray).get("GPU", 0.0) if config.device == "auto" and self.gpus else 0.0
        source = ray_jobs.RayTrainingSource(ray, config, store, run_id=run_id, fallback=fallback, cluster=self,
                                   resources=ray_jobs.actor_resources(config, self.gpus, free_gpus), tag=tag,
                                   make_dataset=make_dataset, pool=WORKERS)
        return source, source.note

    def still_there(self, ray) -> bool:
        """Whether the cluster answers (a job whose worker vanished asks); if not, it is given up. One
        given up stays so for the process: it is not asked again (each ask may wait PROBE_ATTEMPTS probes)."""
        if self.lost:
            return False
        why = live_nodes(ray, attempts=PROBE_ATTEMPTS)[1]
        if why:
            self.give_up(why)
        return not why

    def here_note(self) -> str:
        return (f"in the app's own process: the Ray cluster at {self.address} was lost ({self.lost}); "
                f"restart the app to use it again")

    def give_up(self, why: str) -> None:
        """The cluster is lost: later jobs train here, within the in-process limit (if it followed the cluster)."""
        with self._lock:
            if self.lost:
                return
            self.lost = f"{why}, at {time.strftime('%H:%M')}"
            log.warning("the Ray cluster at %s is given up, jobs train in this process from now on: %s",
                        self.address, why)
            set_limit = self._set_limit if self._joined else None
        WORKERS.let_go()  # workers kept for later jobs: those train here now
        if set_limit is not None:
            set_limit(self._local_limit)

    def joined(self, nodes: list[dict]) -> None:
        """A job has joined the cluster: count its GPUs; the limit becomes the jobs its CPUs hold at once
        (unless set; a job on a GPU takes a CPU too)."""

        self.gpus = sum(int(node.get("Resources", {}).get("GPU", 0)) for node in nodes)
        with self._lock:
            first, self._joined = not self._joined, True
        if first and self._set_limit is not None:
            cpus = sum(int(node.get("Resources", {}).get("CPU", 0)) for node in nodes)
            self._set_limit(max(1, cpus // ray_jobs.CPUS_PER_JOB))


def placed_source(cluster: JobCluster | None, config, here: Callable[[], Any],
                  make_dataset: Callable[[], Any] | None = None) -> tuple[Any, str]:
    """(the event source that trains `config`, where it trains) for a page's own trainer (not saved as a run):
    on `cluster` when there is one and it takes the job, else `here()`, which builds it in this process
    ("" when there is no cluster). `make_dataset`: as in JobCluster.source_for."""
    if cluster is None:
        return here(), ""
    source, where = cluster.source_for(config, None, None, fallback=here, make_dataset=make_dataset)
    return (source if source is not None else here()), where


def live_nodes(ray, timeout: float = PROBE_SECONDS, attempts: int = 1) -> tuple[list[dict], str]:
    """The cluster's live nodes (ray.nodes()), and why it cannot take a job ("" if it can): no answer within
    `timeout` s (asked up to `attempts` times), Ray gone, or no live node."""
    for _ in range(max(1, attempts)):
        nodes, why = ask(ray, lambda: [node for node in ray.nodes() if node.get("Alive")], timeout)
        if not why.startswith(NO_ANSWER):  # an answer, or a failure that waiting will not mend
            break
    return (nodes, "") if nodes else ([], why or "no live node is left")


def free_resources(ray, timeout: float = PROBE_SECONDS) -> dict[str, float]:
    """The cluster's free resources now ({} if it does not say within `timeout` s)."""
    return ask(ray, ray.available_resources, timeout)[0] or {}


def ask(ray, question: Callable[[], Any], timeout: float) -> tuple[Any, str]:
    """(the answer, "") or (None, why not): `question()` runs in a daemon thread, left behind if it hangs."""
    if not ray.is_initialized():  # shut down here: asking would start a new local instance
        return None, "Ray was shut down in the app's process"
    answer: list[Any] = []

    def probe():
        try:
            answer.append(question())
        except SystemExit:  # Ray's calls raise it while Ray shuts down in this process
            answer.append(AevizError("Ray was shut down in the app's process"))
        except Exception as exc:  # its head gone
            answer.append(exc)

    thread = threading.Thread(target=probe, daemon=True, name="aeviz-ray-probe")
    thread.start()
    thread.join(timeout)
    if not answer:
        return None, f"{NO_ANSWER} within {timeout:.0f} s"
    if isinstance(answer[0], Exception):
        return None, connection.first_line(answer[0])
    return answer[0], ""
