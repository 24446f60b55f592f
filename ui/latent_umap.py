"""The Latent space page's UMAP of a run's codes: never fitted in the page's script run. The server's embedding
is drawn at once when it has one; otherwise this session follows the background task making it
(aeviz.jobs.embeddings: it waits for a free training slot like any training), whose panel (ui.task_panel)
shows its place in the queue, then its progress and a Stop button, and reruns the page when it ends."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from aeviz.analysis import umap_embed
from aeviz.jobs.embeddings import UmapTask, umap_task
from ui.common import job_manager, session_owner
from ui.kept import keep, kept
from ui.task_panel import task_panel

UMAP_TASK_KEY = "latent_umap_task"  # this session's UMAP task (ui.kept)


def umap_of_codes(run_id: str, created: float, codes: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """The 2-D UMAP of `codes[points]` of run `run_id`, or None while it is being made (its panel is drawn
    instead) or when it failed or was stopped (the panel says so, with a button to try again)."""
    key = (run_id, created, len(points))
    embedding = umap_embed.EMBEDDINGS.get(key)  # process-wide: each result made once, for every session
    if embedding is None:
        embedding = follow_umap(key, run_id, codes, points)
    caption(len(codes), len(points))
    return embedding


def follow_umap(key: tuple, run_id: str, codes: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    owner = session_owner()
    task: UmapTask | None = kept(UMAP_TASK_KEY)
    if task is None or task.key != key:  # none yet, or of another run: leave that one, follow this one
        if task is not None and task.followed_by(owner):
            task.leave(owner)
        task = start_umap(key, run_id, codes, points)
    task_panel(UMAP_TASK_KEY, task, partial(note_left, owner), stop_label="Stop UMAP",
               stop_help="Stops the UMAP (unless another session waits for the same one: it goes on for them). "
                         "PCA of the codes still works.", on_stop=lambda t: t.leave(owner))
    if task.done and task.result is not None:
        return task.result
    if task.done and st.button("Try UMAP again", key="latent_umap_again", icon=":material/refresh:"):
        start_umap(key, run_id, codes, points)
        st.rerun()
    return None


def start_umap(key: tuple, run_id: str, codes: np.ndarray, points: np.ndarray) -> UmapTask:
    """Follow (or start) the server's UMAP task for `key`, kept as this session's."""
    owner = session_owner()
    gate_for = job_manager().slot_gate_for(owner, f"UMAP of the codes of run {run_id}")
    return keep(UMAP_TASK_KEY, umap_task(key, lambda: codes[points], owner, gate_for))


def note_left(owner: str, task: UmapTask) -> None:
    if task.running and not task.followed_by(owner):
        st.caption("You stopped waiting for this UMAP; it goes on for another session that asked for it.")


def caption(codes: int, points: int) -> None:
    warm = umap_embed.umap_warm_state()
    st.caption(
        (f"UMAP of all {codes:,} test codes. " if points == codes else
         f"UMAP of a stratified subsample of {points:,} of the {codes:,} test codes (to keep it to seconds). ")
        + "It is made in the background, waiting for a free training slot like any training; numba's compiled "
        f"kernels are cached on the server's disk and warmed up in the background when the app starts (warm-up: "
        f"{warm.state}" + (f", {warm.seconds:.0f} s" if warm.state == "done" else "") + "); the server keeps the "
        "most recent results for everyone.")
