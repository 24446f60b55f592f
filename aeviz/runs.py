"""The run store: each finished run is a folder holding its configuration, metrics, loss history,
weights (loaded back with ``weights_only=True``) and, where recorded, the codes of a fixed test
subset over time.

Root: ``$AEVIZ_RUNS_DIR``, else ``$XDG_DATA_HOME/aeviz/runs`` (``~/.local/share/aeviz/runs``).
A folder with a missing or unreadable file is listed as damaged; the others still load.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import re
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aeviz.errors import AevizError, DamagedRun, RunNotFound

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
WEIGHTS_FILE = "weights.pt"
CODES_FILE = "codes.npz"
REQUIRED_FILES = (CONFIG_FILE, METRICS_FILE, HISTORY_FILE, WEIGHTS_FILE)


def runs_dir() -> Path:
    explicit = os.environ.get("AEVIZ_RUNS_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "aeviz" / "runs"


def new_run_id(variant: str, k: int, dataset: str) -> str:
    # a user dataset's name (user:<hash>-<size>) carries a colon, which some file systems and zip tools refuse
    return f"{variant}-k{k}-{dataset.replace(':', '_')}-{secrets.token_hex(3)}"


@dataclass
class RunInfo:
    """What a listing shows of a run, without loading its weights."""

    run_id: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    problem: str = ""  # set when the run is damaged

    @property
    def damaged(self) -> bool:
        return bool(self.problem)

    @property
    def settings(self) -> dict[str, Any]:
        """The variant's settings the run trained with (see run_settings)."""
        return run_settings(self.config)

    @property
    def label(self) -> str:
        if self.damaged:
            return f"{self.run_id} (damaged)"
        c = self.config
        return f"{c.get('variant')} · k={c.get('k')} · {c.get('dataset')} · {self.run_id.rsplit('-', 1)[-1]}"

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "path": str(self.path), "config": self.config, "metrics": self.metrics,
                "created": self.created, "damaged": self.damaged, "problem": self.problem}


@dataclass
class LoadedRun:
    info: RunInfo
    config: Any        # TrainConfig
    model: Any         # Autoencoder, in eval mode on the CPU
    history: list[dict[str, float]]
    test_history: list[dict[str, float]]
    code_snapshots: dict[str, np.ndarray]

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def metrics(self) -> dict[str, Any]:
        return self.info.metrics

    @property
    def settings(self) -> dict[str, Any]:
        return self.info.settings


