"""A configuration's fingerprint: two configurations get the same one when they would train the same model.

The same dataset, variant, k, every variant and optimiser setting (defaults filled in, so a setting left at
its default and the same value typed out match), budget, batch size, learning rate and seed. The device,
tags and snapshot period do not count: they change where and how a run is watched, not what it learns.
A saved run stores its fingerprint (`FINGERPRINT_KEY` in its config.json), which is how aeviz.jobs.reuse
finds a run already trained.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from aeviz.training.config import DEFAULT_EPOCHS, TrainConfig
from aeviz.variants import get_variant
from aeviz.variants.trainer_settings import trainer_settings

FINGERPRINT_KEY = "fingerprint"  # in a saved run's config.json


def canonical_config(config: TrainConfig) -> dict[str, Any]:
    """What decides the trained model, in one canonical form (raises InvalidConfig on a bad setting)."""
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


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value
