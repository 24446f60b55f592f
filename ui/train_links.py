"""The Train page's settings in its URL: a link (a lesson's, or one a student copied) fills in the
dataset, variant, k, budget, seed, learning rate, batch size and the variant's settings."""

from __future__ import annotations

from typing import Any

import streamlit as st

from aeviz.errors import AevizError
from ui.links import publish, restore

PAGE = "train"
OWNED = ("dataset", "variant", "k", "epochs", "seconds", "seed", "lr", "batch", "set")
LR_CHOICES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2)
BATCH_CHOICES = (32, 64, 128, 256, 512, 1024)
PROBLEM_KEY = "train_link_problem"


def restore_train_settings() -> None:
    """Before the Train page's widgets: a link's values into their session state (once per link)."""
    restore(PAGE, _apply)
    if st.session_state.get(PROBLEM_KEY):
        st.warning(st.session_state[PROBLEM_KEY])


def _apply(query: dict[str, Any]) -> None:
    from aeviz.data.types import SPECS
    from aeviz.links import query_config

    st.session_state[PROBLEM_KEY] = ""
    try:
        config = query_config(query)
        if config is None:
            return
        if config.dataset not in SPECS:
            raise AevizError(f"unknown dataset {config.dataset!r}; choose one of: {', '.join(SPECS)}")
        config.validate(SPECS[config.dataset].input_size)
    except AevizError as exc:
        st.session_state[PROBLEM_KEY] = f"This link's settings were not applied: {exc}"
        return
    state, slug = st.session_state, config.variant
    state["dataset"] = config.dataset
    state["train_variant"] = slug
    state[f"train_k.{slug}.{config.dataset}"] = config.k
    state["train_budget_kind"] = "seconds" if config.max_seconds else "epochs"
    if config.max_seconds:
        state["train_seconds"] = float(config.max_seconds)
    else:
        state["train_epochs"] = float(config.epochs or 5.0)
    state["train_seed"] = int(config.seed)
    if config.lr in LR_CHOICES:
        state[f"train_lr.{slug}"] = config.lr
    if config.batch_size in BATCH_CHOICES:
        state[f"train_batch.{slug}"] = config.batch_size
    _apply_params(slug, config.params)


def _apply_params(slug: str, overrides: dict[str, Any]) -> None:
    """Every declared setting of the variant: the link's value, else its default (a link is complete)."""
    from aeviz.variants import get_variant

    variant = get_variant(slug)
    values = variant.parse_params(overrides)
    for param in variant.declared_params():
        value = values[param.name]
        if param.kind == "widths":
            value = ",".join(str(w) for w in value)
        st.session_state[f"train.{slug}.{param.name}"] = value


def publish_train_settings(config) -> None:
    """After the widgets: the URL says what the page shows."""
    from aeviz.links import config_query

    publish(PAGE, config_query(config), owned=OWNED)