class RunStore:
    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else runs_dir()

    # ---------------------------------------------------------------- saving
    def save(self, result, run_id: str | None = None) -> str:
        """Write a TrainResult atomically; return its run id. Raises AevizError if the folder is unwritable."""
        import torch

        from aeviz.reuse import FINGERPRINT_KEY, config_fingerprint

        config = result.config
        run_id = run_id or new_run_id(config.variant, config.k, config.dataset)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{run_id}-", dir=self.root))
        except OSError as exc:
            raise AevizError(f"cannot write runs to {self.root} ({exc.strerror or exc}); set AEVIZ_RUNS_DIR to a "
                             f"writable folder. The trained model is still in memory.") from None
        try:
            config_json = config.to_json()
            config_json["resolved_params"] = _jsonable(result.params)
            config_json["input_shape"] = list(result.model.input_shape)
            config_json[FINGERPRINT_KEY] = config_fingerprint(config)  # finds it again for reuse
            _write_json(staging / CONFIG_FILE, config_json)
            _write_json(staging / METRICS_FILE, {**_jsonable(result.metrics), "created": time.time()})
            _write_json(staging / HISTORY_FILE, {"history": result.history, "test_history": result.test_history})
            state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
            torch.save(state, staging / WEIGHTS_FILE)
            if result.code_snapshots:
                np.savez_compressed(staging / CODES_FILE, **result.code_snapshots)
            staging.rename(self.root / run_id)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise AevizError(f"cannot save run {run_id} in {self.root} ({exc.strerror or exc}); the trained model is "
                             f"still in memory") from None
        return run_id

    # ---------------------------------------------------------------- reading
    def list(self) -> list[RunInfo]:
        """Every run, newest first; damaged ones included, flagged."""
        if not self.root.is_dir():
            return []
        infos = []
        for path in self.root.iterdir():
            if path.is_dir() and not path.name.startswith("."):
                try:
                    infos.append(self.info(path.name))
                except (RunNotFound, OSError):  # deleted by another session while listing
                    continue
        return sorted(infos, key=lambda info: info.created, reverse=True)

    def info(self, run_id: str) -> RunInfo:
        path = self._path(run_id)
        info = RunInfo(run_id, path, created=path.stat().st_mtime)
        missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
        if missing:
            info.problem = f"missing {', '.join(missing)}"
            return info
        try:
            info.config = json.loads((path / CONFIG_FILE).read_text())
            info.metrics = json.loads((path / METRICS_FILE).read_text())
            info.created = float(info.metrics.get("created", info.created))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            info.problem = f"unreadable config or metrics ({exc})"
            return info
        if not isinstance(info.config, dict) or not isinstance(info.metrics, dict):
            info.problem = "config or metrics is not a JSON object"
            return info
        lacking = [key for key in ("dataset", "variant", "k") if key not in info.config]
        if lacking:
            info.problem = f"{CONFIG_FILE} lacks {', '.join(lacking)}"
            return info
        info.problem = _weights_file_problem(path / WEIGHTS_FILE)
        return info

    def load(self, run_id: str, map_location: str = "cpu") -> LoadedRun:
        """The run with its model rebuilt and weights loaded (safely: weights_only=True)."""
        from aeviz.config import TrainConfig

        info = self.info(run_id)
        if info.damaged:
            raise DamagedRun(f"run {run_id} is damaged: {info.problem}")
        config = TrainConfig.from_json(info.config)
        try:
            model = load_weights_into_model(info.config, info.path / WEIGHTS_FILE, map_location)
        except DamagedRun as exc:
            raise DamagedRun(f"run {run_id} is damaged: {exc}") from None
        try:
            history = json.loads((info.path / HISTORY_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise DamagedRun(f"run {run_id} is damaged: unreadable history ({exc})") from None
        codes = {}
        if (info.path / CODES_FILE).is_file():
            try:
                with np.load(info.path / CODES_FILE) as archive:
                    codes = {name: archive[name] for name in archive.files}
            except (OSError, ValueError):
                codes = {}
        return LoadedRun(info, config, model, history.get("history", []), history.get("test_history", []), codes)

    def delete(self, run_id: str) -> None:
        path = self._path(run_id)
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise AevizError(f"cannot delete run {run_id} in {self.root} ({exc.strerror or exc})") from None

    def _path(self, run_id: str) -> Path:
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise RunNotFound(f"no run named {run_id!r}")
        path = self.root / run_id
        if not path.is_dir():
            raise RunNotFound(f"no run named {run_id!r} in {self.root}")
        return path


def run_settings(config_json: dict[str, Any]) -> dict[str, Any]:
    """A run's variant settings: every declared setting as resolved at training time, or, for a run saved
    before those were recorded, the overrides it was given (the variant's defaults fill the rest)."""
    return config_json.get("resolved_params") or config_json.get("params") or {}


def load_weights_into_model(config_json: dict[str, Any], source, map_location: str = "cpu"):
    """Rebuild the model a config describes and load weights from a path or bytes.

    Refuses anything that is not a plain tensor state dict (pickled code included): torch.load
    runs with weights_only=True.
    """
    from aeviz.variants import build_model

    input_shape = tuple(config_json.get("input_shape") or _input_shape(config_json["dataset"]))
    model = build_model(config_json["variant"], input_shape, int(config_json["k"]), run_settings(config_json))
    state = read_state_dict(source, map_location)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise DamagedRun(f"weights do not fit the model: {str(exc).splitlines()[0]}") from None
    model.eval()
    return model


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


def _input_shape(dataset: str) -> tuple[int, int, int]:
    return (1, 8, 8) if dataset == "digits" else (1, 28, 28)


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


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(_jsonable(data), indent=1))
