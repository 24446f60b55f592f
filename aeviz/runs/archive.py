"""Runs as portable archives: export a saved run as a .zip (its config, metrics, history and weights),
import such a .zip as a new run. Uploads are untrusted: the weights are read with
``weights_only=True`` (pickled code is refused, never run), sizes are bounded, and a bare weights
file is refused because it does not say which model it belongs to.

    data = export_run(RunStore(), run_id)             # bytes of run_id.zip
    new_id = import_run(data, RunStore(), "run.zip")  # checked, re-measured on the test set, saved

An imported run is marked so (`is_imported`): its figures are measured here, its status comes from the
history it holds, it is labelled "imported" in every list, and it never serves as an already-trained run
(reuse) or as a lesson's reference.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import zipfile

from aeviz.errors import AevizError
from aeviz.runs.format import CONFIG_FILE, HISTORY_FILE, METRICS_FILE, WEIGHTS_FILE
from aeviz.runs.store import RunStore
from aeviz.safe_io import UploadRefused, read_zip_bounded
from aeviz.data.datasets import load_dataset
from aeviz.runs.checks import load_weights_into_model, read_state_dict
from aeviz.runs.format import run_files

MAX_ARCHIVE_BYTES = 50 * 1024 * 1024   # bytes actually inflated, all members together (a zip bomb is refused)
ARCHIVE_FILES = (CONFIG_FILE, METRICS_FILE, HISTORY_FILE, WEIGHTS_FILE)
IMPORTED_KEY = "imported"  # in an imported run's metrics.json (with "imported_from": the file's name)
CLAIMED_TAGS = ("session", "sweep", "sweep_point")  # dropped from an imported run's config tags


class CheckpointRefused(AevizError):
    """An uploaded checkpoint is not a run archive, is damaged, or holds more than plain weights."""


def export_run(store: RunStore, run_id: str) -> bytes:
    """The run's files as a .zip archive (what import_run reads back)."""
    info = store.info(run_id)
    if info.damaged:
        raise AevizError(f"run {run_id} is damaged ({info.problem}); it cannot be exported")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ARCHIVE_FILES:
            archive.write(info.path / name, name)
    return buffer.getvalue()


def result_archive(result) -> bytes:
    """A trained result that is not (yet) saved, as the same .zip export_run gives (import_run reads it)."""

    files = run_files(result)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ARCHIVE_FILES:
            archive.writestr(name, files[name])
    return buffer.getvalue()


