"""Latent space: the test set's codes coloured by class next to PCA of the pixels, the error-versus-k
frontier, principal angles for linear runs, decoded grids and interpolations."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis import comparison as analysis
from aeviz.analysis import latent
from aeviz.analysis import umap_embed
from aeviz.analysis.contraction import jacobian_norms
from aeviz.figures.images import mosaic_figure
from aeviz.figures.latent import (code_scatter_figure, decoded_grid_figure, frontier_figure,
                                  jacobian_norm_figure, principal_angles_figure)

from ui.common import (cached_dataset, cached_run, current_dataset_name, dataset_or_stop,
                       pca_curve)
from ui.export_download import export_downloads
from ui.latent_umap import umap_of_codes
from ui.runs import load_run, no_runs_message, pick_run, saved_runs
from ui.theme import chart_columns, themed
from ui.user_dataset import note_if_unlabelled

st.title("Latent space")
dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)

labels = dataset.test_labels.numpy()
class_names = list(dataset.class_names)
test_images = dataset.test_images.numpy()


@st.cache_data(show_spinner="Encoding the test set…", max_entries=16)
def test_codes(run_id: str, created: float, dataset: str) -> np.ndarray:
    run = cached_run(run_id, created)
    return latent.encode_images(run.model, cached_dataset(dataset).test_images)


@st.cache_data(show_spinner="PCA of the pixels…", max_entries=8)
def pixel_pca(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The test images on their first two principal axes, and the share of variance along each."""
    pixels = cached_dataset(dataset).test_images.numpy()
    projection = latent.pca_projection(pixels)
    return projection(pixels), projection.explained


def selected_indices(event) -> list[int]:
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    out = []
    for point in points:
        value = point.get("customdata")
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            out.append(int(value))
    return out[:16]


def show_selection(indices: list[int], key: str) -> None:
    where = st
    if indices:
        rows = [test_images[indices[i:i + 8]] for i in range(0, len(indices), 8)]
        where.plotly_chart(themed(mosaic_figure(rows, cell_px=40,
                                         title=", ".join(class_names[labels[i]] for i in indices[:6])
                                         + ("…" if len(indices) > 6 else ""))), key=key,
                           width="content")
    else:
        where.caption("Hover a point for its class and test-image number; click or lasso points to see the images.")


# ---------------------------------------------------------------------------- scatter
st.subheader("Codes of the test set, coloured by class")
note_if_unlabelled(dataset, "the codes are drawn in one colour.")
info = pick_run(dataset_name, key="latent_run")
if info is None:
    no_runs_message(dataset_name)
run = load_run(info) if info is not None else None
left, right = chart_columns(2)
if run is not None:
    k = int(info.config["k"])
    codes = test_codes(info.run_id, info.created, dataset_name)
    with left:
        if k <= 2:
            method = "codes directly" if k == 2 else "the code on a line"
            embedding = latent.codes_2d(codes)
            points = np.arange(len(codes))
            axes = ("h1", "h2" if k == 2 else "")
        else:
            method = st.radio("Show the k-dimensional codes in 2-D with", ["PCA of the codes", "UMAP of the codes"],
                              horizontal=True, key="latent_method")
            if method.startswith("PCA"):
                projection = latent.code_projection(codes)  # the same picture as Explore and the report
                embedding, ratio = projection(codes), projection.explained
                points = np.arange(len(codes))
                axes = (f"PC1 of codes ({100 * ratio[0]:.0f}%)", f"PC2 ({100 * ratio[1]:.0f}%)")
            else:  # made in the background (its panel meanwhile), never in this script run
                points = analysis.stratified_subsample(labels, umap_embed.MAX_POINTS)
                embedding = umap_of_codes(info.run_id, info.created, codes, points)
                axes = ("UMAP 1", "UMAP 2")
        if embedding is not None:
            event = st.plotly_chart(themed(code_scatter_figure(embedding, labels[points], class_names, points,
                                                               title=f"{info.label}: {method}", axis_titles=axes)),
                                    key="latent_codes", on_select="rerun", selection_mode=("points", "lasso", "box"))
            show_selection(selected_indices(event), "latent_codes_selected")
        export_downloads(info, dataset_name, key="latent_export")
with right:
    pixels, ratio = pixel_pca(dataset_name)
    if run is not None and dataset.input_size > 0 and k > 2:
        st.write("")  # align with the radio on the left
    event = st.plotly_chart(themed(code_scatter_figure(pixels, labels, class_names,
                                                title="PCA of the raw pixels (no training)",
                                                axis_titles=(f"PC1 ({100 * ratio[0]:.0f}%)",
                                                             f"PC2 ({100 * ratio[1]:.0f}%)"))),
                            key="latent_pixels", on_select="rerun", selection_mode=("points", "lasso", "box"))
    show_selection(selected_indices(event), "latent_pixels_selected")

