"""What a training run hands back (the result, the codes recorded on the way), and how its headline
number is measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from aeviz.analysis.comparison import linear_run_angles
from aeviz.analysis.pca import dataset_pca, pca_test_mse
from aeviz.training.config import TrainConfig
from aeviz.variants import Autoencoder

EVAL_BATCH = 2048


@dataclass
class TrainResult:
    config: TrainConfig
    model: Autoencoder
    params: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, float]]          # one row per Progress event
    test_history: list[dict[str, float]]     # one row per Snapshot: step, elapsed, test_mse
    code_snapshots: dict[str, np.ndarray] = field(default_factory=dict)  # indices, steps, losses, codes


@torch.no_grad()
def reconstruction_mse(model: Autoencoder, images: torch.Tensor, device: torch.device | str = "cpu") -> float:
    """Mean squared error per pixel of the model's reconstructions of `images` (pixels in [0, 1])."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(images), EVAL_BATCH):
        batch = images[start:start + EVAL_BATCH].to(device)
        error_sum, error_count = model.reconstruction_error_sums(batch, model(batch))
        total += float(error_sum)
        count += error_count
    model.train(was_training)
    return total / max(count, 1)


class CodeRecord:
    """The codes of a fixed subset of test images at each snapshot (float16), for the "watch it form" replay."""

    def __init__(self, indices: np.ndarray):
        self.indices = indices
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.codes: list[np.ndarray] = []

    def add(self, step: int, loss: float, codes: torch.Tensor) -> np.ndarray:
        """Keep the codes at `step` (with the loss then); returns the float16 copy kept."""
        kept = codes.float().cpu().numpy().astype(np.float16)
        self.steps.append(step)
        self.losses.append(loss)
        self.codes.append(kept)
        return kept

    def arrays(self) -> dict[str, np.ndarray]:
        """indices, steps, losses and codes (snapshots, n, k) as a run saves them; empty if none were kept."""
        if not self.codes:
            return {}
        return {"indices": self.indices, "steps": np.array(self.steps),
                "losses": np.array(self.losses, dtype=np.float32), "codes": np.stack(self.codes)}


def model_metrics(model, dataset, k: int, device=None) -> dict[str, Any]:
    """What trained weights score on `dataset`'s test set (the model in eval mode): test MSE per pixel, PCA's
    at the same k (where that comparison means something), the variant's own measures, and for a model
    that spans PCA's subspace the principal angles to it (degrees, ascending: all near 0 once learned)."""
    model.eval()
    test = dataset.test_images
    metrics = {"test_mse": reconstruction_mse(model, test, device if device is not None else "cpu"),
               "pca_test_mse": pca_test_mse(dataset, k) if model.pca_baseline else None}
    metrics.update(model.extra_metrics(test.to(device) if device is not None else test))
    if model.spans_pca_subspace:
        angles = linear_run_angles(model, dataset_pca(dataset))
        metrics["principal_angles_deg"] = [round(float(a), 3) for a in angles]
    return metrics


def trainer_result(trainer, status: str) -> TrainResult:
    """A Trainer's result as it stands (measured on the full test set): what a run saves when it ends, and
    what keeping an interrupted run saves (aeviz.runs.checkpoints)."""
    model = trainer.model
    model.eval()
    elapsed = trainer.elapsed
    metrics = {
        "status": status, **model_metrics(model, trainer.dataset, trainer.config.k, trainer.device),
        "epochs": trainer.step / trainer.steps_per_epoch, "steps": trainer.step, "train_seconds": elapsed,
        "samples_per_second": trainer.samples_seen / elapsed if elapsed > 0 else 0.0,
        "device": trainer.device_choice.device, "device_name": trainer.device_choice.name,
        "precision": trainer.precision.name,
        "lr_schedule": trainer.trainer_params["lr_schedule"], "train_size": len(trainer.train_x),
        "test_size": len(trainer.test_x), "warnings": list(trainer.warnings),
    }
    return TrainResult(trainer.config, model, trainer.params, metrics, list(trainer.history),
                       list(trainer.test_history), trainer.recorded.arrays())
