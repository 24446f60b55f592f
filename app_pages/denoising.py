"""Denoising page: corrupt test images, watch a run clean them up, compare with PCA, and inpaint a square."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis import noise_robustness
from aeviz.analysis.pca import dataset_pca
from aeviz.data.noise import NOISE_HELP, NOISE_KINDS
from aeviz.errors import AevizError
from aeviz.figures import denoising as figs
from aeviz.sweeps import presets
from aeviz.training.config import default_epochs
from aeviz.variants import REFERENCE_VARIANT, get_variant, variants_where

from ui.common import cached_dataset, cached_run, current_dataset_name, dataset_or_stop, run_store
from ui.runs import converged, no_runs_message, pick_run
from ui.sweep_panel import completed_points, current_sweep, start_sweep, sweep_section
from ui.theme import chart_columns, themed

SWEEP_KEY = "denoising_heatmap_runner"
SHOWN = 8
NOISE_LABELS = {"gaussian": "Gaussian (σ)", "masking": "Masking (p)", "salt_and_pepper": "Salt and pepper (p)"}
CLEAN_RUN_NOISE = ("gaussian", 0.3)  # where the controls start for a run trained on clean images

st.title("Denoising")
st.markdown("A denoising autoencoder (Vincent et al. 2008) is shown a corrupted image x̃ and trained to output "
            "the clean x, so it cannot copy its input: it has to know what images look like. Every error on "
            "this page is MSE per pixel **against the clean image**.")

dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)


def pca_of(name: str):
    """The dataset's PCA, kept within the PCA budget (aeviz.analysis.pca.FITS; a page cache beside it
    would hold fits past that budget)."""
    return dataset_pca(cached_dataset(name))


def reconstructor(info):
    return noise_robustness.model_reconstructor(cached_run(info.run_id, info.created).model)


def training_noise(info) -> tuple[str, float] | None:
    """(kind, level) of the noise a run was trained on, as its variant declares; None for clean training."""
    return get_variant(info.config["variant"]).training_noise(info.settings) if info is not None else None


run = pick_run(dataset_name, key="denoising_run",  # starts on a run that shows the idea: trained on noise, converged
               prefer=(lambda info: training_noise(info) is not None and converged(info),
                       lambda info: training_noise(info) is not None, converged))
if run is None:
    no_runs_message(dataset_name)
    st.stop()
run_noise = training_noise(run)

# ---------------------------------------------------------------- clean / noisy / reconstructed
st.header("Clean, noisy, reconstructed")
c1, c2 = st.columns(2)
if st.session_state.get("denoising_shown_run") != run.run_id:
    # A newly chosen denoising run starts at the noise it was trained with.
    st.session_state["denoising_shown_run"] = run.run_id
    if run_noise is not None:
        st.session_state["denoising_kind"], st.session_state["denoising_level"] = run_noise
st.session_state.setdefault("denoising_kind", CLEAN_RUN_NOISE[0])
st.session_state.setdefault("denoising_level", CLEAN_RUN_NOISE[1])
kind = c1.selectbox("Noise", NOISE_KINDS, format_func=NOISE_LABELS.get, key="denoising_kind",
                    help="; ".join(f"{k}: {v}" for k, v in NOISE_HELP.items()))
level = c2.slider("Noise level", 0.0, 1.0, step=0.01, key="denoising_level", help=NOISE_HELP[kind])
images = dataset.test_images[:SHOWN]
try:
    example = noise_robustness.denoising_examples(reconstructor(run), images, kind, level, seed=0)
    st.plotly_chart(themed(figs.image_rows({"clean": example.clean, "noisy": example.noisy,
                                     "reconstructed": example.recon})), width="stretch", key="denoising_grid")
    m1, m2 = st.columns(2)
    m1.metric("Noisy vs clean (MSE)", f"{float(((example.noisy - example.clean) ** 2).mean()):.4f}")
    m2.metric("Reconstructed vs clean (MSE)", f"{float(((example.recon - example.clean) ** 2).mean()):.4f}")
except AevizError as exc:
    st.error(str(exc))

# ---------------------------------------------------------------- test-noise sweep
st.header("Error as the test noise grows")
st.markdown("The same noisy test images go to a denoising run, a plain run and PCA (with the denoising run's k); "
            "the dotted line is the noisy input itself.")
c1, c2 = st.columns(2)
with c1:
    den_run = pick_run(dataset_name, key="denoising_sweep_den", label="Denoising run",
                       variants=variants_where("denoises"), url_param="denoising_run")
with c2:
    plain_run = pick_run(dataset_name, key="denoising_sweep_plain", label="Plain run", variants=(REFERENCE_VARIANT,),
                         url_param="plain_run")
den_noise = training_noise(den_run)
c1, c2, c3 = st.columns(3)
sweep_kind = c1.selectbox("Noise", NOISE_KINDS, format_func=NOISE_LABELS.get, key="denoising_sweep_kind",
                          index=NOISE_KINDS.index(den_noise[0]) if den_noise else 0)
max_level = c2.slider("Largest test level", 0.05, 1.0, 0.6, 0.05, key="denoising_sweep_max")
sweep_images = c3.select_slider("Test images", [250, 500, 1000, 2000, 5000, 10000], 1000,
                                key="denoising_sweep_count")
levels = [round(float(v), 4) for v in np.linspace(0.0, max_level, 7)]


@st.cache_data(show_spinner="Reconstructing noisy test images…", max_entries=64)
def run_curve(run_id: str, created: float, dataset: str, kind: str, levels: tuple, count: int):
    model = cached_run(run_id, created).model
    return noise_robustness.noise_sweep(noise_robustness.model_reconstructor(model),
                                        cached_dataset(dataset).test_images[:count], kind, list(levels))


@st.cache_data(show_spinner=False, max_entries=64)
def pca_noise_curve(dataset: str, k: int, kind: str, levels: tuple, count: int):
    """PCA's error against the clean images at each test noise level (not ui.common's error-against-k curve)."""
    return noise_robustness.noise_sweep(noise_robustness.pca_reconstructor(pca_of(dataset), k),
                                        cached_dataset(dataset).test_images[:count], kind, list(levels))


@st.cache_data(show_spinner=False, max_entries=64)
def input_curve(dataset: str, kind: str, levels: tuple, count: int):
    return noise_robustness.noisy_input_error(cached_dataset(dataset).test_images[:count], kind, list(levels))


try:
    key = (dataset_name, sweep_kind, tuple(levels), int(sweep_images))
    curves = {}
    train_level = None
    k = int((den_run or plain_run or run).config["k"])
    for info in (den_run, plain_run):
        if info is not None:
            curves[f"{info.config['variant']} (k={info.config['k']})"] = run_curve(info.run_id, info.created, *key)
    if den_noise is not None and den_noise[0] == sweep_kind:
        train_level = den_noise[1]
    curves[f"PCA (k={k})"] = pca_noise_curve(dataset_name, k, *key[1:])
    curves["noisy input (no model)"] = input_curve(*key)
    st.plotly_chart(themed(figs.noise_sweep_figure(levels, curves, sweep_kind, train_level)), width="stretch",
                    key="denoising_sweep_fig")
    if den_run is None:
        st.caption("No denoising run on this dataset yet: train one (variant denoising) to add its curve.")
except AevizError as exc:
    st.error(str(exc))

# ---------------------------------------------------------------- trained at σ_train, tested at σ_test
st.header("Trained at one noise level, tested at another")
st.markdown("Several short denoising runs, one per training noise level (a sweep of the shared engine), each "
            "tested at every test level. Does a model trained on heavy noise handle light noise, and vice versa?")
c1, c2, c3, c4 = st.columns(4)
heat_kind = c1.selectbox("Noise", NOISE_KINDS, format_func=NOISE_LABELS.get, key="denoising_heat_kind")
suggested_levels = noise_robustness.noise_heatmap_variant().sweep_suggestions["noise_level"]
train_levels_text = ", ".join(f"{v:g}" for v in suggested_levels)
train_text = c2.text_input("Training levels", train_levels_text, key="denoising_heat_train")
heat_k = c3.number_input("Bottleneck k", 1, 4096, 32, key="denoising_heat_k")
heat_epochs = c4.number_input("Epochs per run", 0.1, 500.0, float(default_epochs(dataset_name)), 0.5, format="%g",
                              key=f"denoising_heat_epochs.{dataset_name}",  # the dataset's default budget
                              help="A run's default budget on this dataset: fewer epochs leave the runs unfinished.")
test_text = st.text_input("Test levels", "0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6", key="denoising_heat_test")
runner = current_sweep(SWEEP_KEY, dataset_name)
if st.button("Train the runs", key="denoising_heat_start", icon=":material/play_arrow:",
             disabled=runner is not None and runner.running):
    try:
        train_levels = [float(v) for v in train_text.replace(";", ",").split(",") if v.strip()]
        start_sweep(SWEEP_KEY, presets.noise_heatmap_spec(dataset_name, heat_kind, train_levels, int(heat_k),
                                                            epochs=heat_epochs))
    except ValueError:
        st.error("training levels must be numbers separated by commas")
    except AevizError as exc:
        st.error(str(exc))


def draw_heatmap(sweep) -> None:
    try:
        test_levels = sorted({float(v) for v in test_text.replace(";", ",").split(",") if v.strip()})
    except ValueError:
        st.error("test levels must be numbers separated by commas")
        return
    if not test_levels:
        return
    kind = get_variant(sweep.spec.variants[0]).training_noise(sweep.spec.fixed)[0]
    train_levels = sorted(float(v) for v in sweep.spec.grid["noise_level"])
    errors = {}
    for point in completed_points(sweep):
        info = run_store().info(point.run_id)
        errors[float(point.values["noise_level"])] = run_curve(point.run_id, info.created, sweep.spec.dataset, kind,
                                                              tuple(test_levels), int(sweep_images))
    if errors:
        matrix = noise_robustness.train_test_errors(train_levels, errors, len(test_levels))
        st.plotly_chart(themed(figs.train_test_heatmap(train_levels, test_levels, matrix, kind)), width="stretch",
                        key="denoising_heat_fig")


sweep_section(SWEEP_KEY, draw_heatmap, dataset_name)

# ---------------------------------------------------------------- inpainting
st.header("Inpainting")
height, width = dataset.image_shape[-2:]
c1, c2, c3, c4 = st.columns(4)
size = c1.slider("Square size", 1, height, max(1, height // 3), key="inpaint_size")
top = c2.slider("Top", 0, height - 1, min(height // 3, height - 1), key="inpaint_top")
left = c3.slider("Left", 0, width - 1, min(width // 3, width - 1), key="inpaint_left")
fill = c4.slider("Fill value", 0.0, 1.0, 0.0, 0.05, key="inpaint_fill")
try:
    mask = noise_robustness.square_mask((height, width), size, top, left)
    result = noise_robustness.inpaint(reconstructor(run), dataset.test_images[:SHOWN], mask, fill)
    st.plotly_chart(themed(figs.inpainting_figure(result.clean, result.masked, result.recon, result.mask)), width="stretch",
                    key="inpaint_fig")
    m1, m2, m3 = chart_columns(3)  # stacked in projector mode: their labels did not fit a third of it
    m1.metric("Inside the square: fill vs clean", f"{result.fill_mse_inside:.4f}")
    m2.metric("Inside: reconstruction vs clean", f"{result.mse_inside:.4f}")
    m3.metric("Outside: reconstruction vs clean", f"{result.mse_outside:.4f}")
    st.caption(f"Run: {run.label}. A masking-noise denoising run has learned exactly this: fill in pixels set to 0.")
except AevizError as exc:
    st.error(str(exc))