# ---------------------------------------------------------------------------- frontier
st.subheader("Did it beat PCA? Test error against k")
points = analysis.frontier_points(saved_runs(dataset_name), dataset_name, pca_curve(dataset_name))
# Up to k = 64, or half the input size on small images (digits: 32) so the curve's tail near 0 does not
# squash the axis, extended to the largest k of a run.
ks, mses = analysis.pca_frontier(dataset, max(min(64, dataset.input_size // 2), *(p.k for p in points), 1))
st.plotly_chart(themed(frontier_figure(ks, mses, points, highlight=info.run_id if info else None)), key="latent_frontier")
beating = [p for p in points if p.beats_pca]
st.caption(f"The dashed line is PCA's exact test error for k = 1…{ks[-1]}; each marker is a saved run "
           f"({len(beating)} of {len(points)} below PCA at their k).")

if run is None:
    st.stop()

# ---------------------------------------------------------------------------- principal angles
if run.model.spans_pca_subspace:
    st.subheader("A linear autoencoder learns PCA's subspace")
    from aeviz.analysis.pca import dataset_pca

    angles = analysis.linear_run_angles(run.model, dataset_pca(dataset))
    st.plotly_chart(themed(principal_angles_figure(angles)), key="latent_angles")
    st.caption(f"Principal angles between the span of the decoder's {k} columns and the span of PCA's top {k} "
               f"components: largest {angles.max():.2f}°, mean {angles.mean():.2f}°. Near 0° means the same "
               f"subspace, even though the decoder's columns need not be orthogonal or ordered like PCA's.")

# ---------------------------------------------------------------------------- contraction
st.subheader("How far the code moves when the image moves")
others = {i.run_id: i for i in saved_runs(dataset_name) if i.run_id != info.run_id}
compare = st.selectbox("Compare with", [None, *others], key="latent_jacobian_other",
                       format_func=lambda r: "no other run" if r is None else others[r].label)


@st.cache_data(show_spinner="Differentiating the encoder at 256 test images…", max_entries=32)
def code_sensitivity(run_id: str, created: float, dataset: str) -> np.ndarray:

    return jacobian_norms(cached_run(run_id, created).model, cached_dataset(dataset).test_images)


norms = {info.label: code_sensitivity(info.run_id, info.created, dataset_name)}
if compare is not None:
    norms[others[compare].label] = code_sensitivity(compare, others[compare].created, dataset_name)
st.plotly_chart(themed(jacobian_norm_figure(norms)), key="latent_jacobian")
st.caption("‖∂h/∂x‖_F: how much the code h changes per unit change of the image x, in every direction "
           "together (the Frobenius norm of the encoder's Jacobian), at each of 256 test images. A contractive "
           "autoencoder penalises its square, so its codes move less: compare a contractive run with a plain "
           "one at the same k.")

# ---------------------------------------------------------------------------- decoded grid
has_prior = run.model.has_prior
if has_prior or k == 2:
    st.subheader("Decoding a grid of codes" if k == 2 else "Decoding samples from the prior")
    side = st.slider("Grid size", 5, 15, 9, key="latent_grid_side")
    if k == 2:  # the same grid as Explore's manifold and the report's
        grid_images = latent.manifold(run.model, side, has_prior, codes).images
        where = f"a regular grid over {latent.grid_description(has_prior)}"
    else:
        grid_images = latent.decode_codes(run.model, latent.prior_samples(k, side * side))
        where = "samples z ~ N(0, I) from the prior"
    st.plotly_chart(themed(decoded_grid_figure(grid_images.reshape(side * side, *grid_images.shape[-2:]), side,
                                        title=f"Decoded from {where}")), key="latent_grid", width="content")

# ---------------------------------------------------------------------------- interpolation
st.subheader("Interpolating between two test images")
c1, c2, c3 = st.columns(3)
a = c1.number_input("First test image #", 0, len(test_images) - 1, 0, key="latent_interp_a")
other_class = np.flatnonzero(labels != labels[0])  # empty when the dataset has one class (or no labels)
b = c2.number_input("Second test image #", 0, len(test_images) - 1,
                    int(other_class[0]) if len(other_class) else min(1, len(test_images) - 1), key="latent_interp_b")
steps = c3.slider("Steps", 3, 16, 10, key="latent_interp_steps")
decoded = latent.decode_codes(run.model, latent.interpolate_codes(codes[int(a)], codes[int(b)], steps))
st.plotly_chart(themed(mosaic_figure([np.concatenate([test_images[[int(a)]], decoded, test_images[[int(b)]]])],
                              row_labels=["A … B"], cell_px=56)), key="latent_interp", width="content")
st.caption(f"Straight line in code space from A ({class_names[labels[int(a)]]}) to B "
           f"({class_names[labels[int(b)]]}), decoded at {steps} points; the real images sit at both ends.")
