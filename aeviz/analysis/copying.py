"""Does a run copy its input? Its reconstruction error on inputs unlike the data it was trained on.

With at least as many code units as pixels and no regulariser, nothing stops an autoencoder from
passing its input through (the identity), which has learned nothing about the data. A run that
copies rebuilds an input with no digit or garment in it about as well as a real image; a run that
learned what the images look like pulls such an input towards them, and so misses it.

The inputs here keep the data's pixel values but not its shapes ("scrambled": each pixel taken from
another test image), or owe nothing to the data ("uniform noise"); a page may add another dataset's
images of the same size. Errors are MSE per pixel between the reconstruction and the input itself.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from aeviz.errors import AevizError
from aeviz.analysis.latent import per_image_mse, reconstruct_images
from aeviz.data.datasets import dataset_status
from aeviz.data.types import SPECS

TEST_IMAGES, SCRAMBLED, UNIFORM = "test images", "scrambled test images", "uniform noise"


def scrambled(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Every pixel of every image taken from the same position in a randomly chosen other image:
    each pixel keeps the data's distribution of values there, the image keeps none of its shapes."""
    flat = images.reshape(len(images), -1).float()
    generator = torch.Generator().manual_seed(int(seed))
    source = torch.stack([torch.randperm(len(flat), generator=generator) for _ in range(flat.shape[1])], dim=1)
    return torch.gather(flat, 0, source).reshape(images.shape)


def off_data_inputs(images: torch.Tensor, others: Mapping[str, torch.Tensor] | None = None,
                    seed: int = 0) -> dict[str, torch.Tensor]:
    """The test images, their scrambled copy and uniform noise in [0, 1] of the same shape, plus `others`
    (name -> images of the same shape, e.g. another dataset's test images)."""
    images = images.float().cpu()
    if len(images) < 2:
        raise AevizError("scrambling needs at least two test images")
    generator = torch.Generator().manual_seed(int(seed) + 1)
    inputs = {TEST_IMAGES: images, SCRAMBLED: scrambled(images, seed),
              UNIFORM: torch.rand(images.shape, generator=generator)}
    for name, other in (others or {}).items():
        if tuple(other.shape[1:]) != tuple(images.shape[1:]):
            raise AevizError(f"{name} are {tuple(other.shape[1:])}, not {tuple(images.shape[1:])} like the test images")
        inputs[name] = other.float().cpu()
    return inputs


def input_errors(model, inputs: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Mean reconstruction error (MSE per pixel, against the input itself) of `model` on each input set."""
    return {name: float(per_image_mse(images.numpy(), reconstruct_images(model, images)).mean())
            for name, images in inputs.items()}


def copy_examples(model, inputs: Mapping[str, torch.Tensor], count: int = 8) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (the first `count` inputs, the model's reconstructions of them), for pictures."""
    return {name: (images[:count].numpy(), reconstruct_images(model, images[:count]))
            for name, images in inputs.items()}


def other_dataset_name(name: str, image_shape: tuple[int, ...]) -> str | None:
    """A built-in dataset other than `name` with images of `image_shape`, loadable here without a
    download (MNIST for a Fashion-MNIST run and the other way round); None when there is none."""

    for other, spec in SPECS.items():
        if other != name and tuple(spec.image_shape) == tuple(image_shape) and dataset_status(other).available:
            return other
    return None
