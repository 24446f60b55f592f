"""Explore's own views of a trained autoencoder's code space: decode any point of a plane, traversals,
and the replay of the codes forming during training (encoding, decoding, the 2-D projection, the
latent grid and interpolation are `aeviz.analysis.latent`'s, shared with every page).

All functions take a model (an `Autoencoder`, any variant) and numpy arrays, and return numpy arrays:
images are (…, H, W) float32 in [0, 1] for single-channel datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aeviz.errors import AevizError
from aeviz.analysis.latent import codes_2d, decode_codes, greyscale

TRAVERSAL_DIMENSIONS = 8      # rows of a traversal when k is larger
TRAVERSAL_SIGMAS = 2.0        # a traversal moves one dimension from -2 to +2 standard deviations


# ---------------------------------------------------------------------------- a point of the plane
def decode_point(model, point, plane_dims=(0, 1), base=None) -> np.ndarray:
    """The image (H, W) decoded at a point of a 2-D plane in code space.

    `point` (x, y) sets the code dimensions `plane_dims`; the others take `base` (default zeros:
    the prior's mean for a VAE). For k = 2 the plane is the whole code space.
    """
    code = np.zeros(model.k, np.float32) if base is None else np.array(base, np.float32).copy()
    if len(point) != 2:
        raise AevizError(f"a point in the plane has two coordinates (got {len(point)})")
    code[list(plane_dims)] = np.asarray(point, np.float32)
    return greyscale(decode_codes(model, code[None]))[0]


def plane_dimensions(codes: np.ndarray) -> tuple[int, int]:
    """The two code dimensions a 2-D plane shows: (0, 1) for k = 2, else the two with the largest spread."""
    if codes.shape[1] <= 2:
        return (0, 1)
    dims, _ = widest_dimensions(codes, 2)
    return int(dims[0]), int(dims[1])


# ---------------------------------------------------------------------------- traversal
@dataclass
class Traversal:
    dims: np.ndarray      # (d,) the dimensions shown, by decreasing spread
    spread: np.ndarray    # (d,) their standard deviation over the test codes
    offsets: np.ndarray   # (steps,) in standard deviations, -2 … +2
    values: np.ndarray    # (d, steps) the value each dimension takes
    images: np.ndarray    # (d, steps, H, W)


def widest_dimensions(codes: np.ndarray, count: int = TRAVERSAL_DIMENSIONS) -> tuple[np.ndarray, np.ndarray]:
    """The `count` code dimensions with the largest standard deviation over `codes` (a traversal's rows,
    a plane's two axes), and those deviations."""
    spread = np.asarray(codes, np.float64).std(axis=0)
    dims = np.argsort(-spread, kind="stable")[:count]
    return dims, spread[dims]


def traversal(model, code: np.ndarray, codes: np.ndarray, steps: int = 9,
              count: int = TRAVERSAL_DIMENSIONS, sigmas: float = TRAVERSAL_SIGMAS) -> Traversal:
    """For each chosen dimension, decode `code` with that one dimension set to its own value plus
    -sigmas … +sigmas standard deviations of its spread over `codes`, the others fixed."""
    code = np.asarray(code, np.float32).reshape(-1)
    dims, spread = widest_dimensions(codes, count)
    offsets = np.linspace(-sigmas, sigmas, steps)
    values = code[dims][:, None] + offsets[None, :] * spread[:, None]
    batch = np.tile(code, (len(dims) * steps, 1))
    rows = np.repeat(np.arange(len(dims)), steps)
    batch[np.arange(len(batch)), dims[rows]] = values.reshape(-1)
    images = greyscale(decode_codes(model, batch))
    return Traversal(dims, spread, offsets, values.astype(np.float32),
                     images.reshape(len(dims), steps, *images.shape[1:]))


# ---------------------------------------------------------------------------- watch it form
def procrustes_rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal matrix R (reflections allowed) minimising ||source @ R - target||_F.

    Orthogonal Procrustes (Schönemann 1966): with U S Vᵀ the SVD of sourceᵀ target, R = U Vᵀ.
    """
    u, _, vt = np.linalg.svd(np.asarray(source, np.float64).T @ np.asarray(target, np.float64))
    return u @ vt


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
    projected = codes.shape[2] > 2
    frames = np.empty(codes.shape[:2] + (2,), np.float32)
    for t, snapshot in enumerate(codes):
        frames[t] = codes_2d(snapshot)
        if projected and t > 0:
            frames[t] = frames[t] @ procrustes_rotation(frames[t], frames[t - 1])
    return Formation(frames.astype(np.float32), np.asarray(code_snapshots["steps"]),
                     np.asarray(code_snapshots["losses"], np.float32), np.asarray(code_snapshots["indices"]),
                     projected)
