"""A trained autoencoder's code space, one function per idea, used by every page, the report and the
applications: encoding a set of images, decoding codes, reconstruction errors, drawing codes in 2-D,
the latent grid (manifold), samples from a VAE's prior, and interpolation.

Images are (N, C, H, W) float32 in [0, 1], codes (N, k) float32, both numpy arrays (a tensor is
accepted as input). Every pass through the model runs in batches, without gradients, on the model's
device and in eval mode, and gives the model back in the mode it was in.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm

from aeviz.errors import AevizError

BATCH = 2048
# The latent grid: a VAE's prior is N(0, I), so its grid is equally spaced in probability, the
# standard-normal quantiles 0.05 … 0.95 (Kingma & Welling 2013, figure 4). Any other code space has no
# prior: its grid spans the test codes' 1st to 99th percentile, so a few outliers don't stretch it.
PRIOR_QUANTILES = (0.05, 0.95)
CODE_PERCENTILES = (1.0, 99.0)


# ---------------------------------------------------------------------------- through the model
@contextmanager
def evaluating(model):
    """The model in eval mode, without gradients, for the block; its own mode restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters(), torch.empty(0)).device  # a model without parameters: the CPU
    finally:
        model.train(was_training)


def _as_tensor(array) -> torch.Tensor:
    return array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array, dtype=np.float32))


def run_in_batches(model, function, inputs, row_shape: tuple | None = None) -> np.ndarray:
    """function(batch) over `inputs` in batches (see `evaluating`), concatenated as one float32 array
    on the CPU. An empty input gives an empty (0, *row_shape) array, or an error without row_shape."""
    inputs = _as_tensor(inputs)
    if len(inputs) == 0:
        if row_shape is None:
            raise AevizError("no images to pass through the model")
        return np.zeros((0, *row_shape), np.float32)
    with evaluating(model) as device:
        chunks = [function(inputs[start:start + BATCH].to(device)).float().cpu()
                  for start in range(0, len(inputs), BATCH)]
    return torch.cat(chunks).numpy()


def encode_images(model, images) -> np.ndarray:
    """Codes (N, k) float32 of images (N, C, H, W); deterministic (a VAE gives its mean μ)."""
    return run_in_batches(model, model.encode, images, (model.k,))


def decode_codes(model, codes) -> np.ndarray:
    """Images (N, C, H, W) float32 decoded from codes (N, k)."""
    return run_in_batches(model, model.decode, _as_tensor(codes).reshape(-1, model.k), tuple(model.input_shape))


def reconstruct_images(model, images) -> np.ndarray:
    """The model's reconstructions (N, C, H, W) of images (N, C, H, W): decode(encode(x))."""
    return run_in_batches(model, model, images, tuple(model.input_shape))


def per_image_mse(originals, reconstructions) -> np.ndarray:
    """Mean squared error per pixel of each image, (N,) float64."""
    a = np.asarray(originals, dtype=np.float64).reshape(len(originals), -1)
    b = np.asarray(reconstructions, dtype=np.float64).reshape(len(reconstructions), -1)
    return ((a - b) ** 2).mean(axis=1)


def reconstruction_errors(model, images) -> np.ndarray:
    """Each image's reconstruction error, MSE per pixel, (N,) float64."""
    images = _as_tensor(images).reshape(-1, *model.input_shape)
    return per_image_mse(images.cpu().numpy(), reconstruct_images(model, images))


def greyscale(images: np.ndarray) -> np.ndarray:
    """Images (…, 1, H, W) as (…, H, W), for pictures; several channels are left as they are."""
    return images[..., 0, :, :] if images.shape[-3] == 1 else images


# ---------------------------------------------------------------------------- codes in 2-D
@dataclass
class Projection:
    """A fixed linear map from points (N, d) to the plane: x -> (x - mean) @ axes.T, so new points (a
    drawing's code) land in the same picture as the points it was fitted on."""

    mean: np.ndarray        # (d,)
    axes: np.ndarray        # (2, d)
    explained: np.ndarray   # (2,) share of the points' variance along each axis

    def __call__(self, points) -> np.ndarray:
        points = np.asarray(points, np.float64).reshape(-1, len(self.mean))
        return ((points - self.mean) @ self.axes.T).astype(np.float32)


def pca_projection(points) -> Projection:
    """The points' first two principal axes (centred), each signed so that its largest-magnitude
    loading is positive: PCA fixes an axis only up to sign, and this makes the picture reproducible.
    With one dimension the second coordinate is 0."""
    x = np.asarray(points, np.float64).reshape(len(points), -1)
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    top = vt[:2]
    largest = top[np.arange(len(top)), np.abs(top).argmax(axis=1)]
    axes = top * np.sign(largest)[:, None]
    total = (singular ** 2).sum()
    explained = (singular[:2] ** 2) / total if total > 0 else np.zeros(len(axes))
    missing = 2 - len(axes)
    return Projection(mean, np.vstack([axes, np.zeros((missing, x.shape[1]))]), np.pad(explained, (0, missing)))


