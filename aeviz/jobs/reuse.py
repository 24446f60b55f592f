"""Reusing a run already trained on this server: finding a saved run with the same configuration
fingerprint (aeviz.training.fingerprint). Thirty students opening one lesson link then cost one training.
"""

from __future__ import annotations

from aeviz.errors import AevizError
from aeviz.training.config import TrainConfig
from aeviz.training.fingerprint import FINGERPRINT_KEY, config_fingerprint

REUSABLE_STATUS = "completed"    # a stopped or diverged run did not spend its budget: never offered


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
