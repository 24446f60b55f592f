"""What a Trainer starts from: the seeds, the optimiser, the test images it follows, and the warnings it
gives about its settings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from aeviz.training.config import TrainConfig
from aeviz.data.types import Dataset
from aeviz.variants.nets import FlattenCentered, last_linear
from aeviz.variants.trainer_settings import SGD_MOMENTUM, TAIL_DECAY_SHARE
from aeviz.variants import get_variant

SNAPSHOT_IMAGES = 8           # test images shown with their reconstructions
CODE_SUBSET = 2000            # test images whose codes are recorded at each snapshot


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def scheduled_lr(lr: float, schedule: str, fraction_done: float) -> float:
    """The learning rate at `fraction_done` (0..1) of the budget under `schedule`."""
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * fraction_done))
    if schedule == "tail_decay":
        return lr * min(1.0, max(0.0, 1.0 - fraction_done) / TAIL_DECAY_SHARE)
    return lr


def make_optimizer(parameters, lr: float, trainer_params: dict[str, Any]) -> torch.optim.Optimizer:
    name, decay = trainer_params["optimizer"], trainer_params["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=SGD_MOMENTUM, weight_decay=decay)
    # fused: one pass over each parameter instead of ~10 elementwise kernels; on 2 CPU threads the
    # optimiser step of the default plain model drops from ~6 ms to ~1.5 ms (~20% of a step).
    parameters = list(parameters)
    fused = {"fused": True} if _fusable(parameters) else {}
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=decay, **fused)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=decay, **fused)


def build_fresh_model(config: TrainConfig, dataset: Dataset, params: dict[str, Any]):
    """The configured model, untrained, starting from the dataset's mean image. Its size was checked against
    the budget by TrainConfig.validate, which gave `params`."""
    model = get_variant(config.variant)(dataset.image_shape, config.k, params)
    mean_image = mean_of(dataset.train_images)
    start_at_mean_image(model, mean_image)
    center_input(model, mean_image)
    return model


MEAN_CHUNK = 4096  # images summed at a time: a float64 copy of 60,000 28x28 images is 376 MB, of a chunk 26 MB


@torch.no_grad()
def mean_of(images: torch.Tensor, chunk: int = MEAN_CHUNK) -> torch.Tensor:
    """The mean image in float64 (the same bits on any thread count), summed a chunk at a time so that no
    float64 copy of the whole training set is made (it was the largest allocation of a run's start)."""
    total = torch.zeros(images.shape[1:], dtype=torch.float64)
    for start in range(0, len(images), chunk):
        total += images[start:start + chunk].double().sum(dim=0)
    return total / max(1, len(images))


@torch.no_grad()
def center_input(model, mean_image: torch.Tensor) -> None:
    """Give a model that subtracts the mean training image from its input (nets.FlattenCentered) that image."""
    for module in model.modules():
        if isinstance(module, FlattenCentered):
            module.mean.copy_(mean_image.detach().flatten().to(module.mean))


@torch.no_grad()
def start_at_mean_image(model, mean_image: torch.Tensor) -> None:
    """Set a freshly built model's output biases so that, untrained, it outputs the mean training image
    (plus the small random part of its weights) instead of grey around 0.5: the first steps then go to
    what differs between images, not to each pixel's average brightness (a data-dependent
    initialisation). A model whose output layer is not one bias per pixel (a convolution), or whose output
    is neither a sigmoid nor the identity, is left as is."""
    layer = last_linear(model.decoder.modules())
    if layer is None or layer.bias is None or tuple(layer.bias.shape) != (model.input_size,):
        return
    mean = mean_image.detach().flatten().float().to(layer.bias.device)
    probe = torch.tensor([-1.0, 0.0, 1.0], device=layer.bias.device)
    output = model.output_activation(probe)
    if torch.allclose(output, torch.sigmoid(probe)):
        layer.bias.copy_(torch.logit(mean.clamp(1e-3, 1 - 1e-3)))
    elif torch.allclose(output, probe):  # identity output
        layer.bias.copy_(mean)


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
    warnings = list(get_variant(config.variant).warnings(config.k, dataset.input_size, params))
    if config.batch_size > len(dataset.train_images):
        warnings.append(f"batch size {config.batch_size} is larger than the {len(dataset.train_images)} "
                        f"training images; using {len(dataset.train_images)}")
    return warnings
