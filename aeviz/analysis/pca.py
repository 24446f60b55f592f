"""PCA fitted on a train split, exactly (eigendecomposition of the covariance), and its test error.

The error-versus-k frontier for every k at once comes from one projection: with c the test
images' coordinates on all components, the residual at k is ||x - mean||^2 - sum_{i<k} c_i^2.
A dataset's fit and frontier are kept, the most recently used within ``$AEVIZ_CACHE_PCA_MB`` (default 256;
a 64x64 dataset's fit is 67 MB, a 28x28 one's 2.5 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from aeviz.lru import LRUCache
from aeviz.server_settings import cache_limits


@dataclass
class PCAFit:
    mean: np.ndarray        # (D,)
    components: np.ndarray  # (D, D) rows are principal directions, by decreasing variance
    variances: np.ndarray   # (D,) eigenvalues, decreasing

    def encode(self, images: np.ndarray | torch.Tensor, k: int) -> np.ndarray:
        flat = _flat(images)
        return (flat - self.mean) @ self.components[:k].T

    def decode(self, codes: np.ndarray, k: int) -> np.ndarray:
        return codes @ self.components[:k] + self.mean

    def reconstruct(self, images: np.ndarray | torch.Tensor, k: int) -> np.ndarray:
        """Reconstructions, flat (N, D)."""
        return self.decode(self.encode(images, k), k)

    def test_mse_curve(self, images: np.ndarray | torch.Tensor, max_k: int | None = None) -> np.ndarray:
        """MSE per pixel for k = 0 .. max_k (index k), all from one projection."""
        flat = _flat(images) - self.mean
        dim = flat.shape[1]
        max_k = dim if max_k is None else min(max_k, dim)
        coords = flat @ self.components[:max_k].T
        total = np.einsum("ij,ij->", flat, flat, dtype=np.float64) / len(flat)  # no float64 copy of the images
        captured = np.concatenate([[0.0], np.cumsum((coords.astype(np.float64) ** 2).mean(axis=0))])
        return np.maximum(total - captured, 0.0) / dim


def _flat(images) -> np.ndarray:
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return array.reshape(len(array), -1).astype(np.float32, copy=False)


def fit_pca(train_images, chunk: int = 4096) -> PCAFit:
    flat = _flat(train_images)
    mean = flat.mean(axis=0, dtype=np.float64)
    # Accumulated in float64 chunks: a float64 copy of all 60,000 images (and its centred copy)
    # would add ~750 MB to a training run's peak memory.
    covariance = np.zeros((flat.shape[1], flat.shape[1]))
    for start in range(0, len(flat), chunk):
        centered = flat[start:start + chunk].astype(np.float64) - mean
        covariance += centered.T @ centered
    covariance /= max(len(flat) - 1, 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    return PCAFit(mean.astype(np.float32), eigenvectors[:, order].T.astype(np.float32),
                  np.maximum(eigenvalues[order], 0.0).astype(np.float32))


# {fit_key(dataset, "fit"): PCAFit, fit_key(dataset, "curve"): its test MSE for every k}; made one at a time.
FITS = LRUCache(max_bytes=lambda: cache_limits()["pca_bytes"])


def fit_key(dataset, what: str) -> tuple[str, str, str]:
    """Where a dataset's `what` ("fit" or "curve") is kept: by its name and where it was read from (the same
    name read from another folder is other images)."""
    return dataset.name, dataset.source, what


def dataset_pca(dataset) -> PCAFit:
    """PCA of a loaded dataset's train split, kept while among the most recently used."""
    return FITS.get_or_make(fit_key(dataset, "fit"), lambda: fit_pca(dataset.train_images))


def pca_test_mse_curve(dataset) -> np.ndarray:
    """PCA's test MSE per pixel for every k = 0 .. D (index k), kept per dataset like its fit."""
    return FITS.get_or_make(fit_key(dataset, "curve"),
                            lambda: dataset_pca(dataset).test_mse_curve(dataset.test_images))


def pca_test_mse(dataset, k: int) -> float:
    curve = pca_test_mse_curve(dataset)
    return float(curve[min(k, len(curve) - 1)])
