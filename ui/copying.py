"""The Reconstructions page's copying check (aeviz.analysis.copying), cached per run and dataset."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.common import cached_dataset, cached_run

IMAGES_MEASURED = 2000  # test images per input kind: the mean error is steady long before, and it stays quick
EXAMPLES = 8


@st.cache_data(show_spinner=False, max_entries=4)
def _inputs(dataset_name: str):
    from aeviz.analysis.copying import off_data_inputs, other_dataset_name

    dataset = cached_dataset(dataset_name)
    other = other_dataset_name(dataset_name, dataset.image_shape)
    others = {f"{cached_dataset(other).title} test images": cached_dataset(other).test_images[:IMAGES_MEASURED]} \
        if other else {}
    return off_data_inputs(dataset.test_images[:IMAGES_MEASURED], others)


@st.cache_data(show_spinner="Reconstructing inputs unlike the data…", max_entries=32)
def _run_errors(run_id: str, created: float, dataset_name: str):
    from aeviz.analysis.copying import SCRAMBLED, input_errors
    from aeviz.analysis.latent import per_image_mse, reconstruct_images

    model = cached_run(run_id, created).model
    inputs = _inputs(dataset_name)
    shown = inputs[SCRAMBLED][:EXAMPLES]
    recons = reconstruct_images(model, shown)
    return input_errors(model, inputs), recons, per_image_mse(shown.numpy(), recons)


def copying_view(runs: tuple[tuple[str, float, str], ...], dataset_name: str):
    """(run label -> input name -> error, (scrambled examples, rows for reconstruction_grid_figure))
    for runs given as (run_id, created, label)."""
    from aeviz.analysis.copying import SCRAMBLED

    errors, rows = {}, []
    for run_id, created, label in runs:
        run_errors, recons, per_image = _run_errors(run_id, created, dataset_name)
        errors[label] = run_errors
        rows.append((label, recons, per_image))
    originals = np.asarray(_inputs(dataset_name)[SCRAMBLED][:EXAMPLES].numpy())
    return errors, (originals, rows)
