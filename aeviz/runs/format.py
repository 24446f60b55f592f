"""A run folder's files and how a finished training result becomes them (in memory, before any disk
write, so that a failed write loses nothing the caller still holds)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
WEIGHTS_FILE = "weights.pt"
CODES_FILE = "codes.npz"
REQUIRED_FILES = (CONFIG_FILE, METRICS_FILE, HISTORY_FILE, WEIGHTS_FILE)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def run_files(result) -> dict[str, bytes]:
    """A TrainResult as the files of a run folder (name -> bytes), made in memory."""
    import torch

    config_json = config_record(result.config, result.params, result.model.input_shape)
    files = {CONFIG_FILE: _json_bytes(config_json),
             METRICS_FILE: _json_bytes({**_jsonable(result.metrics), "created": time.time()}),
             HISTORY_FILE: _json_bytes({"history": result.history, "test_history": result.test_history})}
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, buffer)
    files[WEIGHTS_FILE] = buffer.getvalue()
    if result.code_snapshots:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **result.code_snapshots)
        files[CODES_FILE] = buffer.getvalue()
    return files


def config_record(config, params: dict[str, Any], input_shape) -> dict[str, Any]:
    """What a run's config.json holds: the configuration, the settings as resolved, the input shape and the
    fingerprint that finds the run again for reuse (a checkpoint records the same)."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.fingerprint import FINGERPRINT_KEY, config_fingerprint

    config_json = config.to_json()
    config_json["resolved_params"] = _jsonable(params)
    config_json["input_shape"] = list(input_shape)
    config_json[FINGERPRINT_KEY] = config_fingerprint(config)
    return config_json


def _json_bytes(data: Any) -> bytes:
    return json.dumps(_jsonable(data), indent=1).encode()
