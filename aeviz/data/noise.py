"""Corruptions of images in [0, 1], as a denoising autoencoder sees them (Vincent et al. 2008).

    noisy = corrupt(images, "gaussian", 0.3)          # x + N(0, 0.3²), clipped to [0, 1]
    noisy = corrupt(images, "masking", 0.5)           # each pixel set to 0 with probability 0.5
    noisy = corrupt(images, "salt_and_pepper", 0.2)   # each pixel set to 0 or 1 with probability 0.2

`level` is the standard deviation σ for Gaussian noise and the probability p that a pixel is
hit for the other two. Pass a `torch.Generator` for repeatable noise (the same images get the
same corruption); without one the global generator is used, which the trainer seeds.
"""

from __future__ import annotations

import torch

from aeviz.errors import InvalidConfig

NOISE_KINDS = ("gaussian", "masking", "salt_and_pepper")
NOISE_HELP = {
    "gaussian": "add N(0, σ²) to every pixel (level = σ), then clip to [0, 1]",
    "masking": "set each pixel to 0 with probability p (level = p)",
    "salt_and_pepper": "set each pixel to 0 or 1, equally likely, with probability p (level = p)",
}


def _uniform(images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    device = generator.device if generator is not None else images.device
    return torch.rand(images.shape, generator=generator, device=device, dtype=images.dtype).to(images.device)


def _normal(images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    device = generator.device if generator is not None else images.device
    return torch.randn(images.shape, generator=generator, device=device, dtype=images.dtype).to(images.device)


def corrupt(images: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None,
            clip: bool = True) -> torch.Tensor:
    """A corrupted copy of `images` (any shape, pixels in [0, 1]); the input is not modified.

    `clip` keeps Gaussian-noised pixels in [0, 1] (the other kinds never leave it).
    """
    if kind not in NOISE_KINDS:
        raise InvalidConfig(f"unknown noise {kind!r}; choose one of: {', '.join(NOISE_KINDS)}")
    level = float(level)
    if not level >= 0:
        raise InvalidConfig(f"noise level must be at least 0 (got {level:g})")
    if kind != "gaussian" and level > 1:
        raise InvalidConfig(f"{kind} noise level is a probability, at most 1 (got {level:g})")
    if level == 0:
        return images.clone()
    if kind == "gaussian":
        noisy = images + level * _normal(images, generator)
        return noisy.clamp(0.0, 1.0) if clip else noisy
    if kind == "masking":
        keep = _uniform(images, generator) >= level
        return images * keep
    # Salt and pepper: one uniform draw decides both whether a pixel is hit (u < p) and,
    # within the hit ones, which way (u < p/2: pepper 0, else salt 1).
    u = _uniform(images, generator)
    salt = (u >= level / 2) & (u < level)
    pepper = u < level / 2
    return torch.where(salt, torch.ones_like(images), torch.where(pepper, torch.zeros_like(images), images))
