"""A run's results in formats other tools read: the Embedding Projector's files, its test codes as
.npy or .csv, and its encoder and decoder as ONNX (or TorchScript) models checked against the codes.

`export_run(run, dataset, fmt, folder)` writes one format into `folder` and returns what it wrote;
`export_zip(...)` does the same into a zip (the app's download button).
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aeviz.errors import AevizError, InvalidConfig
from aeviz.export.models import write_models
from aeviz.export.projector import write_projector
from aeviz.export.tables import write_codes

FORMATS = {
    "projector": "Embedding Projector: tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt",
    "npy": "test codes as codes.npy with labels.npy and class_names.txt",
    "csv": "test codes as codes.csv (one row per test image: index, label, class, z0..)",
    "onnx": "encoder.onnx and decoder.onnx, checked with onnxruntime against the codes",
    "torchscript": "encoder.pt and decoder.pt (TorchScript), checked with torch.jit.load against the codes",
}
MANIFEST_FILE = "export.json"


@dataclass
class ExportResult:
    """What an export wrote (paths relative to `folder`), plus notes and the checks it ran."""

    format: str
    folder: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "folder": str(self.folder), "files": self.files,
                "notes": self.notes, "checks": self.checks}


@dataclass
class TestCodes:
    """The run's codes of its dataset's test images, with their labels (what every table export holds)."""

    codes: np.ndarray         # (N, k) float32
    labels: np.ndarray        # (N,) int64; all 0 when the dataset has no labels
    class_names: list[str]
    images: np.ndarray        # (N, C, H, W) float32 in [0, 1]
    labelled: bool


def test_codes(run, dataset) -> TestCodes:
    """Encode the dataset's test images with the run's model (refusing a dataset of another shape)."""
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.latent import encode_images

    shape = tuple(run.model.input_shape)
    if tuple(dataset.image_shape) != shape:
        raise InvalidConfig(f"run {run.run_id} takes images of shape {shape}, but dataset {dataset.name} has "
                            f"{tuple(dataset.image_shape)}: export it with the dataset it was trained on "
                            f"({run.config.dataset})")
    images = dataset.test_images.numpy()
    codes = encode_images(run.model, dataset.test_images).astype(np.float32)
    return TestCodes(codes, dataset.test_labels.numpy().astype(np.int64), list(dataset.class_names), images,
                     bool(getattr(dataset, "labelled", True)))


def export_run(run, dataset, fmt: str, folder: Path | str, max_points: int | None = None) -> ExportResult:
    """Write format `fmt` of `run` (a LoadedRun) on `dataset` into `folder` (created if missing)."""
    if fmt not in FORMATS:
        raise InvalidConfig(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AevizError(f"cannot create the export folder {folder} ({exc.strerror or exc}); "
                         f"choose another with --output") from None
    result = ExportResult(fmt, folder)
    data = test_codes(run, dataset)
    try:
        if fmt == "projector":
            write_projector(data, folder, result, run.run_id, max_points)
        elif fmt in ("npy", "csv"):
            write_codes(data, folder, result, fmt)
        else:
            write_models(run.model, data.images, folder, result, fmt)
        _write_manifest(run, dataset, result)
    except OSError as exc:
        raise AevizError(f"cannot write the export into {folder} ({exc.strerror or exc})") from None
    return result


def export_zip(run, dataset, fmt: str, max_points: int | None = None) -> tuple[bytes, ExportResult]:
    """The export of `fmt` as the bytes of a zip (files at its root) and what it holds."""
    with tempfile.TemporaryDirectory(prefix="aeviz-export-") as tmp:
        result = export_run(run, dataset, fmt, tmp, max_points)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in result.files:
                archive.write(Path(tmp) / name, name)
        return buffer.getvalue(), result


def _write_manifest(run, dataset, result: ExportResult) -> None:
    result.files.append(MANIFEST_FILE)
    manifest = {"run_id": run.run_id, "variant": run.config.variant, "k": run.config.k,
                "dataset": dataset.name, "input_shape": list(run.model.input_shape), **result.to_json()}
    manifest.pop("folder")
    (result.folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
