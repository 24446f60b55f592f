"""The three spaces every application compares: the autoencoder's codes, PCA codes at the same k,
and raw pixels."""

from __future__ import annotations

import numpy as np
import torch

from aeviz.analysis.latent import encode_images
from aeviz.analysis.pca import PCAFit, fit_pca


def pixels(images: torch.Tensor | np.ndarray) -> np.ndarray:
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return array.reshape(len(array), -1).astype(np.float32)


def feature_spaces(model, train_images: torch.Tensor, images: torch.Tensor, k: int | None = None,
                   pca: PCAFit | None = None) -> dict[str, np.ndarray]:
    """{"codes", "pca", "pixels"}: each (N, d) features of `images`; PCA fitted on train_images at
    the model's k (or `k`)."""
    k = model.k if k is None else k
    pca = pca or fit_pca(train_images)
    return {"codes": encode_images(model, images), "pca": pca.encode(images, k), "pixels": pixels(images)}
