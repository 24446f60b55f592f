"""What the trainer yields while it works; consumed alike by the CLI's progress bar and the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Started:
    device: str
    device_name: str
    warnings: list[str]
    train_size: int
    batch_size: int
    stage_names: list[str]
    precision: str = "fp32"    # what the forward pass runs in: "bf16" or "fp32"


@dataclass
class Progress:
    step: int
    epoch: float               # epochs done, fractional
    stage: str
    fraction: float            # of the whole budget, 0..1
    losses: dict[str, float]   # each term, mean since the last Progress event
    loss: float                # their sum
    samples_per_second: float
    elapsed: float             # seconds of training so far
    eta_seconds: float | None
    lr: float


@dataclass
class Snapshot:
    """A look at the model mid-training, every few seconds."""

    step: int
    elapsed: float
    loss: float
    test_mse: float                 # on the fixed subset of test images (an estimate of the full figure)
    originals: np.ndarray           # (n, C, H, W) a few fixed test images
    reconstructions: np.ndarray     # their reconstructions now
    codes: np.ndarray | None = None  # (m, k) float16 codes of the fixed code subset, when k is small enough


@dataclass
class Finished:
    status: str                      # "completed", "stopped", "diverged"
    message: str
    result: Any = None               # TrainResult
    saved_run_id: str | None = None
    save_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
