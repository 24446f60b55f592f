"""The "watch it form" figure for a training job on the Train page: the latest aligned frame while it
trains, the whole replay with a play button once it has ended."""

from __future__ import annotations

import streamlit as st

from ui.common import cached_dataset


@st.cache_data(show_spinner=False, max_entries=8)
def recorded_labels(dataset: str, seed: int):
    """Classes of the fixed test subset whose codes the trainer records (fixed by the seed)."""
    from aeviz.train import fixed_test_indices

    data = cached_dataset(dataset)
    return data.test_labels.numpy()[fixed_test_indices(data, seed)["codes"].numpy()]


def show_live_formation(view) -> None:
    """Draw the job's codes forming, from `view.code_frames` [(step, loss, codes), ...]; nothing when
    no codes were recorded (k above 128) or the job has none yet."""
    from aeviz.figures.explore import live_formation

    frames = getattr(view, "code_frames", None) or []
    if not frames:
        return
    config = view.config
    labels = recorded_labels(config.dataset, config.seed)
    figure = live_formation([codes for _, _, codes in frames], [step for step, _, _ in frames],
                            [loss for _, loss, _ in frames], labels, cached_dataset(config.dataset).class_names,
                            animate=not view.active)
    st.plotly_chart(figure, key=f"formation.{view.job_id}")
    if config.k > 2:
        st.caption("Codes of 2,000 test images, projected on their first two principal axes and turned onto the "
                   "previous frame so the picture neither spins nor flips.")
