"""What a Trainer starts from: the seeds, the optimiser, the test images it follows, and the warnings it
gives about its settings."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from aeviz.config import TrainConfig
from aeviz.data import Dataset

SNAPSHOT_IMAGES = 8           # test images shown with their reconstructions
CODE_SUBSET = 2000            # test images whose codes are recorded at each snapshot


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def make_optimizer(parameters, lr: float, trainer_params: dict[str, Any]) -> torch.optim.Optimizer:
    name, decay = trainer_params["optimizer"], trainer_params["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=decay)
    # fused: one pass over each parameter instead of ~10 elementwise kernels; on 2 CPU threads the
    # optimiser step of the default plain model drops from ~6 ms to ~1.5 ms (~20% of a step).
    parameters = list(parameters)
    fused = {"fused": True} if _fusable(parameters) else {}
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=decay, **fused)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=decay, **fused)


def _fusable(parameters) -> bool:
    """Fused Adam needs floating-point parameters, all on the CPU or all on one CUDA device."""
    devices = {p.device.type for p in parameters}
    return bool(parameters) and len(devices) == 1 and devices <= {"cpu", "cuda"} and all(
        p.is_floating_point() for p in parameters)


def fixed_test_indices(dataset: Dataset, seed: int) -> dict[str, torch.Tensor]:
    """Test images followed through training: a few to show (one per class where possible), and
    a subset whose codes are recorded. Fixed by the seed so runs are comparable."""
    n = len(dataset.test_images)
    generator = torch.Generator().manual_seed(seed + 1)
    codes = torch.randperm(n, generator=generator)[:min(CODE_SUBSET, n)].sort().values
    labels = dataset.test_labels[codes]
    shown: list[int] = []
    for label in torch.unique(labels).tolist():
        shown.append(int(torch.nonzero(labels == label)[0]))
        if len(shown) == SNAPSHOT_IMAGES:
            break
    extra = [i for i in range(len(codes)) if i not in shown][:SNAPSHOT_IMAGES - len(shown)]
    return {"codes": codes, "shown": torch.tensor(sorted(shown + extra))}


def build_warnings(config: TrainConfig, params: dict[str, Any], dataset: Dataset) -> list[str]:
    from aeviz.variants import get_variant

    warnings = list(get_variant(config.variant).warnings(config.k, dataset.input_size, params))
    if config.batch_size > len(dataset.train_images):
        warnings.append(f"batch size {config.batch_size} is larger than the {len(dataset.train_images)} "
                        f"training images; using {len(dataset.train_images)}")
    return warnings