def code_projection(codes) -> Projection:
    """How codes are drawn in 2-D on every page: k = 2 as they are, k = 1 on a line, larger k on their
    first two principal axes (`pca_projection`)."""
    codes = np.asarray(codes, np.float64)
    k = codes.shape[1]
    if k > 2:
        return pca_projection(codes)
    variance = codes.var(axis=0) if len(codes) else np.zeros(k)
    explained = variance / variance.sum() if variance.sum() > 0 else np.zeros(k)
    return Projection(np.zeros(k), np.eye(2, k), np.pad(explained, (0, 2 - k)))


def codes_2d(codes) -> np.ndarray:
    """Codes (N, k) as points (N, 2) float32 for a scatter (see `code_projection`)."""
    return code_projection(codes)(codes)


# ---------------------------------------------------------------------------- the latent grid
def grid_axis(n: int, prior: bool, values: np.ndarray | None = None) -> np.ndarray:
    """n grid coordinates along one code dimension, increasing: the quantiles of the N(0, 1) prior of a
    model that has one (a VAE), else the percentile range of `values` (that dimension over the test
    codes); see PRIOR_QUANTILES."""
    if n < 2:
        raise AevizError("a latent grid needs at least 2 points per side")
    if prior:
        return norm.ppf(np.linspace(*PRIOR_QUANTILES, n)).astype(np.float32)
    if values is None or len(values) == 0:
        raise AevizError("the grid over the codes' range needs codes to take the range from")
    low, high = np.percentile(values, CODE_PERCENTILES)
    if high - low < 1e-6:
        low, high = low - 1.0, high + 1.0
    return np.linspace(low, high, n).astype(np.float32)


def grid_description(prior: bool) -> str:
    """Where the grid's points lie, in words, for captions."""
    if prior:
        return (f"standard-normal quantiles {PRIOR_QUANTILES[0]:g} … {PRIOR_QUANTILES[1]:g} (the prior N(0, I)), "
                "as in Kingma and Welling's figure")
    return f"the test codes' range (percentiles {CODE_PERCENTILES[0]:g} to {CODE_PERCENTILES[1]:g})"


@dataclass
class Manifold:
    xs: np.ndarray        # (n,) coordinates along the first plane dimension (columns, left to right)
    ys: np.ndarray        # (n,) coordinates along the second (rows, top to bottom: decreasing)
    images: np.ndarray    # (n, n, H, W): images[row, col] decoded at (xs[col], ys[row])


def manifold(model, n: int = 15, prior: bool = False, codes: np.ndarray | None = None,
             plane_dims=(0, 1), base=None) -> Manifold:
    """Images decoded from a regular n x n grid (`grid_axis`) over a plane of code space: the code
    dimensions `plane_dims` vary, the others stay at `base` (default 0, a VAE prior's mean)."""
    xs = grid_axis(n, prior, None if codes is None else codes[:, plane_dims[0]])
    ys = grid_axis(n, prior, None if codes is None else codes[:, plane_dims[1]])[::-1].copy()
    code = np.zeros(model.k, np.float32) if base is None else np.asarray(base, np.float32)
    grid = np.tile(code, (n * n, 1))
    grid[:, plane_dims[0]] = np.tile(xs, n)
    grid[:, plane_dims[1]] = np.repeat(ys, n)
    images = greyscale(decode_codes(model, grid))
    return Manifold(xs, ys, images.reshape(n, n, *images.shape[1:]))


def prior_samples(k: int, count: int, seed: int = 0) -> np.ndarray:
    """`count` codes (count, k) drawn from a VAE's prior N(0, I), reproducible for a seed."""
    return np.random.default_rng(seed).standard_normal((count, k)).astype(np.float32)


# ---------------------------------------------------------------------------- interpolation
def interpolate_codes(code_a, code_b, steps: int = 8) -> np.ndarray:
    """Codes (steps, k) on the straight line from a to b, both ends included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * np.asarray(code_a)[None, :] + t * np.asarray(code_b)[None, :]).astype(np.float32)


def interpolate(model, image_a, image_b, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """(in code space, in pixel space): `steps` images (steps, H, W) each, from a to b.

    Code space: decode((1-t) f(a) + t f(b)). Pixel space: (1-t) a + t b, the cross-fade.
    """
    a, b = np.asarray(image_a, np.float32), np.asarray(image_b, np.float32)
    codes = encode_images(model, np.stack([a, b]).reshape(2, *model.input_shape))
    in_code = greyscale(decode_codes(model, interpolate_codes(codes[0], codes[1], steps)))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None]
    shape = in_code.shape[1:]
    return in_code, ((1 - t) * a.reshape(shape) + t * b.reshape(shape)).astype(np.float32)
