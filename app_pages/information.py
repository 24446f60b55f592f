"""Information page: surprise, entropy, cross-entropy and KL with sliders, then measured on trained runs."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis import information
from aeviz.analysis.sparsity import activation_stats
from aeviz.errors import AevizError
from aeviz.figures import information as figs
from aeviz.figures.information import sparse_penalty_words
from aeviz.variants import get_variant, variants_where

from ui.common import cached_dataset, cached_run, current_dataset_name
from ui.runs import no_runs_message, pick_run
from ui.theme import chart_columns, themed

st.title("Information: surprise, entropy, KL")
st.caption("Every number on this page is in nats (natural logarithms; 1 nat = 1/ln 2 ≈ 1.44 bits).")

# ---------------------------------------------------------------- surprise and entropy
st.header("Surprise and entropy")
left, right = chart_columns(2)
with left:
    p = st.slider("Probability p of an outcome", 0.001, 1.0, 0.25, 0.001, key="info_surprise_p", format="%.3f")
    st.plotly_chart(themed(figs.surprise_curve(p)), width="stretch", key="info_surprise_fig")
    st.markdown("A sure thing (p = 1) is no surprise at all; a rare one is very surprising. "
                "Surprise adds up over independent events, which is why it is a logarithm.")
with right:
    coin = st.slider("Coin with P(heads) = p", 0.0, 1.0, 0.5, 0.01, key="info_coin_p")
    st.plotly_chart(themed(figs.bernoulli_entropy_curve(coin)), width="stretch", key="info_coin_fig")
    st.markdown("Entropy H = Σ p (−log p) is the *expected* surprise: largest (log 2) for a fair coin, "
                "zero when the outcome is certain (p = 0 or 1, where 0 · log 0 counts as 0).")

st.subheader("A categorical distribution")
outcomes = st.slider("Number of outcomes", 2, 8, 4, key="info_cat_n")
cols = st.columns(outcomes)
weights = [cols[i].slider(f"weight {i}", 0.0, 1.0, [0.5, 0.25, 0.15, 0.1][i] if i < 4 else 0.0, 0.01,
                          key=f"info_cat_w{i}") for i in range(outcomes)]
try:
    cat = information.normalize(weights)
    st.plotly_chart(themed(figs.categorical_entropy_bars(cat)), width="stretch", key="info_cat_fig")
except AevizError as exc:
    st.error(str(exc))

# ---------------------------------------------------------------- cross-entropy and KL
st.header("Cross-entropy and KL divergence")
st.markdown("The truth is **P**; a model believes **Q**. The surprise we actually pay, on average, is the "
            "cross-entropy H(P, Q) = −Σ p log q. It is never below H(P): the excess is the KL divergence, "
            "**H(P, Q) = H(P) + KL(P‖Q)**. Training with cross-entropy can only shrink the KL part, since "
            "H(P) is fixed by the data.")
labels = ["A", "B", "C", "D"]
p_col, q_col = st.columns(2)
p_defaults, q_defaults = [0.5, 0.3, 0.15, 0.05], [0.25, 0.25, 0.25, 0.25]
p_weights = [p_col.slider(f"weight of {s} in P", 0.0, 1.0, p_defaults[i], 0.01, key=f"info_p{i}")
             for i, s in enumerate(labels)]
q_weights = [q_col.slider(f"weight of {s} in Q", 0.0, 1.0, q_defaults[i], 0.01, key=f"info_q{i}")
             for i, s in enumerate(labels)]
st.caption("Each distribution is its weights divided by their sum: the bars below show the probabilities used.")
try:
    P, Q = information.normalize(p_weights), information.normalize(q_weights)
    h, ce = float(information.entropy(P)), float(information.cross_entropy(P, Q))
    kl = float(information.kl_divergence(P, Q))
    m1, m2, m3 = st.columns(3)
    m1.metric("H(P)", f"{h:.4f}")
    m2.metric("KL(P‖Q)", f"{kl:.4f}" if np.isfinite(kl) else "∞")
    m3.metric("H(P, Q)", f"{ce:.4f}" if np.isfinite(ce) else "∞")
    if np.isfinite(ce):
        st.markdown(f"**{h:.4f} + {kl:.4f} = {h + kl:.4f} = H(P, Q)**")
    else:
        st.warning("Q gives probability 0 to an outcome P says can happen: the surprise when it happens is "
                   "infinite, and so are H(P, Q) and KL(P‖Q).")
    st.plotly_chart(themed(figs.cross_entropy_figure(P, Q, labels)), width="stretch", key="info_ce_fig")
except AevizError as exc:
    st.error(str(exc))

st.subheader("The sparse autoencoder's penalty: KL(ρ‖ρ̂)")
a, b = st.columns(2)
rho = a.slider("Target mean activation ρ", 0.01, 0.5, 0.05, 0.01, key="info_rho")
rho_hat = b.slider("A unit's actual mean activation ρ̂", 0.0, 1.0, 0.2, 0.01, key="info_rho_hat")
st.plotly_chart(themed(figs.bernoulli_kl_curve(rho, rho_hat)), width="stretch", key="info_kl_fig")
st.markdown(sparse_penalty_words(rho))

# ---------------------------------------------------------------- trained runs
st.header("Measured on a trained run")
dataset = current_dataset_name()
# The default run is one whose KL this page can show per unit or per dimension (sparse_kl, a VAE), where there is one.
kl_variants = variants_where("activation_target_param") + variants_where("has_prior")
run = pick_run(dataset, key="info_run", prefer=(lambda i: i.config.get("variant") in kl_variants,))
if run is None:
    no_runs_message(dataset)
    st.stop()


@st.cache_data(show_spinner="Measuring cross-entropy per pixel…", max_entries=16)
def bce_split(run_id: str, created: float, dataset_name: str):
    return information.pixel_bce_split(cached_run(run_id, created).model, cached_dataset(dataset_name).test_images)


@st.cache_data(show_spinner=False, max_entries=16)
def unit_means(run_id: str, created: float, dataset_name: str):

    return activation_stats(cached_run(run_id, created).model, cached_dataset(dataset_name).test_images).unit_means


@st.cache_data(show_spinner=False, max_entries=16)
def vae_kl(run_id: str, created: float, dataset_name: str):
    return information.vae_kl_per_dimension(cached_run(run_id, created).model, cached_dataset(dataset_name).test_images)


try:
    split = bce_split(run.run_id, run.created, dataset)
    st.plotly_chart(themed(figs.pixel_bce_split_figure(split)), width="stretch", key="info_bce_fig")
    st.markdown(f"Reading each pixel's grey level x as a probability, binary cross-entropy with the "
                f"reconstruction r splits into the data's own entropy H(x) (**{split.mean_data_entropy:.4f}** "
                f"nats per pixel on average: grey pixels are uncertain, black and white ones are not) and "
                f"KL(x‖r) (**{split.mean_kl:.4f}**), the only part the model can reduce.")
    variant = get_variant(run.config["variant"])
    target = variant.activation_target(run.settings)
    if target is not None:
        means = unit_means(run.run_id, run.created, dataset)
        kl_units = information.unit_kl(target, np.clip(means, 0.0, 1.0))
        st.plotly_chart(themed(figs.unit_kl_bars(kl_units, means, target)), width="stretch", key="info_unit_kl_fig")
    elif variant.has_prior:
        kl_dims = vae_kl(run.run_id, run.created, dataset)
        st.plotly_chart(themed(figs.vae_kl_bars(kl_dims)), width="stretch", key="info_vae_fig")
        from aeviz import facts

        gone = facts.collapsed_dimensions(kl_dims)
        st.markdown("A latent dimension whose KL is near zero has a posterior equal to the prior for every "
                    f"image: the decoder ignores it (posterior collapse). Counted as collapsed here, on every "
                    f"page and in the lessons: {facts.collapse_rule_words()}. This run: "
                    + (f"dimension{'s' if len(gone) > 1 else ''} {', '.join(map(str, gone))}." if gone
                       else "none."))
    else:
        st.info(f"Per-unit KL(ρ‖ρ̂_j) is shown for {' and '.join(variants_where('activation_target_param'))} runs "
                f"and KL per latent dimension for {' and '.join(variants_where('has_prior'))} runs; "
                "pick one of those to see it.")
except AevizError as exc:
    st.error(str(exc))
