"""The "watch it form" figure for a training job on the Train page: the latest aligned frame while it
trains, the whole replay with a play button once it has ended and been saved."""

from __future__ import annotations

import streamlit as st

from ui.common import cached_dataset, cached_run, run_store
from ui.theme import themed

FRAMES_KEY = "formation_frames"   # session state: {job_id: [(step, loss, codes), ...]} seen by this tab


@st.cache_data(show_spinner=False, max_entries=8)
def recorded_labels(dataset: str, seed: int):
    """Classes of the fixed test subset whose codes the trainer records (fixed by the seed)."""
    from aeviz.training.setup import fixed_test_indices

    data = cached_dataset(dataset)
    return data.test_labels.numpy()[fixed_test_indices(data, seed)["codes"].numpy()]


def collect_frame(view) -> list:
    """This tab's frames of a job so far, [(step, loss, 2-D points)], one per Snapshot it has seen (a live
    view refreshes faster than snapshots come, so few are missed; the saved run keeps them all). Each
    new frame is aligned to the one before when it arrives, so a refresh costs one small SVD."""
    from aeviz.analysis.explore import procrustes_rotation
    from aeviz.analysis.latent import codes_2d

    frames = st.session_state.setdefault(FRAMES_KEY, {}).setdefault(view.job_id, [])
    snapshot = getattr(view, "snapshot", None)
    if snapshot is not None and snapshot.codes is not None and (not frames or frames[-1][0] != snapshot.step):
        points = codes_2d(snapshot.codes.astype("float32"))
        if snapshot.codes.shape[1] > 2 and frames:
            points = (points @ procrustes_rotation(points, frames[-1][2])).astype("float32")
        frames.append((snapshot.step, snapshot.loss, points))
    return frames


def show_live_formation(view) -> None:
    """Draw a job's codes forming: the latest frame while it trains, the saved run's replay once it has
    ended. Nothing when no codes are recorded (k above 128)."""
    import numpy as np

    from aeviz.analysis.explore import Formation, formation_frames
    from aeviz.figures.explore import formation_animation

    config = view.config
    class_names = cached_dataset(config.dataset).class_names
    if not view.active and view.run_id:
        try:
            run = cached_run(view.run_id, run_store().info(view.run_id).created)
        except Exception:  # the run was deleted or is damaged: nothing to replay
            return
        if not run.code_snapshots:
            return
        formation = formation_frames(run.code_snapshots)
        labels = cached_dataset(config.dataset).test_labels.numpy()[formation.indices]
        figure = formation_animation(formation, labels, class_names)
    else:
        frames = collect_frame(view)
        if not frames:
            return
        step, loss, points = frames[-1]
        latest = Formation(points[None], np.array([step]), np.array([loss], np.float32),
                           np.arange(len(points)), projected=config.k > 2)
        figure = formation_animation(latest, recorded_labels(config.dataset, config.seed), class_names, max_frames=1)
    st.plotly_chart(themed(figure), key=f"formation.{view.job_id}")
    if config.k > 2:
        st.caption("Codes of up to 2,000 test images on their first two principal axes, turned onto the previous "
                   "frame so the picture neither spins nor flips.")
