"""Explore: decode any point of the code space, the latent manifold, traversals, interpolation, the
codes forming during training, your own drawing through up to three runs, and the run as a report."""

from __future__ import annotations

from streamlit_drawable_canvas import st_canvas

import numpy as np
import streamlit as st

from aeviz.analysis import drawing
from aeviz.analysis import explore
from aeviz.analysis import latent
from aeviz.errors import AevizError
from aeviz.export.report import build_report
from aeviz.figures.explore import (formation_animation, latent_scatter, selected_point, tile,
                                   upscale)
from aeviz.variants import get_variant

from ui.common import cached_dataset, cached_run, current_dataset_name, dataset_or_stop
from ui.runs import converged, load_run, pick_runs, picked_run_or_stop
from ui.theme import themed

st.title("Explore")
st.caption("Move through a trained model's code space and see what the decoder makes of each point; watch the "
           "codes form during training; draw your own image and see how typical it is to the model.")
dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)

labels = dataset.test_labels.numpy()
class_names = list(dataset.class_names)
test_images = dataset.test_images.numpy()[:, 0]
side = test_images.shape[-1]
SCALE = max(1, 112 // side)          # on-screen pixels per image pixel for single images
SHOWN = 2000                         # test codes in the scatter


def show(image, caption=None, scale=SCALE, where=st):
    where.image(upscale(np.clip(image, 0, 1), scale), caption=caption, clamp=True)


@st.cache_data(show_spinner="Encoding the test set…", max_entries=16)
def reference(run_id: str, created: float, dataset: str) -> drawing.TestReference:
    """The run's codes and reconstruction errors of every test image."""
    run = cached_run(run_id, created)
    return drawing.test_reference(run.model, cached_dataset(dataset).test_images)


@st.cache_data(show_spinner="Decoding the grid…", max_entries=16)
def manifold_images(run_id: str, created: float, dataset: str, n: int) -> np.ndarray:
    run = cached_run(run_id, created)
    codes = reference(run_id, created, dataset).codes
    dims = explore.plane_dimensions(codes)
    return tile(latent.manifold(run.model, n, run.model.has_prior, codes, dims).images, pad=1)


@st.cache_data(show_spinner="Building the animation…", max_entries=8)
def formation_figure(run_id: str, created: float, dataset: str):
    run = cached_run(run_id, created)
    formation = explore.formation_frames(run.code_snapshots)
    return formation_animation(formation, cached_dataset(dataset).test_labels.numpy()[formation.indices],
                               cached_dataset(dataset).class_names)


@st.cache_data(show_spinner="Writing the report…", max_entries=4)
def report_html(run_id: str, created: float, dataset: str) -> bytes:

    return build_report(cached_run(run_id, created), cached_dataset(dataset)).encode("utf-8")


def plane_of_codes(info) -> bool:
    """A run whose codes are a plane to click in as they are: k = 2, or a VAE (its prior is the plane's scale)."""

    try:
        return int(info.config.get("k", 0)) == 2 or get_variant(info.config["variant"]).has_prior
    except (AevizError, KeyError, ValueError):
        return False


# The page starts on a run that shows its idea: converged, and with a plane of codes if there is one.
info, run = picked_run_or_stop(dataset_name, key="explore_run",
                               prefer=(lambda i: converged(i) and plane_of_codes(i), converged))
k, vae = run.config.k, run.model.has_prior
ref = reference(info.run_id, info.created, dataset_name)
shown = np.arange(len(labels)) if len(labels) <= SHOWN else np.linspace(0, len(labels) - 1, SHOWN).astype(int)

decode_tab, form_tab, draw_tab, share_tab = st.tabs(["Decode anywhere", "Watch it form", "Draw your own", "Share"])

# ---------------------------------------------------------------------------- decode anywhere
# Each part is a fragment: a click or a slider reruns that part only, not the whole page.
@st.fragment
def decode_plane() -> None:
    dims = explore.plane_dimensions(ref.codes)
    points = ref.codes[:, dims]
    if k > 2:
        st.caption(f"This VAE has k = {k}: the plane is code dimensions {dims[0] + 1} and {dims[1] + 1} (the two "
                   f"with the largest spread); the other dimensions stay at 0, the prior's mean.")
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * np.maximum(high - low, 1e-3)
    # an invisible 50 x 50 grid under the scatter: a click on empty space selects a grid point there
    grid_x = np.linspace(low[0] - pad[0], high[0] + pad[0], 50)
    grid_y = np.linspace(low[1] - pad[1], high[1] + pad[1], 50)
    # A click (or box) on the chart sets the point; the number inputs show it and can set it too.
    clicked = selected_point(st.session_state.get("explore_plane"))
    if clicked is not None and clicked != st.session_state.get("explore_last_click"):
        st.session_state["explore_last_click"] = clicked
        st.session_state["explore_z1"], st.session_state["explore_z2"] = clicked
    st.session_state.setdefault("explore_z1", float(np.median(points[:, 0])))
    st.session_state.setdefault("explore_z2", float(np.median(points[:, 1])))
    plot_col, image_col = st.columns([3, 1])
    with image_col:
        z1 = st.number_input(f"z{dims[0] + 1}", key="explore_z1", format="%.3f")
        z2 = st.number_input(f"z{dims[1] + 1}", key="explore_z2", format="%.3f")
        show(explore.decode_point(run.model, (z1, z2), dims), f"decoded at ({z1:.2f}, {z2:.2f})")
        st.caption("Click anywhere in the plane, between the clusters too: a plain autoencoder's answer "
                   "there is often not an image of any class; a VAE, trained so that the space around each "
                   "code decodes to plausible images, usually does better.")
    with plot_col:
        fig = latent_scatter(points[shown], labels[shown], class_names, "Test codes: click to decode",
                             click_grid=(grid_x, grid_y), markers=[("decoded", (z1, z2))],
                             axis_titles=(f"z{dims[0] + 1}", f"z{dims[1] + 1}"))
        st.plotly_chart(themed(fig), key="explore_plane", on_select="rerun", selection_mode=("points", "box"))


@st.fragment
def manifold_section() -> None:
    st.subheader("The latent manifold")
    n = st.slider("Grid size", 5, 25, 15, key="explore_grid_n")
    st.caption(f"Images decoded from a regular grid over the plane: {latent.grid_description(vae)}.")
    show(manifold_images(info.run_id, info.created, dataset_name, n), scale=max(1, 560 // (n * side)))


@st.fragment
def traversal_section() -> None:
    st.subheader("Latent traversal")
    st.caption(f"k = {k}: each row moves one code dimension from −2 to +2 standard deviations of its spread "
               "over the test set, the others fixed at the chosen image's code. Rows: the "
               f"{min(k, explore.TRAVERSAL_DIMENSIONS)} dimensions with the largest spread.")
    index = st.number_input("Test image", 0, len(labels) - 1, 0, key="explore_traverse_index")
    result = explore.traversal(run.model, ref.codes[index], ref.codes, steps=9)
    left, right = st.columns([1, 4])
    show(test_images[index], f"test image {index} ({class_names[labels[index]]})", where=left)
    right.image(upscale(tile(result.images), max(1, 640 // (9 * side))), clamp=True,
                caption="rows: " + ", ".join(f"z{d + 1} (sd {s:.2f})" for d, s in zip(result.dims, result.spread)))


@st.fragment
def interpolation_section() -> None:
    st.subheader("Interpolation: code space against pixel space")
    first = {c: int(np.nonzero(labels == c)[0][0]) for c in np.unique(labels)}
    a_col, b_col, steps_col = st.columns(3)
    a = a_col.number_input("From test image", 0, len(labels) - 1, first.get(0, 0), key="explore_interp_a")
    b = b_col.number_input("To test image", 0, len(labels) - 1, first.get(1, 1), key="explore_interp_b")
    steps = steps_col.slider("Steps", 3, 15, 9, key="explore_interp_steps")
    in_code, in_pixels = latent.interpolate(run.model, test_images[a], test_images[b], steps)
    scale = max(1, 720 // (steps * side))
    st.image(upscale(tile(in_code), scale), caption="decoded along the straight line between the two codes", clamp=True)
    st.image(upscale(tile(in_pixels), scale), caption="cross-fade of the pixels", clamp=True)


with decode_tab:
    if k == 2 or (vae and k > 2):
        decode_plane()
        manifold_section()
    else:
        traversal_section()
    interpolation_section()

# ---------------------------------------------------------------------------- watch it form
with form_tab:
    if run.code_snapshots:
        st.caption("The codes of a fixed subset of test images, recorded every few seconds while the run trained. "
                   + ("k = 2: the codes themselves." if k == 2 else
                      f"k = {k}: each snapshot's 2-D PCA projection, turned onto the previous frame (orthogonal "
                      "Procrustes) so the picture neither spins nor flips."))
        st.plotly_chart(themed(formation_figure(info.run_id, info.created, dataset_name)), key="explore_formation")
    else:
        st.info("This run has no recorded codes (runs with k above 128 record none). Train a run to watch its "
                "latent space form.")

# ---------------------------------------------------------------------------- draw your own
def drawn_or_uploaded() -> np.ndarray | None:
    """The grey image (H, W) in [0, 1] drawn on the canvas or uploaded; None until there is one."""
    source = st.radio("Input", ["Draw", "Upload an image"], horizontal=True, key="explore_draw_source")
    if source == "Draw":
        grey = None
        try:

            # white on black, as the datasets' images and every picture in the app are
            result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000",
                               height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                               key="explore_canvas")
            pixels = result.image_data
            if pixels is not None and pixels.size:
                grey = drawing.to_grey(pixels, clear=0.0)
        except ImportError:
            st.warning("The drawing canvas needs `pip install streamlit-drawable-canvas`; upload an image instead.")
        thing = "a piece of clothing (a trouser, a bag…)" if dataset_name == "fashion-mnist" else "a digit"
        st.caption(f"Draw {thing} with the mouse (or a finger); the trash icon clears the canvas.")
        return grey
    upload = st.file_uploader("PNG or JPEG, up to 5 MB", type=list(drawing.UPLOAD_TYPES), key="explore_upload",
                              max_upload_size=drawing.MAX_UPLOAD_BYTES // (1024 * 1024))
    if upload is None:
        return None
    try:
        return drawing.read_upload(upload.getvalue(), upload.name)
    except AevizError as exc:
        st.error(str(exc))
        return None


def preprocessed(grey: np.ndarray | None, where) -> np.ndarray | None:
    """The drawing cropped, scaled and centred as the dataset's images were (shown in `where`), or None."""
    image = None
    if grey is not None:
        try:
            image = drawing.preprocess_for(dataset_name, grey)
        except AevizError as exc:
            where.info(str(exc))
    if image is not None:
        show(image, f"what the model receives: {side}x{side}", where=where)
        where.caption(f"Preprocessed as the dataset was made: {drawing.recipe_text(dataset_name)}.")
    else:
        where.caption(f"The input the model receives appears here: {drawing.recipe_text(dataset_name)}.")
    return image


def drawing_through_run(chosen_info, image: np.ndarray) -> None:
    """What one run makes of the drawing: its reconstruction, error, nearest test images and place among the codes."""
    chosen_run = load_run(chosen_info)
    if chosen_run is None:
        return
    chosen_ref = reference(chosen_info.run_id, chosen_info.created, dataset_name)
    analysis = drawing.analyse_drawing(chosen_run.model, image, chosen_ref)
    st.markdown(f"**{chosen_info.label}**")
    show(analysis.reconstruction, "reconstruction", scale=max(1, 84 // side))
    st.metric("Reconstruction error (MSE per pixel)", f"{analysis.error:.4f}")
    st.metric("Worse than this share of test images", f"{analysis.percentile:.0f}%",
              help="Percentile of the drawing's reconstruction error among the test set's. Near 100%: "
                   "unlike anything the model was trained on (the anomaly-detection idea).")
    st.image(upscale(tile(test_images[analysis.neighbours]), max(1, 56 // side)), clamp=True,
             caption="nearest test images in code space: "
                     + ", ".join(class_names[labels[i]] for i in analysis.neighbours))
    projection = latent.code_projection(chosen_ref.codes)  # the same picture as Latent space
    st.plotly_chart(themed(latent_scatter(projection(chosen_ref.codes[shown]), labels[shown], class_names,
                                   "Your drawing among the test codes",
                                   markers=[("you", projection(analysis.code)[0])],
                                   axis_titles=("z1", "z2") if chosen_run.config.k == 2 else ("PC 1", "PC 2"))),
                    key=f"explore_draw_scatter_{chosen_info.run_id}")


@st.fragment
def draw_section() -> None:
    canvas_col, input_col = st.columns([2, 1])
    with canvas_col:
        grey = drawn_or_uploaded()
    image = preprocessed(grey, input_col)
    chosen = pick_runs(dataset_name, key="explore_draw_runs", max_runs=3, label="Runs to show it to",
                       url_param="draw_runs")
    if image is not None:
        for column, chosen_info in zip(st.columns(max(len(chosen), 1)), chosen):
            with column:
                drawing_through_run(chosen_info, image)


with draw_tab:
    draw_section()

# ---------------------------------------------------------------------------- share
with share_tab:
    st.write("One self-contained HTML file, viewable offline: configuration, metrics against PCA, loss curves, "
             "reconstructions, the latent scatter and the animation. Mail it, or put it on a course page.")
    st.download_button("Download the report", data=lambda: report_html(info.run_id, info.created, dataset_name),
                       file_name=f"{info.run_id}.html", mime="text/html", on_click="ignore", key="explore_report",
                       icon=":material/download:")
    st.caption(f"From a terminal: `python -m aeviz report {info.run_id} --output run.html`")
