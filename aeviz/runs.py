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

from aeviz.errors import AevizError, DamagedRun, RunNotFound, SaveFailed

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
WEIGHTS_FILE = "weights.pt"
CODES_FILE = "codes.npz"
REQUIRED_FILES = (CONFIG_FILE, METRICS_FILE, HISTORY_FILE, WEIGHTS_FILE)
ID_ATTEMPTS = 5


def runs_dir() -> Path:
    explicit = os.environ.get("AEVIZ_RUNS_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "aeviz" / "runs"


def new_run_id(variant: str, k: int, dataset: str) -> str:
    """A readable id with 64 random bits: two runs never collide by chance (save() retries if they do)."""
    # a user dataset's name (user:<hash>-<size>) carries a colon, which some file systems and zip tools refuse
    return f"{variant}-k{k}-{dataset.replace(':', '_')}-{secrets.token_hex(8)}"


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
        """Write a TrainResult atomically; return its run id.

        Raises SaveFailed when anything cannot be written (a full disk, a read-only or unwritable
        folder): then nothing is left behind in the runs folder and the result is untouched, so the
        caller can offer to save again or download it."""
        config = result.config
        files = run_files(result)  # serialised in memory first: a failure below is the disk's
        chosen = run_id or new_run_id(config.variant, config.k, config.dataset)
        staging, claimed = None, False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{chosen}-", dir=self.root))
            for name, data in files.items():
                with open(staging / name, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            for attempt in range(ID_ATTEMPTS):
                try:
                    os.mkdir(self.root / chosen)  # claims the id (an existing run is never overwritten)
                    claimed = True
                    break
                except FileExistsError:
                    if run_id is not None or attempt == ID_ATTEMPTS - 1:
                        raise SaveFailed(f"cannot save run {chosen} in {self.root}: a run with that id exists; "
                                         f"nothing was saved") from None
                    chosen = new_run_id(config.variant, config.k, config.dataset)
            os.rename(staging, self.root / chosen)  # replaces the empty claimed folder atomically
            staging, claimed = None, False
        except OSError as exc:
            raise SaveFailed(f"cannot write runs to {self.root} ({exc.strerror or exc}); nothing was saved. "
                             f"Free some space or set AEVIZ_RUNS_DIR to a writable folder") from None
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if claimed:  # the rename failed: give the id back
                shutil.rmtree(self.root / chosen, ignore_errors=True)
        return chosen

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
        info.problem = checked_problem(path, info.config)
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
        except AevizError as exc:
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


def load_weights_into_model(config_json: dict[str, Any], source, map_location: str = "cpu",
                            input_shape: tuple[int, ...] | None = None):
    """Rebuild the model a config describes and load weights from a path or bytes.

    The config is checked against the schema and the budget first (InvalidConfig, OverBudget).
    `input_shape`: the dataset's (an import passes the loaded dataset's; never the file's own claim).
    Refuses anything that is not a plain tensor state dict (pickled code included): torch.load
    runs with weights_only=True.
    """
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
    from aeviz.config import TrainConfig
    from aeviz.errors import InvalidConfig

    config = TrainConfig.from_json(config_json)
    shape = tuple(input_shape) if input_shape is not None else dataset_input_shape(config.dataset, config_json)
    config.validate(shape)
    params = run_settings(config_json)
    if not isinstance(params, dict):
        raise InvalidConfig("resolved_params must be an object of settings")
    from aeviz.budget import check_model
    from aeviz.variants import get_variant

    check_model(get_variant(config.variant), shape, config.k, params)
    return config.variant, shape, config.k, params


def dataset_input_shape(dataset: str, config_json: dict[str, Any]) -> tuple[int, ...]:
    """The input shape of a run's dataset: a built-in image dataset's own; for others (ratings) the
    recorded one, which must be three whole numbers."""
    from aeviz.data import SPECS
    from aeviz.errors import InvalidConfig

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
    from aeviz.budget import max_params

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

    from aeviz.reuse import FINGERPRINT_KEY, config_fingerprint

    config_json = result.config.to_json()
    config_json["resolved_params"] = _jsonable(result.params)
    config_json["input_shape"] = list(result.model.input_shape)
    config_json[FINGERPRINT_KEY] = config_fingerprint(result.config)  # finds it again for reuse
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


def _json_bytes(data: Any) -> bytes:
    return json.dumps(_jsonable(data), indent=1).encode()