def import_run(data: bytes, store: RunStore, name: str = "upload") -> str:
    """Check an uploaded run archive, rebuild its model from the weights (safely), measure its test
    MSE again and save it as a new run; returns the new run id. Raises CheckpointRefused."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.config import TrainConfig
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.result import TrainResult, reconstruction_mse

    try:
        members = read_zip_bounded(data, name, wanted=ARCHIVE_FILES,
                                   max_member_bytes=MAX_ARCHIVE_BYTES, max_total_bytes=MAX_ARCHIVE_BYTES)
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CheckpointRefused(f"{name} is not a run archive: upload the .zip that “Download this run” "
                                f"gives (config.json and weights.pt)") from None
    except UploadRefused as exc:
        raise CheckpointRefused(str(exc)) from None
    if CONFIG_FILE not in members or WEIGHTS_FILE not in members:
        if _is_bare_weights(data):  # a bare torch.save file
            read_state_dict(data)  # refuses pickled code with its own message
            raise CheckpointRefused(f"{name} is a weights file alone, which does not say which model it "
                                    f"belongs to: upload the run's .zip (config.json and weights.pt)")
        raise CheckpointRefused(f"{name} lacks {CONFIG_FILE} or {WEIGHTS_FILE}: not a run archive")

    try:
        config_json = json.loads(members[CONFIG_FILE])
        config = TrainConfig.from_json(config_json)
        dataset = load_dataset(config.dataset)
        params = config.validate(dataset.image_shape).params
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointRefused(f"{name}: {CONFIG_FILE} is not a valid run configuration ({exc})") from None
    except AevizError as exc:
        raise CheckpointRefused(f"{name}: {exc}") from None
    try:
        model = load_weights_into_model(config_json, members[WEIGHTS_FILE], input_shape=dataset.image_shape)
    except AevizError as exc:
        raise CheckpointRefused(f"{name}: {exc}") from None
    claimed = _json_member(members, METRICS_FILE, dict)
    history = _json_member(members, HISTORY_FILE, dict)
    per_epoch = steps_per_epoch(config, len(dataset.train_images))
    steps = _checked_history(history.get("history"), per_epoch)
    # Never trust the archive's figures: the weights are measured on this machine's test set, the status
    # and the epochs come from the history it holds measured against the budget its config names.
    metrics = {**measured_metrics(model, dataset, config.k),
               **derived_progress(config, steps, per_epoch),
               IMPORTED_KEY: True, "imported_from": str(name)[:200],
               "archive_status": str(claimed.get("status", ""))[:40]}
    # The archive's tags say nothing this server can check: which session trained it, or which sweep it
    # belongs to, is not for an upload to claim.
    config.tags = {key: value for key, value in (config.tags or {}).items() if key not in CLAIMED_TAGS}
    config.tags["imported"] = str(name)[:200]
    result = TrainResult(config, model, params, metrics, steps,
                         _checked_history(history.get("test_history"), per_epoch), {})
    return store.save(result)


def measured_metrics(model, dataset, k: int) -> dict:
    """What a run's weights score on this server's copy of the dataset, as a finished training measures
    them (aeviz.training.result.model_metrics), with the sizes of the splits."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.result import model_metrics

    return {**model_metrics(model, dataset, k, dataset.test_images),
            "train_size": len(dataset.train_images), "test_size": len(dataset.test_images)}


def steps_per_epoch(config, train_size: int) -> int:
    """As the trainer counts them: the batch size is clamped to the training set."""
    return math.ceil(train_size / max(1, min(config.batch_size, train_size)))


def derived_progress(config, history: list[dict], per_epoch: int) -> dict:
    """Status, steps, epochs and seconds of an imported run from its history: `completed` only when the
    last step recorded reaches the budget its configuration names (as the trainer counts steps), else
    `stopped`. The archive's own status is never read."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.training.config import default_epochs

    epochs = config.epochs if config.epochs is not None else (
        None if config.max_seconds else default_epochs(config.dataset))
    total_steps = math.ceil(epochs * per_epoch) if epochs else None
    last = history[-1] if history else {"step": 0, "elapsed": 0.0}
    step, elapsed = int(last["step"]), float(last.get("elapsed", 0.0))
    done = bool(history) and ((total_steps is not None and step >= total_steps)
                              or (bool(config.max_seconds) and elapsed >= config.max_seconds))
    return {"status": "completed" if done else "stopped", "steps": step, "epochs": step / per_epoch,
            "train_seconds": elapsed}


def _checked_history(entries, per_epoch: int) -> list[dict]:
    """The archive's loss history, kept only when it is one: entries with a whole step that never goes
    back and finite numbers (seconds, losses). Anything else counts as no history at all (nothing
    trained). Each entry's epoch is its step's, as this server counts them."""
    if not isinstance(entries, list):
        return []
    kept, previous = [], 0
    for entry in entries:
        if not isinstance(entry, dict):
            return []
        step, elapsed = entry.get("step"), entry.get("elapsed", 0.0)
        if (isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < previous
                or isinstance(elapsed, bool) or not isinstance(elapsed, numbers.Real) or not math.isfinite(elapsed)):
            return []
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                   for key, v in entry.items() if key not in ("step",)):
            return []
        previous = int(step)
        kept.append({**entry, "step": int(step), **({"epoch": int(step) / per_epoch} if "epoch" in entry else {})})
    return kept


def _is_bare_weights(data: bytes) -> bool:
    """Whether `data` is a torch.save archive (its directory alone is read)."""
    try:
        return any(member.endswith("data.pkl") for member in zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _json_member(members: dict[str, bytes], member: str, kind: type):
    try:
        value = json.loads(members[member])
    except (KeyError, ValueError):
        return kind()
    return value if isinstance(value, kind) else kind()
