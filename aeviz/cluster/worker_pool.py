"""Warm Ray workers kept between page-started training jobs (aeviz.cluster.jobs).

A job's actor is a new worker process: it imports torch and loads its dataset before its first step (5.4 to
7.1 s from Train to the first progress on the README's 2-core machine, bench row `ray_job_start`). When a
job ends with its result, its worker is kept here, idle, and the next job that asks for the same (one CPU,
no GPU) trains in it, with torch imported and the dataset already in memory (0.8 s). An idle worker still
holds its CPU of the cluster, so it is let go after IDLE_SECONDS, at once when a job that needs a GPU asks
(it may wait for a CPU an idle worker holds) or the cluster is given up, and is not kept while a new worker
of this process waits for a CPU. One pool per process, as there is one connection to Ray (aeviz.cluster.connection).
"""

from __future__ import annotations

import threading
import time
from typing import Any

IDLE_SECONDS = 60.0


def ray_session(ray) -> str:
    """Which Ray connection of this process an actor belongs to (one shut down takes its actors with it)."""
    try:
        return str(ray.get_runtime_context().get_job_id())
    except (Exception, SystemExit):
        return ""


def kill(ray, actor) -> None:
    """End an actor's worker process (harmless if it is gone, or Ray is)."""
    try:
        if ray.is_initialized():
            ray.kill(actor)
    except (Exception, SystemExit):
        pass


class WorkerPool:
    """Idle training actors of this process's Ray connection; thread-safe."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS):
        self.idle_seconds = idle_seconds
        self._idle: list[tuple[Any, Any, str, float]] = []  # (actor, ray, its session, idle since)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._reaper: threading.Thread | None = None
        self._starting = 0  # new workers asked for that have not started yet (they may wait for a CPU)

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    def take(self, ray) -> Any | None:
        """An idle worker of the current Ray connection (the most recently kept), or None."""
        session = ray_session(ray)
        with self._lock:
            self._idle = [entry for entry in self._idle if entry[2] == session]  # others died with their Ray
            return self._idle.pop()[0] if self._idle and session else None

    def keep(self, ray, actor) -> None:
        """Keep a worker whose job has ended, for the next job (let go after idle_seconds)."""
        session = ray_session(ray)
        with self._lock:
            kept = bool(session) and self._starting == 0  # else its CPU is better given to a worker waiting for one
            if kept:
                self._idle.append((actor, ray, session, time.monotonic()))
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._let_go_when_idle, name="aeviz-ray-pool",
                                                    daemon=True)
                    self._reaper.start()
        if not kept:
            kill(ray, actor)
            return
        self._wake.set()

    def starting(self, count: int) -> None:
        """A new worker was asked for (+1), or has started or was given up (-1)."""
        with self._lock:
            self._starting = max(0, self._starting + count)

    def let_go(self) -> None:
        """Kill every idle worker now (their CPUs are wanted, or the cluster is given up)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for actor, ray, _, _ in idle:
            kill(ray, actor)

    def _let_go_when_idle(self) -> None:
        while True:
            self._wake.clear()  # before looking: a worker kept after this wakes the wait below
            now = time.monotonic()
            with self._lock:
                expired = [entry for entry in self._idle if now - entry[3] >= self.idle_seconds]
                self._idle = [entry for entry in self._idle if now - entry[3] < self.idle_seconds]
                due = min((entry[3] + self.idle_seconds for entry in self._idle), default=None)
            for actor, ray, _, _ in expired:
                kill(ray, actor)
            self._wake.wait(None if due is None else max(0.05, due - time.monotonic()))


WORKERS = WorkerPool()
