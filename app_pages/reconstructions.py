"""Reconstructions: the same test images through up to four runs and through PCA at each run's k."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis.comparison import mean_error_per_class
from aeviz.analysis.comparison import pca_comparison_k
from aeviz.analysis.latent import per_image_mse, reconstruct_images
from aeviz.analysis.pca import dataset_pca
from aeviz.figures.copying import input_error_bars
from aeviz.figures.reconstructions import (best_worst_indices, error_per_class_figure,
                                           reconstruction_grid_figure)

from ui.checkpoint import checkpoint_panel
from ui.common import cached_dataset, current_dataset_name, dataset_or_stop
from ui.common import cached_run
from ui.copying import copying_view
from ui.runs import load_run, no_runs_message, pick_runs, saved_runs
from ui.theme import data_table, themed

st.title("Reconstructions")
st.caption("Each run's reconstructions of the same test images, with PCA at the same k as one more row: "
           "numbers under the images are the mean squared error per pixel.")

dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)
infos = pick_runs(dataset_name, key="recon_runs", max_runs=4, label="Runs to compare (up to four)")
checkpoint_panel(saved_runs(dataset_name))
if not infos:
    no_runs_message(dataset_name)
    st.stop()


@st.cache_data(show_spinner="Reconstructing the test set…", max_entries=32)
def run_reconstructions(run_id: str, created: float, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """(reconstructions of the whole test set, per-image MSE) for a saved run."""

    run = cached_run(run_id, created)
    images = cached_dataset(dataset).test_images
    recons = reconstruct_images(run.model, images)
    return recons, per_image_mse(images.numpy(), recons)


@st.cache_data(show_spinner=False, max_entries=32)
def pca_reconstructions(dataset: str, k: int) -> tuple[np.ndarray, np.ndarray]:

    data = cached_dataset(dataset)
    images = data.test_images.numpy()
    recons = dataset_pca(data).reconstruct(images, k).reshape(images.shape)
    return recons, per_image_mse(images, recons)


loaded = []
for info in infos:
    run = load_run(info)
    if run is not None:
        recons, errors = run_reconstructions(info.run_id, info.created, dataset_name)
        loaded.append((info, recons, errors))
if not loaded:
    st.stop()

test_images = dataset.test_images.numpy()
labels = dataset.test_labels.numpy()
count = st.slider("Images shown", 4, 16, 10, key="recon_count")
# The same images for every run: one per class first, then the next ones, fixed.
first_of_class = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
shown = np.array((first_of_class + [i for i in range(len(labels)) if i not in first_of_class])[:count])


def compared_k(info) -> int:
    """The PCA components this run is compared with: its k, or a k-sparse run's active units (aeviz.facts)."""
    return pca_comparison_k(info.config["variant"], int(info.config["k"]), info.config.get("params") or {})


rows = []
pca_ks = sorted({info.config.get("k") for info, _, _ in loaded} | {compared_k(info) for info, _, _ in loaded})
for info, recons, errors in loaded:
    rows.append((info.label, recons[shown], errors[shown]))
for k in pca_ks:
    recons, errors = pca_reconstructions(dataset_name, int(k))
    rows.append((f"PCA k={k}", recons[shown], errors[shown]))
st.plotly_chart(themed(reconstruction_grid_figure(test_images[shown], rows)), key="recon_grid", width="content")

summary = {"run": [], "k": [], "test MSE": [], "PCA at same k": [], "PCA compared with": []}
for info, _, errors in loaded:
    k = int(info.config.get("k"))
    summary["run"].append(info.label)
    summary["k"].append(k)
    summary["test MSE"].append(float(errors.mean()))
    summary["PCA at same k"].append(float(pca_reconstructions(dataset_name, k)[1].mean()))
    compared = compared_k(info)
    summary["PCA compared with"].append(
        f"k = {compared}" + (f" (its active units): {pca_reconstructions(dataset_name, compared)[1].mean():.4f}"
                             if compared != k else ""))
data_table(summary, hide_index=True)
if any(compared_k(info) != int(info.config["k"]) for info, _, _ in loaded):
    st.caption("A k-sparse run rebuilds each image from only its active units, so it is compared with PCA using "
               "as many components (Makhzani & Frey); at its full k it has more numbers to choose from than "
               "it uses.")

st.subheader("Best and worst reconstructed test images")
which = st.selectbox("For run", range(len(loaded)), format_func=lambda i: loaded[i][0].label, key="recon_bw")
info, recons, errors = loaded[which]
best, worst = best_worst_indices(errors, 8)
st.plotly_chart(themed(reconstruction_grid_figure(test_images[best], [("reconstruction", recons[best], errors[best])],
                                           title="Best: the easiest test images for this run")),
                key="recon_best", width="content")
st.plotly_chart(themed(reconstruction_grid_figure(test_images[worst], [("reconstruction", recons[worst], errors[worst])],
                                           title="Worst: the hardest ones")), key="recon_worst", width="content")

st.subheader("Mean error per class")
n_classes = len(dataset.class_names)
series = [(info.label, mean_error_per_class(errors, labels, n_classes)) for info, _, errors in loaded]
series += [(f"PCA k={k}", mean_error_per_class(pca_reconstructions(dataset_name, int(k))[1], labels, n_classes))
           for k in pca_ks]
st.plotly_chart(themed(error_per_class_figure(list(dataset.class_names), series)), key="recon_classes")

st.subheader("Inputs unlike the data: does a run copy?")
st.markdown("With more code units than pixels and no regulariser, nothing stops an autoencoder from passing its "
            "input through (the identity), which has learned nothing about the data. So give each run inputs "
            "unlike what it was trained on: **scrambled test images** (every pixel taken from another test image: "
            "the data's pixel values without its shapes), **uniform noise**, and another dataset's images where "
            "one is here. The closer a run comes to copying, the better it rebuilds them; a run that learned what "
            "the images look like pulls them towards those, and misses. Errors are against the input itself. "
            "Training only shows a run real images, so a pixel that is blank in all of them (a digit's corners) "
            "was never taught to pass through: uniform noise defeats even a run that copies scrambled images well. "
            "Compare an overcomplete run with regularizer = none against one with regularizer = noise.")
copy_errors, copy_examples = copying_view(tuple((i.run_id, i.created, i.label) for i, _, _ in loaded), dataset_name)
st.plotly_chart(themed(input_error_bars(copy_errors)), key="recon_copying")
st.plotly_chart(themed(reconstruction_grid_figure(*copy_examples, title="Scrambled, then rebuilt by each run")),
                key="recon_copy_grid", width="content")
