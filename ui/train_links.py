"""The Train page's settings in its URL: a link (a lesson's, or one a student copied) fills in the
dataset, variant, k, budget, seed, learning rate, batch size and the variant's settings. Each value goes
through the one validation (aeviz.links.link_config, TrainConfig.validate) and must fit its widget; a value
that cannot be used is named in the page's warning and its default kept, never dropped silently."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from aeviz.data.types import SPECS
from aeviz.data.user import user_spec
from aeviz.errors import AevizError
from aeviz.links import config_query, link_config
from aeviz.variants import VARIANTS, get_variant
from aeviz.variants.trainer_settings import TRAINER_PARAM_NAMES
from ui.common import has_gpu, offered_datasets
from ui.links import publish, restore
from ui.params import widget_problem

PAGE = "train"
OWNED = ("dataset", "variant", "k", "epochs", "seconds", "seed", "lr", "batch", "set")
LR_CHOICES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2)
BATCH_CHOICES = (32, 64, 128, 256, 512, 1024)
EPOCHS_RANGE, SECONDS_RANGE, SEED_RANGE = (0.1, 1000.0), (1.0, 3600.0), (0, 2**31 - 1)


def lr_choices(default_lr: float) -> list[float]:
    """The Learning rate slider's stops: the round steps and the variant's own default."""
    return sorted({*LR_CHOICES, default_lr})


def batch_choices(default_batch: int) -> list[int]:
    return sorted({*BATCH_CHOICES, default_batch})


def k_slider(variant, input_size: int) -> tuple[int, int, int]:
    """(low, high, default) of the Bottleneck size slider for this variant and dataset."""
    low, high = variant.k_range(input_size)
    high_shown = min(high, max(256, low, 2 * input_size))  # overcomplete needs k > input size
    default_k = int(min(max(variant.default_k, low), high_shown))
    if input_size <= 64:
        default_k = min(default_k, 8) if low <= 8 else default_k
    return low, high_shown, default_k


def page_defaults(variant) -> dict:
    """The variant's learning rate and batch size as the page offers them on this machine's device."""
    return variant.training_defaults("cuda" if has_gpu() else "cpu")


def restore_train_settings() -> None:
    """Before the Train page's widgets: a link's values into their session state (once per link); the page's
    warning names the values that could not be used (ui.links.restore)."""
    restore(PAGE, _apply)


def _apply(query: dict[str, Any]) -> list[str]:
    linked = link_config(query, _input_shape, _widget_check(query))
    if linked is None:
        return []
    if linked.valid is not None:
        _apply_config(linked)
    return linked.problems


def _apply_config(linked) -> None:
    config = linked.valid.config
    state, slug = st.session_state, config.variant
    state["dataset"] = config.dataset
    state["train_variant"] = slug
    state[f"train_k.{slug}.{config.dataset}"] = config.k
    state["train_budget_kind"] = "seconds" if config.max_seconds else "epochs"
    if config.max_seconds:
        state["train_seconds"] = float(config.max_seconds)
    elif "epochs" in linked.given:
        state["train_epochs"] = float(config.epochs)
    state["train_seed"] = int(config.seed)
    if "lr" in linked.given:
        state[f"train_lr.{slug}"] = config.lr
    if "batch_size" in linked.given:
        state[f"train_batch.{slug}"] = config.batch_size
    _apply_params(slug, linked.valid.params)


def _input_shape(dataset: str) -> tuple[int, ...]:
    """A built-in dataset's image shape, or that of a dataset of this session's own (or the teacher's)."""
    if dataset in SPECS:
        return tuple(SPECS[dataset].image_shape)
    if dataset in offered_datasets():
        return tuple(user_spec(dataset).image_shape)
    raise AevizError(f"not a dataset you can use here; choose one of: {', '.join(SPECS)}, or one of your own")


def _widget_check(query: dict[str, Any]):
    """fits(name, value) for link_config: None when the value fits the Train page's widget, else its range."""
    variant = VARIANTS.get(str(query.get("variant")))
    try:
        shape = _input_shape(str(query.get("dataset")))
    except AevizError:
        shape = None  # link_config names the dataset

    def fits(name: str, value: Any) -> str | None:
        if variant is None or shape is None:
            return None
        defaults = page_defaults(variant)
        if name == "k":
            low, high, _ = k_slider(variant, math.prod(shape))
            return None if low <= value <= high else f"the Bottleneck size slider runs from {low} to {high}"
        ranges = {"epochs": EPOCHS_RANGE, "seconds": SECONDS_RANGE, "seed": SEED_RANGE}
        if name in ranges:
            low, high = ranges[name]
            words = [f"{v:,}" if isinstance(v, int) else f"{v:g}" for v in (low, high)]
            return None if low <= value <= high else f"the page takes {name} from {words[0]} to {words[1]}"
        if name == "lr" and value not in lr_choices(defaults["lr"]):
            return f"the Learning rate slider offers {', '.join(f'{v:g}' for v in lr_choices(defaults['lr']))}"
        if name == "batch" and value not in batch_choices(defaults["batch_size"]):
            return f"the Batch size slider offers {', '.join(str(v) for v in batch_choices(defaults['batch_size']))}"
        if name.startswith("set:"):
            setting = name.removeprefix("set:")
            if setting in TRAINER_PARAM_NAMES:
                return "the Train page has no control for this optimiser setting"
            param = next((p for p in variant.declared_params() if p.name == setting), None)
            return widget_problem(param, value) if param is not None else None
        return None

    return fits


def _apply_params(slug: str, values: dict[str, Any]) -> None:
    """Every declared setting of the variant: the link's value, else its default (a link is complete)."""
    for param in get_variant(slug).declared_params():
        value = values[param.name]
        if param.kind == "widths":
            value = ",".join(str(w) for w in value)
        st.session_state[f"train.{slug}.{param.name}"] = value


def publish_train_settings(config) -> None:
    """After the widgets: the URL says what the page shows."""
    publish(PAGE, config_query(config), owned=OWNED)
