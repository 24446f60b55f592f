"""Reusing a run already trained on this server: a configuration's fingerprint, and finding a saved
run with the same one.

Two configurations get the same fingerprint when they would train the same model: the same
dataset, variant, k, every variant and optimiser setting (defaults filled in, so a setting left at
its default and the same value typed out match), budget, batch size, learning rate and seed. The
device, tags and snapshot period do not count: they change where and how a run is watched, not
what it learns. Thirty students opening one lesson link then cost one training.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from aeviz.config import DEFAULT_EPOCHS, TrainConfig
from aeviz.trainer_settings import trainer_settings
from aeviz.errors import AevizError

FINGERPRINT_KEY = "fingerprint"  # in a saved run's config.json
REUSABLE_STATUS = "completed"    # a stopped or diverged run did not spend its budget: never offered


def canonical_config(config: TrainConfig) -> dict[str, Any]:
    """What decides the trained model, in one canonical form (raises InvalidConfig on a bad setting)."""
    from aeviz.variants import get_variant

    variant = get_variant(config.variant)
    params = variant.parse_params(config.params)
    trainer = trainer_settings(variant, config.trainer)
    epochs = config.epochs
    if epochs is None and not config.max_seconds:
        epochs = DEFAULT_EPOCHS  # what the trainer does with no budget given
    canonical = {
        "dataset": str(config.dataset), "variant": str(config.variant), "k": int(config.k),
        "epochs": _number(epochs), "max_seconds": _number(config.max_seconds),
        "batch_size": int(config.batch_size), "lr": _number(config.lr), "seed": int(config.seed),
        "params": {name: _plain(value) for name, value in sorted(params.items())},
        "trainer": {name: _plain(value) for name, value in sorted(trainer.items())},
    }
    if variant.centers_input:  # runs saved before the variant subtracted the mean image trained another model
        canonical["input"] = "mean image subtracted"
    return canonical


def config_fingerprint(config: TrainConfig) -> str:
    """A short hash of canonical_config: equal for configurations that train the same model."""
    text = json.dumps(canonical_config(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def saved_fingerprint(info) -> str | None:
    """The fingerprint of a saved run (a RunInfo): stored with it, else computed from its config.json
    (runs saved before fingerprints were stored); None when the config cannot be read as one."""
    stored = info.config.get(FINGERPRINT_KEY)
    if isinstance(stored, str) and stored:
        return stored
    try:
        return config_fingerprint(TrainConfig.from_json(info.config))
    except (AevizError, TypeError, ValueError, KeyError):
        return None


def find_reusable(store, config: TrainConfig):
    """The newest undamaged, completed run in `store` with `config`'s fingerprint (a RunInfo), or None.
    An imported run never counts: it was trained elsewhere, and its archive could claim anything (this is
    what `--reuse`, the Train page's offer, `lessons prepare` and a lesson's reference all ask)."""
    wanted = config_fingerprint(config)
    for info in store.list():  # newest first
        if info.damaged or info.imported or info.metrics.get("status") != REUSABLE_STATUS:
            continue
        if info.config.get("dataset") != config.dataset or info.config.get("variant") != config.variant:
            continue  # cheap filter before computing fingerprints of old runs
        if saved_fingerprint(info) == wanted:
            return info
    return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value
