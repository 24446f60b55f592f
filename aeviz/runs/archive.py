"""Runs as portable archives: export a saved run as a .zip (its config, metrics, history and weights),
import such a .zip as a new run. Uploads are untrusted: the weights are read with
``weights_only=True`` (pickled code is refused, never run), sizes are bounded, and a bare weights
file is refused because it does not say which model it belongs to.

    data = export_run(RunStore(), run_id)             # bytes of run_id.zip
    new_id = import_run(data, RunStore(), "run.zip")  # checked, re-measured on the test set, saved
"""

from __future__ import annotations

import io
import json
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
    metrics = _json_member(members, METRICS_FILE, dict)
    history = _json_member(members, HISTORY_FILE, dict)
    # Never trust the archive's figure: measure the uploaded weights on this machine's test set.
    metrics.update({"test_mse": reconstruction_mse(model, dataset.test_images), "imported_from": name})
    config.tags = {**(config.tags or {}), "imported": name}
    result = TrainResult(config, model, params, metrics, list(history.get("history", [])),
                         list(history.get("test_history", [])), {})
    return store.save(result)


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
