"""Exploring a trained autoencoder's code space: decode any point, the latent manifold, traversals,
interpolation, and the replay of the codes forming during training.

All functions take a model (an `Autoencoder`, any variant) and numpy arrays, and return numpy arrays:
images are (…, H, W) float32 in [0, 1] for single-channel datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm

from aeviz.errors import AevizError

ENCODE_BATCH = 2048
TRAVERSAL_DIMENSIONS = 8      # rows of a traversal when k is larger
TRAVERSAL_SIGMAS = 2.0        # a traversal moves one dimension from -2 to +2 standard deviations


# ---------------------------------------------------------------------------- encode / decode
@torch.no_grad()
def encode_images(model, images) -> np.ndarray:
    """Codes (N, k) float32 of images (N, C, H, W) (a VAE gives its mean)."""
    model.eval()
    device = next(model.parameters()).device
    images = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images, dtype=np.float32))
    chunks = [model.encode(images[i:i + ENCODE_BATCH].to(device)).float().cpu()
              for i in range(0, len(images), ENCODE_BATCH)]
    return torch.cat(chunks).numpy() if chunks else np.zeros((0, model.k), np.float32)


@torch.no_grad()
def decode_codes(model, codes) -> np.ndarray:
    """Images (N, H, W) decoded from codes (N, k); the channel axis is dropped (greyscale datasets)."""
    model.eval()
    device = next(model.parameters()).device
    codes = torch.as_tensor(np.asarray(codes, dtype=np.float32)).reshape(-1, model.k)
    chunks = [model.decode(codes[i:i + ENCODE_BATCH].to(device)).float().cpu()
              for i in range(0, len(codes), ENCODE_BATCH)]
    images = torch.cat(chunks).numpy()
    return images[:, 0] if images.shape[1] == 1 else images


def decode_point(model, point, plane_dims=(0, 1), base=None) -> np.ndarray:
    """The image (H, W) decoded at a point of a 2-D plane in code space.

    `point` (x, y) sets the code dimensions `plane_dims`; the others take `base` (default zeros:
    the prior's mean for a VAE). For k = 2 the plane is the whole code space.
    """
    code = np.zeros(model.k, np.float32) if base is None else np.array(base, np.float32).copy()
    if len(point) != 2:
        raise AevizError(f"a point in the plane has two coordinates (got {len(point)})")
    code[list(plane_dims)] = np.asarray(point, np.float32)
    return decode_codes(model, code[None])[0]


def plane_dimensions(codes: np.ndarray) -> tuple[int, int]:
    """The two code dimensions a 2-D plane shows: (0, 1) for k = 2, else the two with the largest spread."""
    order = np.argsort(-np.asarray(codes, np.float64).std(axis=0), kind="stable")
    return (0, 1) if codes.shape[1] <= 2 else (int(order[0]), int(order[1]))


# ---------------------------------------------------------------------------- the manifold
@dataclass
class Manifold:
    xs: np.ndarray        # (n,) coordinates along the first plane dimension (columns, left to right)
    ys: np.ndarray        # (n,) coordinates along the second (rows, top to bottom: decreasing)
    images: np.ndarray    # (n, n, H, W): images[row, col] decoded at (xs[col], ys[row])


def manifold_axis(n: int, vae: bool, values: np.ndarray | None = None) -> np.ndarray:
    """n grid coordinates along one axis.

    A VAE's prior is N(0, 1): as in Kingma and Welling's figure, the grid is equally spaced in
    probability, the standard-normal quantiles of 0.05 … 0.95. Otherwise the grid spans the codes'
    range (1st to 99th percentile of `values`, so a few outliers don't stretch it).
    """
    if n < 2:
        raise AevizError("a manifold grid needs at least 2 points per side")
    if vae:
        return norm.ppf(np.linspace(0.05, 0.95, n)).astype(np.float32)
    if values is None or len(values) == 0:
        raise AevizError("the grid over the codes' range needs codes to take the range from")
    low, high = np.percentile(values, [1, 99])
    if high - low < 1e-6:
        low, high = low - 1.0, high + 1.0
    return np.linspace(low, high, n).astype(np.float32)


def manifold(model, n: int = 15, vae: bool = False, codes: np.ndarray | None = None,
             plane_dims=(0, 1), base=None) -> Manifold:
    """Images decoded from a regular n x n grid over a 2-D plane of code space."""
    xs = manifold_axis(n, vae, None if codes is None else codes[:, plane_dims[0]])
    ys = manifold_axis(n, vae, None if codes is None else codes[:, plane_dims[1]])[::-1].copy()
    code = np.zeros(model.k, np.float32) if base is None else np.asarray(base, np.float32)
    grid = np.tile(code, (n * n, 1))
    grid[:, plane_dims[0]] = np.tile(xs, n)
    grid[:, plane_dims[1]] = np.repeat(ys, n)
    images = decode_codes(model, grid)
    return Manifold(xs, ys, images.reshape(n, n, *images.shape[1:]))


# ---------------------------------------------------------------------------- traversal
@dataclass
class Traversal:
    dims: np.ndarray      # (d,) the dimensions shown, by decreasing spread
    spread: np.ndarray    # (d,) their standard deviation over the test codes
    offsets: np.ndarray   # (steps,) in standard deviations, -2 … +2
    values: np.ndarray    # (d, steps) the value each dimension takes
    images: np.ndarray    # (d, steps, H, W)


def traversal_dimensions(codes: np.ndarray, count: int = TRAVERSAL_DIMENSIONS) -> tuple[np.ndarray, np.ndarray]:
    """The `count` code dimensions with the largest standard deviation over `codes`, and those deviations."""
    spread = np.asarray(codes, np.float64).std(axis=0)
    dims = np.argsort(-spread, kind="stable")[:count]
    return dims, spread[dims]


def traversal(model, code: np.ndarray, codes: np.ndarray, steps: int = 9,
              count: int = TRAVERSAL_DIMENSIONS, sigmas: float = TRAVERSAL_SIGMAS) -> Traversal:
    """For each chosen dimension, decode `code` with that one dimension set to its own value plus
    -sigmas … +sigmas standard deviations of its spread over `codes`, the others fixed."""
    code = np.asarray(code, np.float32).reshape(-1)
    dims, spread = traversal_dimensions(codes, count)
    offsets = np.linspace(-sigmas, sigmas, steps)
    values = code[dims][:, None] + offsets[None, :] * spread[:, None]
    batch = np.tile(code, (len(dims) * steps, 1))
    rows = np.repeat(np.arange(len(dims)), steps)
    batch[np.arange(len(batch)), dims[rows]] = values.reshape(-1)
    images = decode_codes(model, batch)
    return Traversal(dims, spread, offsets, values.astype(np.float32),
                     images.reshape(len(dims), steps, *images.shape[1:]))


# ---------------------------------------------------------------------------- interpolation
def interpolate(model, image_a, image_b, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """(in code space, in pixel space): `steps` images (steps, H, W) each, from a to b.

    Code space: decode((1-t) f(a) + t f(b)). Pixel space: (1-t) a + t b, the cross-fade.
    """
    a = np.asarray(image_a, np.float32)
    b = np.asarray(image_b, np.float32)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    codes = encode_images(model, np.stack([a, b]).reshape(2, *model.input_shape))
    path = (1 - t)[:, None] * codes[0] + t[:, None] * codes[1]
    in_code = decode_codes(model, path)
    shape = in_code.shape[1:]
    in_pixels = (1 - t)[:, None, None] * a.reshape(shape) + t[:, None, None] * b.reshape(shape)
    return in_code, in_pixels.astype(np.float32)


# ---------------------------------------------------------------------------- watch it form
def procrustes_rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal matrix R (reflections allowed) minimising ||source @ R - target||_F.

    Orthogonal Procrustes (Schönemann 1966): with U S Vᵀ the SVD of sourceᵀ target, R = U Vᵀ.
    """
    u, _, vt = np.linalg.svd(np.asarray(source, np.float64).T @ np.asarray(target, np.float64))
    return u @ vt


def pca_2d(codes: np.ndarray) -> np.ndarray:
    """The codes' coordinates (N, 2) on their own first two principal axes (centred)."""
    centred = np.asarray(codes, np.float64) - np.asarray(codes, np.float64).mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    return coords


@dataclass
class Formation:
    frames: np.ndarray    # (T, N, 2) positions per snapshot
    steps: np.ndarray     # (T,) training step of each snapshot
    losses: np.ndarray    # (T,) training loss then (NaN before the first step)
    indices: np.ndarray   # (N,) test-set indices of the points
    projected: bool       # True when frames are aligned PCA projections (k > 2)


def formation_frames(code_snapshots: dict[str, np.ndarray]) -> Formation:
    """Frames of the codes forming during training, from a run's recorded `code_snapshots`.

    k = 2: the codes themselves. k > 2: each snapshot's 2-D PCA projection, rotated (or reflected)
    onto the previous frame by orthogonal Procrustes, so the picture neither spins nor flips
    between frames: PCA's axes are only defined up to sign and order.
    """
    if not code_snapshots or "codes" not in code_snapshots:
        raise AevizError("this run has no recorded codes (runs with k above 128, or saved before codes were "
                         "recorded, have none): train it again to watch its latent space form")
    codes = np.asarray(code_snapshots["codes"], np.float32)  # (T, N, k)
    k = codes.shape[2]
    if k <= 2:
        frames = codes if k == 2 else np.concatenate([codes, np.zeros_like(codes)], axis=2)
        projected = False
    else:
        frames = np.empty(codes.shape[:2] + (2,), np.float32)
        previous = None
        for t, snapshot in enumerate(codes):
            coords = pca_2d(snapshot)
            if previous is not None:
                coords = coords @ procrustes_rotation(coords, previous)
            frames[t] = coords
            previous = coords
        projected = True
    return Formation(frames.astype(np.float32), np.asarray(code_snapshots["steps"]),
                     np.asarray(code_snapshots["losses"], np.float32), np.asarray(code_snapshots["indices"]),
                     projected)


def latent_2d(codes: np.ndarray) -> np.ndarray:
    """Codes as 2-D points for a scatter: themselves for k <= 2, else their 2-D PCA projection."""
    codes = np.asarray(codes, np.float32)
    if codes.shape[1] == 2:
        return codes
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1)
    return pca_2d(codes).astype(np.float32)


@dataclass
class PlaneProjection:
    """A fixed map from codes (N, k) to 2-D points: the identity for k = 2, else the test codes' first
    two principal axes, so new codes (a drawing's) land in the same picture as the test set's."""

    mean: np.ndarray      # (k,)
    axes: np.ndarray      # (2, k)

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, np.float64).reshape(-1, len(self.mean))
        return ((codes - self.mean) @ self.axes.T).astype(np.float32)


def plane_projection(codes: np.ndarray) -> PlaneProjection:
    codes = np.asarray(codes, np.float64)
    k = codes.shape[1]
    if k <= 2:
        return PlaneProjection(np.zeros(k), np.eye(2, k))
    mean = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
    return PlaneProjection(mean, vt[:2])
