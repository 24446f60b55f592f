"""The run store: each finished run is a folder holding its configuration, metrics, loss history,
weights (loaded back with ``weights_only=True``) and, where recorded, the codes of a fixed test
subset over time.

Root: ``$AEVIZ_RUNS_DIR``, else ``$XDG_DATA_HOME/aeviz/runs`` (``~/.local/share/aeviz/runs``).
A folder with a missing or unreadable file is listed as damaged; the others still load.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aeviz.errors import AevizError, DamagedRun, RunNotFound, SaveFailed
from aeviz.runs.checks import checked_problem, load_weights_into_model, run_settings
from aeviz.runs.format import (CODES_FILE, CONFIG_FILE, HISTORY_FILE, METRICS_FILE, REQUIRED_FILES, WEIGHTS_FILE, run_files)

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
    def imported(self) -> bool:
        """Made from an uploaded archive (aeviz.runs.archive.import_run): trained elsewhere, so it is labelled
        so and never reused or made a lesson's reference."""
        tags = self.config.get("tags") if isinstance(self.config, dict) else None
        return bool(isinstance(self.metrics, dict) and (self.metrics.get("imported") or "imported_from" in self.metrics)
                    or isinstance(tags, dict) and "imported" in tags)

    @property
    def label(self) -> str:
        if self.damaged:
            return f"{self.run_id} (damaged)"
        c = self.config
        return (f"{c.get('variant')} · k={c.get('k')} · {c.get('dataset')} · {self.run_id.rsplit('-', 1)[-1]}"
                + (" · imported" if self.imported else ""))

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "path": str(self.path), "config": self.config, "metrics": self.metrics,
                "created": self.created, "damaged": self.damaged, "problem": self.problem,
                "imported": self.imported}


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
        # lazy: torch only when called (this module imports without it)
        from aeviz.training.config import TrainConfig

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
