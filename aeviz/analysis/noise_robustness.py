"""Noise robustness: denoising and inpainting with a trained autoencoder, measured against the clean images.

Vincent et al. (2008): a denoising autoencoder is trained on corrupted inputs x~ to output the
clean x, so it cannot copy and must learn structure. Here we corrupt test images at a sweep of
noise levels and measure MSE per pixel between the reconstruction of x~ and the clean x, for a
run and for PCA (project x~ on the top-k components of the clean training data).

Every method in one sweep sees the same noisy images: the noise is drawn from a generator seeded
per level, so curves are comparable and repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from aeviz.errors import AevizError, InvalidConfig
from aeviz.data.noise import corrupt
from aeviz.variants.denoising import DenoisingAutoencoder
from aeviz.analysis.latent import reconstruct_images

Reconstructor = Callable[[torch.Tensor], torch.Tensor]


# ---------------------------------------------------------------- reconstructors
def model_reconstructor(model) -> Reconstructor:
    """Images (N, C, H, W) -> the model's reconstructions (`aeviz.analysis.latent.reconstruct_images`), on the CPU."""

    def reconstruct(images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(reconstruct_images(model, images)).reshape(images.shape)

    return reconstruct


def pca_reconstructor(fit, k: int) -> Reconstructor:
    """Images -> PCA's reconstruction from the top-k components of `fit` (an aeviz.analysis.pca.PCAFit)."""

    def reconstruct(images: torch.Tensor) -> torch.Tensor:
        flat = fit.reconstruct(images, k)
        return torch.from_numpy(np.asarray(flat, dtype=np.float32)).reshape(images.shape)

    return reconstruct


# ---------------------------------------------------------------- noise
def noisy_copy(images: torch.Tensor, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """`images` corrupted by aeviz.data.noise.corrupt with a generator seeded by (seed, level)."""

    generator = torch.Generator().manual_seed(_level_seed(seed, level))
    return corrupt(images.cpu(), kind, float(level), generator=generator)


def _level_seed(seed: int, level: float) -> int:
    return int(seed) * 1_000_003 + int(round(float(level) * 1_000_000))


@dataclass
class DenoisingExample:
    clean: np.ndarray   # (N, H, W)
    noisy: np.ndarray
    recon: np.ndarray


def denoising_examples(reconstruct: Reconstructor, images: torch.Tensor, kind: str, level: float,
                       seed: int = 0) -> DenoisingExample:
    """Clean, noisy and reconstructed-from-noisy images, channel-averaged to (N, H, W) for display."""
    noisy = noisy_copy(images, kind, level, seed)
    recon = reconstruct(noisy)
    return DenoisingExample(*(t.float().mean(dim=1).numpy() for t in (images.cpu(), noisy, recon)))


def noise_sweep(reconstruct: Reconstructor, images: torch.Tensor, kind: str, levels: Sequence[float],
                seed: int = 0) -> np.ndarray:
    """MSE per pixel between reconstruction of the noisy images and the clean images, one per level."""
    if len(levels) == 0:
        raise InvalidConfig("the noise sweep needs at least one level")
    images = images.cpu().float()
    errors = []
    for level in levels:
        recon = reconstruct(noisy_copy(images, kind, level, seed))
        errors.append(float(((recon - images) ** 2).mean()))
    return np.array(errors)


def noisy_input_error(images: torch.Tensor, kind: str, levels: Sequence[float], seed: int = 0) -> np.ndarray:
    """MSE per pixel of the noisy images themselves against the clean ones (doing nothing)."""
    return noise_sweep(lambda x: x, images, kind, levels, seed)


# ---------------------------------------------------------------- inpainting
def square_mask(image_shape: tuple[int, int], size: int, top: int, left: int) -> np.ndarray:
    """(H, W) boolean mask, True inside the size x size square whose top-left corner is (top, left).

    The square is clipped at the image border; a size < 1 or a corner outside the image is refused.
    """
    height, width = int(image_shape[-2]), int(image_shape[-1])
    if size < 1:
        raise InvalidConfig(f"the mask size must be at least 1 pixel (got {size})")
    if not (0 <= top < height and 0 <= left < width):
        raise InvalidConfig(f"the mask corner ({top}, {left}) is outside the {height}x{width} image")
    mask = np.zeros((height, width), dtype=bool)
    mask[top:top + size, left:left + size] = True
    return mask


@dataclass
class InpaintingResult:
    clean: np.ndarray      # (N, H, W)
    masked: np.ndarray     # (N, H, W) with the square set to the fill value
    recon: np.ndarray      # (N, H, W) reconstruction of the masked image
    mask: np.ndarray       # (H, W) boolean
    mse_inside: float      # MSE per pixel inside the square, reconstruction vs clean
    mse_outside: float     # and outside it
    fill_mse_inside: float  # MSE inside the square of the masked image itself (the fill value)


def inpaint(reconstruct: Reconstructor, images: torch.Tensor, mask: np.ndarray, fill: float = 0.0) -> InpaintingResult:
    """Set the masked square of every image to `fill`, reconstruct, and measure the error inside and out."""
    images = images.cpu().float()
    if tuple(mask.shape) != tuple(images.shape[-2:]):
        raise InvalidConfig(f"the mask is {mask.shape} but the images are {tuple(images.shape[-2:])}")
    if not mask.any():
        raise AevizError("the mask covers no pixel")
    mask_t = torch.from_numpy(mask)
    masked = images.clone()
    masked[..., mask_t] = float(fill)
    recon = reconstruct(masked)
    sq = (recon - images) ** 2
    inside = float(sq[..., mask_t].mean())
    outside = float(sq[..., ~mask_t].mean()) if (~mask).any() else float("nan")
    fill_inside = float(((masked - images) ** 2)[..., mask_t].mean())
    return InpaintingResult(images.mean(dim=1).numpy(), masked.mean(dim=1).numpy(), recon.mean(dim=1).numpy(),
                            mask, inside, outside, fill_inside)


# ---------------------------------------------------------------- trained at one level, tested at another
def noise_heatmap_variant():
    """The variant whose runs the heatmap trains (its sweep_suggestions hold the training levels to start from)."""

    return DenoisingAutoencoder


def train_test_errors(train_levels: Sequence[float], errors_by_level: dict[float, Sequence[float]],
                      n_test: int) -> np.ndarray:
    """The heatmap's matrix: one row per training level (NaN where that run is not trained yet)."""
    matrix = np.full((len(train_levels), n_test), np.nan)
    for i, level in enumerate(train_levels):
        if float(level) in errors_by_level:
            matrix[i] = errors_by_level[float(level)]
    return matrix
