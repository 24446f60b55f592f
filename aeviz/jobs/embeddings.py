"""UMAP of a run's codes in the background, off the page's script run: a fit takes seconds (a minute or more
the first time on a machine, while numba compiles its kernels), so it runs as a shared task
(aeviz.training.shared_tasks) that waits for one of the server's training slots like any training, reports
its progress, and stops when the last session following it leaves (at its next progress report: a layout
epoch, or the neighbour search; numba's compilation itself cannot be interrupted).

    task = umap_task(key, lambda: codes, owner, gate_for=manager.slot_gate_for(owner, "UMAP"))
    task.progress          # "UMAP layout: epoch 40 of 100"
    task.result            # the (N, 2) embedding, also in aeviz.analysis.umap_embed.EMBEDDINGS[key]

Sessions asking for the same key (the Latent space page's: run id, creation time, number of points) follow
one task; its result lands in EMBEDDINGS, so every session has it at once afterwards. A failure (umap missing
or broken) ends the task failed with "UMAP failed: …. PCA of the codes still works."
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

import numpy as np

from aeviz.analysis import umap_embed
from aeviz.errors import AevizError
from aeviz.jobs.presence import PRESENCE
from aeviz.training.shared_tasks import SharedTask, SharedTasks
from aeviz.training.tasks import RUNNING, STOPPED, TaskStopped, describe_error

KEPT_EMBEDDING_TASKS = 8  # the most recent UMAP tasks kept (each ended one holds its embedding: N x 2 float32)


class UmapTask(SharedTask):
    """umap_embedding of `codes()` in the task's thread; its result is the embedding, also put in
    umap_embed.EMBEDDINGS under `key`. The codes are let go when it ends."""

    def __init__(self, key: Hashable, codes: Callable[[], np.ndarray]):
        self._codes: np.ndarray | None = np.asarray(codes())
        super().__init__(f"UMAP of {len(self._codes):,} codes")
        self.key = key

    def work(self) -> np.ndarray | None:
        self.report(0.0, f"{self.label}: starting", status=RUNNING, message="embedding")
        with self.lock:
            codes = self._codes
        try:
            embedding = umap_embed.umap_embedding(codes, progress=self.report_unless_stopped)
        except TaskStopped:
            self.end(STOPPED, "stopped; no embedding was made")
            return None
        except Exception as exc:  # umap or numba missing or broken: the page says so and keeps PCA
            raise AevizError(f"UMAP failed: {describe_error(exc)}. PCA of the codes still works.") from exc
        return umap_embed.EMBEDDINGS.put(self.key, embedding)

    def cleanup(self) -> None:
        with self.lock:
            self._codes = None  # an ended task may be kept a while: with its embedding, not its codes


EMBEDDING_TASKS: SharedTasks[UmapTask] = SharedTasks(KEPT_EMBEDDING_TASKS)  # the process's (sessions share them)
PRESENCE.on_forget(EMBEDDING_TASKS.forget_owner)  # a session gone (its tabs closed) leaves the ones it followed


def umap_task(key: Hashable, codes: Callable[[], np.ndarray], owner: str = "",
              gate_for: Callable[[UmapTask], Any] | None = None) -> UmapTask:
    """The UMAP task for `key`, followed by `owner`: the one running or ended with its embedding, if any, else
    a new one of `codes()` started (waiting its turn at `gate_for(task)`, a job manager's slot_gate_for)."""
    return EMBEDDING_TASKS.start(key, lambda: UmapTask(key, codes), owner, gate_for)
