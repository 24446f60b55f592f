"""Checking a saved run before anything is built from it: its config against the schema and the budget,
its weights' names and shapes against the model's (memory-mapped), and reading weights with
``weights_only=True`` so that a file carrying pickled code is refused, never run."""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError, DamagedRun
from aeviz.runs.format import CONFIG_FILE, WEIGHTS_FILE
from aeviz.data.types import SPECS
from aeviz.errors import InvalidConfig


def run_settings(config_json: dict[str, Any]) -> dict[str, Any]:
    """A run's variant settings: every declared setting as resolved at training time, or, for a run saved
    before those were recorded, the overrides it was given (the variant's defaults fill the rest)."""
    return config_json.get("resolved_params") or config_json.get("params") or {}


def load_weights_into_model(config_json: dict[str, Any], source, map_location: str = "cpu",
                            input_shape: tuple[int, ...] | None = None):
    """Rebuild the model a config describes and load weights from a path or bytes.

    The config is checked against the schema and the budget first (InvalidConfig, OverBudget).
    `input_shape`: the dataset's (an import passes the loaded dataset's; never the file's own claim).
    Refuses anything that is not a plain tensor state dict (pickled code included): torch.load
    runs with weights_only=True.
    """
    # lazy: torch only when called (this module imports without it)
    from aeviz.variants import build_model

    slug, shape, k, params = model_spec(config_json, input_shape)
    model = build_model(slug, shape, k, params)
    state = read_state_dict(source, map_location)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise DamagedRun(f"weights do not fit the model: {str(exc).splitlines()[0]}") from None
    model.eval()
    return model


def model_spec(config_json: Any, input_shape: tuple[int, ...] | None = None) -> tuple[str, tuple, int, dict]:
    """(variant, input shape, k, parameters) of the model a saved configuration describes, after the
    schema (config.TrainConfig.from_json), the value ranges and the budget are checked."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.config import TrainConfig

    config = TrainConfig.from_json(config_json)
    shape = tuple(input_shape) if input_shape is not None else dataset_input_shape(config.dataset, config_json)
    config.validate(shape)
    params = run_settings(config_json)
    if not isinstance(params, dict):
        raise InvalidConfig("resolved_params must be an object of settings")
    # lazy: torch only when called (this module imports without it)
    from aeviz.variants.budget import check_model
    # lazy: torch only when called (this module imports without it)
    from aeviz.variants import get_variant

    check_model(get_variant(config.variant), shape, config.k, params)
    return config.variant, shape, config.k, params


def dataset_input_shape(dataset: str, config_json: dict[str, Any]) -> tuple[int, ...]:
    """The input shape of a run's dataset: a built-in image dataset's own; for others (ratings) the
    recorded one, which must be three whole numbers."""

    if dataset in SPECS:
        return SPECS[dataset].image_shape
    recorded = config_json.get("input_shape")
    if (not isinstance(recorded, list) or len(recorded) != 3
            or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 100_000 for n in recorded)):
        raise InvalidConfig(f"input_shape must be three whole numbers from 1 to 100000 (got {recorded!r})")
    return tuple(recorded)


_checked: dict[tuple, str] = {}  # (files' identity, budget) -> problem; listing stays cheap on reruns


def checked_problem(path: Path, config_json: Any) -> str:
    """Why a run folder cannot be loaded ('' when it can): its config against the schema and budget,
    and its weights' names and shapes against the model's (read through mmap: no weights loaded)."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.variants.budget import max_params

    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (path / CONFIG_FILE, path / WEIGHTS_FILE))
    key = (str(path), stamps, max_params(), os.environ.get("AEVIZ_MAX_JOBS", ""))
    if key not in _checked:
        _checked[key] = _problem(path, config_json)
    return _checked[key]


def _problem(path: Path, config_json: Any) -> str:
    problem = _weights_file_problem(path / WEIGHTS_FILE)
    if problem:
        return problem
    try:
        slug, shape, k, params = model_spec(config_json)
    except AevizError as exc:
        return f"{CONFIG_FILE}: {exc}"
    import torch

    # lazy: torch only when called (this module imports without it)
    from aeviz.variants import get_variant

    try:
        state = read_state_dict_shapes(path / WEIGHTS_FILE)
    except DamagedRun as exc:
        return str(exc)
    with torch.device("meta"):
        expected = {name: tuple(t.shape) for name, t in get_variant(slug)(shape, k, params).state_dict().items()}
    if state != expected:
        wrong = sorted(set(state) ^ set(expected)) or [n for n in expected if state[n] != expected[n]]
        return f"weights do not fit the model its config describes ({', '.join(wrong[:3])})"
    return ""


def read_state_dict_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a weights file's tensors, memory-mapped (nothing is read into memory)."""
    import pickle

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError:
        read_state_dict(path)  # raises DamagedRun saying what the pickle holds
        raise DamagedRun(f"unreadable {WEIGHTS_FILE}") from None
    except Exception as exc:  # anything torch raises on a file that is not a checkpoint
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DamagedRun(f"unreadable {WEIGHTS_FILE} ({detail})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DamagedRun(f"{WEIGHTS_FILE} does not hold a state dict of tensors")
    return {name: tuple(t.shape) for name, t in state.items()}


def read_state_dict(source, map_location: str = "cpu") -> dict:
    """A state dict of tensors from a path or bytes, read with weights_only=True: pickled code or
    objects are refused (DamagedRun), never run."""
    import pickle

    import torch

    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of files it then refuses
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(stream, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL (\S+)", str(exc))
        if found:
            raise DamagedRun(f"refused: the weights file contains pickled Python code or objects ({found.group(1)}), "
                             f"not just tensors; nothing in it was run. Only plain weight files are accepted") from None
        raise DamagedRun("refused: not a PyTorch weights file of plain tensors (it holds other pickled data "
                         "or is corrupt)") from None
    except Exception as exc:  # anything else torch.load raises on a file that is not a checkpoint
        detail = str(exc).strip().splitlines()[0][:200] if isinstance(exc, (RuntimeError, OSError)) and str(exc).strip() else ""
        raise DamagedRun("not a readable PyTorch weights file (truncated, corrupt or another format)"
                         + (f": {detail}" if detail else "")) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DamagedRun("weights file does not hold a state dict of tensors")
    return state


def _weights_file_problem(path: Path) -> str:
    """A cheap check that a weights file is an intact torch.save archive (reads only its directory)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return f"corrupt {WEIGHTS_FILE} ({exc})"
    if not any(name.endswith("data.pkl") for name in names):
        return f"corrupt {WEIGHTS_FILE} (not a PyTorch weights archive)"
    return ""
