"""A run's encoder and decoder as standalone models: ONNX (opened by onnxruntime and most inference
engines) or TorchScript (torch.jit.load, no aeviz needed). Each exported file is read back and run
on the test images; the codes and decoded images must match the library's within CHECK_TOLERANCE."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np

# float32 through a few layers, run by another engine: differences of ~1e-6 are rounding, 1e-4 a bug.
CHECK_TOLERANCE = 1e-4
CHECK_IMAGES = 512
ONNX_OPSET = 18


def _parts(model):
    import torch

    class Encoder(torch.nn.Module):
        """images (B, C, H, W) in [0, 1] -> codes (B, k), as the library's model.encode."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, images):
            return self.model.encode(images)

    class Decoder(torch.nn.Module):
        """codes (B, k) -> images (B, C, H, W), as the library's model.decode."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, codes):
            return self.model.decode(codes)

    return Encoder().eval(), Decoder().eval()


def write_models(model, images: np.ndarray, folder: Path, result, fmt: str) -> None:
    """Export encoder and decoder as `fmt` ("onnx" or "torchscript"), falling back to TorchScript for a part
    ONNX cannot express (the note says why); check each file against the library's outputs."""
    import torch

    model.eval()
    sample = np.asarray(images[:CHECK_IMAGES], dtype=np.float32)
    with torch.no_grad():
        codes = model.encode(torch.from_numpy(sample))
        decoded = model.decode(codes).numpy()
    codes = codes.numpy()
    encoder, decoder = _parts(model)
    for name, part, inputs, expected, io_names in (
            ("encoder", encoder, sample, codes, ("images", "codes")),
            ("decoder", decoder, codes, decoded, ("codes", "images"))):
        written = None
        if fmt == "onnx":
            try:
                written = write_onnx(part, inputs, folder / f"{name}.onnx", io_names)
                run_back = _run_onnx
            except Exception as exc:  # the exporter's many failure types: fall back, saying why
                reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                result.notes.append(f"{name}: ONNX export failed ({reason}); wrote TorchScript instead")
        if written is None:
            written = _write_torchscript(part, inputs, folder / f"{name}.pt")
            run_back = run_torchscript
        difference = float(np.abs(run_back(written, inputs) - expected).max())
        result.files.append(written.name)
        result.checks[name] = {"file": written.name, "images_checked": len(sample),
                               "max_abs_difference": difference, "tolerance": CHECK_TOLERANCE,
                               "passed": difference <= CHECK_TOLERANCE}
        if difference > CHECK_TOLERANCE:
            result.notes.append(f"{name}: {written.name} differs from the library's outputs by up to "
                                f"{difference:.2g} (tolerance {CHECK_TOLERANCE:g}); do not rely on it")
    result.notes.append("encoder: input 'images' (batch, C, H, W) float32 in [0, 1], output 'codes' (batch, k); "
                        "decoder: input 'codes', output 'images'")


def onnx_available() -> str:
    """'' when the ONNX exporter and a runtime to check with are importable, else what is missing."""
    missing = []
    for module in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return "" if not missing else f"pip install {' '.join(missing)}"


def write_onnx(part, inputs: np.ndarray, path: Path, io_names: tuple[str, str]) -> Path:
    import torch

    missing = onnx_available()
    if missing:
        raise RuntimeError(f"ONNX needs packages that are not installed here: {missing}")
    example = torch.from_numpy(inputs[:2])
    batch = torch.export.Dim("batch")
    # The exporter prints progress and warns about its own internals; neither is for the user.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(part, (example,), str(path), dynamo=True, opset_version=ONNX_OPSET,
                          input_names=[io_names[0]], output_names=[io_names[1]],
                          dynamic_shapes=({0: batch},), external_data=False, verbose=False)
    return path


def _run_onnx(path: Path, inputs: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs})[0]


def _write_torchscript(part, inputs: np.ndarray, path: Path) -> Path:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python values turned into constants
        traced = torch.jit.trace(part, torch.from_numpy(inputs[:2]), check_trace=False)
    traced.save(str(path))
    return path


def run_torchscript(path: Path, inputs: np.ndarray) -> np.ndarray:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch >= 2.9 calls TorchScript deprecated; it still loads
        loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return loaded(torch.from_numpy(inputs)).numpy()
