"""Sparsity page: how many hidden units fire, which never do, what each unit looks for, and the
trade-off between sparsity and reconstruction error."""

from __future__ import annotations

import streamlit as st

from aeviz.analysis import sparsity
from aeviz.errors import AevizError
from aeviz.figures import sparsity as figs
from aeviz.sweeps import presets
from aeviz.sweeps.spec import SweepPoint
from aeviz.training.config import default_epochs
from aeviz.variants import get_variant, variants_where

from ui.common import cached_dataset, cached_run, current_dataset_name
from ui.common import run_store
from ui.runs import converged, no_runs_message, pick_runs
from ui.sweep_panel import completed_points, current_sweep, start_sweep, sweep_section
from ui.theme import chart_columns, data_table, themed

SWEEP_KEY = "sparsity_sweep_runner"

st.title("Sparsity")
st.markdown("A sparse code rebuilds each image from **a few active hidden units**. The L1 penalty λ·Σ|a| pushes "
            "activations to exactly zero; the KL penalty pulls each sigmoid unit's mean activation ρ̂_j towards a "
            "small target ρ; a k-sparse autoencoder simply keeps the largest few (Makhzani & Frey). Compare runs "
            "side by side, e.g. plain vs sparse_l1 vs sparse_kl vs ksparse at the same k.")

dataset_name = current_dataset_name()


@st.cache_data(show_spinner="Measuring activations over the test set…", max_entries=32)
def stats_of(run_id: str, created: float, dataset: str, threshold: float) -> sparsity.ActivationStats:
    return sparsity.activation_stats(cached_run(run_id, created).model, cached_dataset(dataset).test_images, threshold)


@st.cache_data(show_spinner=False, max_entries=32)
def features_of(run_id: str, created: float):
    return sparsity.feature_images(cached_run(run_id, created).model)


sparse = variants_where("sparsity_knob")
# The page's default run is a sparse one (a variant with a sparsity knob), trained long enough, where there is one.
runs = pick_runs(dataset_name, key="sparsity_runs", max_runs=3, label="Runs to compare (up to three)",
                 prefer=(lambda i: i.config.get("variant") in sparse and converged(i),
                         lambda i: i.config.get("variant") in sparse))
if not runs:
    no_runs_message(dataset_name)
else:
    threshold = st.slider("A unit counts as active on an image when |activation| is above", 0.0, 0.5,
                          sparsity.DEFAULT_THRESHOLD, 0.005, format="%.3f", key="sparsity_threshold",
                          help="Dormant units are never above it on any test image.")
    try:
        stats = {run.label: stats_of(run.run_id, run.created, dataset_name, threshold) for run in runs}
    except AevizError as exc:
        st.error(str(exc))
        st.stop()
    columns = st.columns(len(stats))
    for column, (label, s) in zip(columns, stats.items()):
        column.markdown(f"**{label}**")
        column.metric("Dormant units", f"{s.dormant_fraction:.0%}", help=f"{int(s.dormant.sum())} of {s.units}")
        column.metric("Active units per image", f"{s.active_per_image.mean():.1f} of {s.units}")
        column.metric("Mean activation", f"{s.mean_activation:.4f}")
    targets = [target for r in runs
               if (target := get_variant(r.config["variant"]).activation_target(r.settings)) is not None]
    left, right = chart_columns(2)
    left.plotly_chart(themed(figs.activation_histogram(stats)), width="stretch", key="sparsity_hist")
    right.plotly_chart(themed(figs.unit_mean_histogram(stats, targets[0] if targets else None)), width="stretch",
                       key="sparsity_unit_means")
    left, right = chart_columns(2)
    left.plotly_chart(themed(figs.active_units_histogram(stats)), width="stretch", key="sparsity_active")
    right.plotly_chart(themed(figs.dormant_bars(stats)), width="stretch", key="sparsity_dormant")

    st.header("What each unit looks for")
    st.markdown("Each hidden unit's encoder weights (the pattern it responds to) and decoder weights (the "
                "stroke it adds to the image), drawn as images: white positive, black negative. In Makhzani & "
                "Frey's k-sparse autoencoder, many active units give local, stroke-like features; fewer active "
                "units give more global ones, up to whole-image templates (and a middle number classified "
                "best).")
    by_label = {run.label: run for run in runs}
    side_by_side = len(runs) > 1 and st.toggle("Encoder filters of every chosen run side by side", value=False,
                                               key="sparsity_side_by_side")
    chosen = list(by_label) if side_by_side else [st.selectbox("Run", list(by_label), key="sparsity_feature_run")]
    try:
        features = {label: features_of(by_label[label].run_id, by_label[label].created) for label in chosen}
    except AevizError as exc:
        st.error(str(exc))
        features = {}
    missing = [label for label, pair in features.items() if pair is None]
    if missing:
        st.info(f"{', '.join(missing)}: the first and last layers are not linear maps from and to the image "
                f"(e.g. a convolutional model), so its units have no single image to show.")
    features = {label: pair for label, pair in features.items() if pair is not None}
    if features:
        largest = max(len(pair[0]) for pair in features.values())
        count = st.slider("Units shown (most active first)", 1, largest, min(largest, 64), key="sparsity_feature_count")
        columns = st.columns(len(features) if side_by_side else 2)
        share = 1 / len(columns)
        for index, (label, (encoder, decoder)) in enumerate(features.items()):
            order = sparsity.order_units(stats[label])
            if len(order) != len(encoder):  # the hidden activations are not the first layer's units
                order = list(range(len(encoder)))
            shown = list(order[:count])
            if side_by_side:
                columns[index].plotly_chart(themed(figs.feature_grid(encoder[shown], label), share), width="stretch",
                                            key=f"sparsity_enc_{index}")
            else:
                columns[0].plotly_chart(themed(figs.feature_grid(encoder[shown], "Encoder filters"), share),
                                        width="stretch", key="sparsity_enc")
                columns[1].plotly_chart(themed(figs.feature_grid(decoder[shown], "Decoder weights"), share),
                                        width="stretch", key="sparsity_dec")

# ---------------------------------------------------------------- Makhzani & Frey's filter figure
st.header("Fewer active units: do the features grow more global?")
st.markdown("Makhzani & Frey's figure, rebuilt with one click: k-sparse runs with the same wide code and fewer "
            "and fewer active units per image, their encoder filters side by side (most used first). In the "
            "paper (MNIST, 1000 units), many active units gave local, stroke-like filters and few gave "
            "whole-digit templates, since each image must then be rebuilt from a handful of units (a middle "
            "count classified best). Whether these runs show it is measured under the filters: a locality "
            "index per set, and what it says.")
FILTERS_KEY = "sparsity_ksparse_filters"
fc1, fc2 = st.columns([1, 3])
filter_epochs = fc1.number_input("Epochs per run", 0.5, 500.0, float(default_epochs(dataset_name)), 0.5,
                                 format="%g", key=f"sparsity_filters_epochs.{dataset_name}")
filters_runner = current_sweep(FILTERS_KEY, dataset_name)
if fc2.button("Train the runs and draw their filters", key="sparsity_filters_start", icon=":material/play_arrow:",
              disabled=filters_runner is not None and filters_runner.running):
    try:
        start_sweep(FILTERS_KEY, presets.ksparse_filters_spec(dataset_name, cached_dataset(dataset_name).input_size,
                                                               filter_epochs))
    except AevizError as exc:
        st.error(str(exc))


def draw_filters(sweep) -> None:

    points = sorted(completed_points(sweep), key=lambda p: -p.values["active_units"])
    if not points:
        return
    k = sweep.spec.fixed["k"]
    measured = []
    for column, point in zip(st.columns(len(points)), points):
        run = cached_run(point.run_id, run_store().info(point.run_id).created)
        encoder, _ = sparsity.feature_images(run.model)
        stats = stats_of(point.run_id, run_store().info(point.run_id).created, sweep.spec.dataset, 0.0)
        shown = list(sparsity.order_units(stats)[:36])
        locality = float(sparsity.locality_index(encoder[shown]).mean())
        measured.append((int(point.values["active_units"]), locality))
        column.plotly_chart(themed(figs.feature_grid(encoder[shown], f"{point.values['active_units']} active of {k}"),
                                   1 / len(points)),
                            width="stretch", key=f"sparsity_filters_{point.run_id}")
        column.caption(f"locality {locality:.2f}")
    st.markdown(sparsity.locality_trend_words(measured, min(encoder.shape[-2:]),
                                              final=sweep.status in ("completed", "stopped")))


sweep_section(FILTERS_KEY, draw_filters, dataset_name)

# ---------------------------------------------------------------- the sparsity sweep
st.header("Sparsity sweep")
st.markdown("Train a short run for each strength of the sparsity knob and plot reconstruction error against "
            "the mean activation it reaches: the more the code is squeezed, the worse the reconstruction.")
variant = st.selectbox("Variant", sparsity.sparse_variants(), key="sparsity_sweep_variant")
knob = sparsity.sparsity_knob(variant)
c1, c2, c3 = st.columns(3)
suggested = ", ".join(f"{v:g}" for v in get_variant(variant).sweep_suggestions.get(knob, ()))
values_text = c1.text_input(f"Values of {knob}", suggested, key=f"sparsity_sweep_values_{variant}")
k = c2.number_input("Bottleneck k", 1, 4096, 48, key="sparsity_sweep_k")
epochs = c3.number_input("Epochs per point", 0.1, 500.0, float(default_epochs(dataset_name)), 0.5, format="%g",
                         key=f"sparsity_sweep_epochs.{dataset_name}",  # the dataset's default budget
                         help="A run's default budget on this dataset: fewer epochs leave the runs unfinished.")
runner = current_sweep(SWEEP_KEY, dataset_name)
if st.button("Run the sweep", key="sparsity_sweep_start", icon=":material/play_arrow:",
             disabled=runner is not None and runner.running):
    try:
        values = [float(v) for v in values_text.replace(";", ",").split(",") if v.strip()]
        start_sweep(SWEEP_KEY, presets.sparsity_sweep_spec(dataset_name, variant, values, int(k), epochs=epochs))
    except ValueError:
        st.error(f"values of {knob} must be numbers separated by commas")
    except AevizError as exc:
        st.error(str(exc))


@st.cache_data(show_spinner=False, max_entries=256)
def sweep_row(point_json: dict, dataset: str) -> dict:

    point = SweepPoint(**point_json)

    info = run_store().info(point.run_id)
    return sparsity.sparsity_point_row(point, cached_run(point.run_id, info.created).model,
                                       cached_dataset(dataset).test_images)


def draw_sweep(sweep) -> None:
    points = completed_points(sweep)
    if not points:
        return
    name = sparsity.sparsity_knob(sweep.spec.variants[0])
    rows = [sweep_row(p.to_json(), sweep.spec.dataset) for p in points]
    st.plotly_chart(themed(figs.sparsity_sweep_figure(rows, name)), width="stretch", key="sparsity_sweep_fig")
    data_table([{name: r[name], "test MSE": r["test_mse"], "mean activation": r["mean_activation"],
                   "active units per image": r["mean_active_units"], "dormant units": r["dormant_fraction"],
                   "run": r["run_id"]} for r in rows], hide_index=True)


sweep_section(SWEEP_KEY, draw_sweep, dataset_name)
