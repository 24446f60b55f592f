"""What a trained run learned, in numbers: principal angles against PCA, 2-D embeddings of codes
(PCA or UMAP), the error-versus-k frontier, latent grids and interpolations.

UMAP relies on numba, which compiles its kernels on the first call (tens of seconds). Three things
keep a user from waiting for that: `aeviz.umap_embed` caches every compiled kernel on disk (only the
first process on a machine compiles) and skips pynndescent with exact neighbours, `warm_up_umap()`
loads or compiles them in a background thread when the app starts, and at most `UMAP_MAX_POINTS`
codes are embedded (a stratified subsample).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from aeviz.umap_embed import DEFAULT_EPOCHS as DEFAULT_UMAP_EPOCHS
from aeviz.umap_embed import numba_cache_dir
from aeviz.umap_embed import umap_embedding as fast_umap_embedding

ProgressCallback = Callable[[float, str], None]  # (fraction 0..1, message)
UMAP_MAX_POINTS = 10000
FRONTIER_MAX_K = 64


# ---------------------------------------------------------------------------- principal angles

def orthonormal_basis(vectors: np.ndarray) -> np.ndarray:
    """An orthonormal basis (D, r) of the column space of `vectors` (D, k), r = its rank."""
    q, r = np.linalg.qr(np.asarray(vectors, dtype=np.float64))
    keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(r).max())
    return q[:, keep]


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles in degrees, ascending, between the column spaces of a (D, k) and b (D, m).

    Björck & Golub (1973): with orthonormal bases Qa, Qb, the cosines of the angles are the
    singular values of Qa^T Qb. (Small angles lose precision through arccos; degrees to ~1e-6.)
    """
    qa, qb = orthonormal_basis(a), orthonormal_basis(b)
    singular = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(singular, -1.0, 1.0))))


def decoder_directions(model) -> np.ndarray:
    """The (D, k) matrix whose columns span a linear run's reconstructions (its decoder weights).

    The reconstruction is W_dec h + b_dec, so (up to the offset b_dec) every output lies in the
    column space of W_dec; that subspace is what PCA's top k components span at the optimum.
    """
    from torch import nn

    linears = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 1:
        raise ValueError("principal angles need a decoder that is one linear map (the 'linear' variant)")
    return linears[0].weight.detach().cpu().double().numpy()


def linear_run_angles(model, pca_fit) -> np.ndarray:
    """Principal angles (degrees) between a linear run's decoder subspace and PCA's top-k subspace."""
    directions = decoder_directions(model)
    k = directions.shape[1]
    return principal_angles(directions, pca_fit.components[:k].T.astype(np.float64))


# ---------------------------------------------------------------------------- embeddings

def pca_embedding(points: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project points (N, d) on their top `dims` principal components.

    Returns (embedding (N, dims), explained variance ratio (dims,)). Signs follow the convention
    that each component's largest-magnitude loading is positive, so results are reproducible.
    """
    x = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    centered = x - x.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    dims = min(dims, vt.shape[0])
    components = vt[:dims]
    signs = np.sign(components[np.arange(dims), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    total = (singular ** 2).sum()
    ratio = (singular[:dims] ** 2) / total if total > 0 else np.zeros(dims)
    embedding = centered @ components.T
    if embedding.shape[1] < 2:  # a 1-D code: put it on a line
        embedding = np.column_stack([embedding, np.zeros((len(embedding), 2 - embedding.shape[1]))])
    return embedding.astype(np.float32), ratio


def stratified_subsample(labels: np.ndarray, max_points: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most `max_points` items, each class keeping its share."""
    labels = np.asarray(labels)
    if len(labels) <= max_points:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = max(1, int(round(max_points * len(members) / len(labels))))
        chosen.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))[:max_points]


def umap_kernels_cached() -> bool:
    """Whether umap's compiled kernels are already in the on-disk numba cache (else the first call compiles)."""
    path = os.environ.get("NUMBA_CACHE_DIR") or str(numba_cache_dir())
    try:
        return any(name.startswith("umap") for name in os.listdir(path))
    except OSError:
        return False


def umap_embedding(points: np.ndarray, progress: ProgressCallback | None = None, n_neighbors: int = 15,
                   min_dist: float = 0.1, seed: int = 0, n_epochs: int = DEFAULT_UMAP_EPOCHS) -> np.ndarray:
    """UMAP of points (N, d) to 2-D, reporting progress (nearest neighbours, then each layout epoch).

    The fast path of `aeviz.umap_embed` (kernels cached on disk, exact neighbours, PCA start);
    subsample beyond `UMAP_MAX_POINTS` (see `stratified_subsample`).
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "loading UMAP" if _warm.state == "done" or umap_kernels_cached() else
           "first use on this machine: compiling UMAP's numba kernels (about a minute, once; cached on disk)")
    x = np.asarray(points, dtype=np.float32).reshape(len(points), -1)
    if len(x) <= n_neighbors + 1:
        raise ValueError(f"UMAP needs more than {n_neighbors + 1} points (got {len(x)})")
    return fast_umap_embedding(x, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed, n_epochs=n_epochs,
                               progress=report)


@dataclass
class WarmUp:
    state: str = "idle"   # idle, running, done, failed
    seconds: float = 0.0
    error: str = ""


_warm = WarmUp()
_warm_lock = threading.Lock()


def warm_up_umap(background: bool = True) -> WarmUp:
    """Compile (or load from the disk cache) UMAP's numba kernels on a tiny problem, once per process."""
    with _warm_lock:
        if _warm.state != "idle":
            return _warm
        _warm.state = "running"

    def work():
        import time

        start = time.perf_counter()
        try:
            rng = np.random.default_rng(0)
            umap_embedding(rng.random((200, 8), dtype=np.float32), n_epochs=20)
            _warm.state = "done"
        except Exception as exc:  # a failed warm-up only means the first real call compiles
            _warm.state, _warm.error = "failed", f"{type(exc).__name__}: {exc}"
        _warm.seconds = time.perf_counter() - start

    if background:
        threading.Thread(target=work, name="aeviz-umap-warmup", daemon=True).start()
    else:
        work()
    return _warm


def umap_warm_state() -> WarmUp:
    return _warm


# ---------------------------------------------------------------------------- frontier

@dataclass
class FrontierPoint:
    run_id: str
    label: str
    variant: str
    k: int
    test_mse: float
    pca_test_mse: float

    @property
    def beats_pca(self) -> bool:
        return self.test_mse < self.pca_test_mse


def pca_frontier(dataset, max_k: int = FRONTIER_MAX_K) -> tuple[np.ndarray, np.ndarray]:
    """(ks = 1..max_k, PCA's test MSE per pixel at each k), exact, from one projection."""
    from aeviz.pca import pca_test_mse_curve

    curve = pca_test_mse_curve(dataset)
    top = min(max_k, len(curve) - 1)
    ks = np.arange(1, top + 1)
    return ks, np.asarray(curve[1:top + 1], dtype=np.float64)


def frontier_points(run_infos, dataset_name: str, pca_curve: np.ndarray | None = None) -> list[FrontierPoint]:
    """Every undamaged saved run on `dataset_name` as a point (k, test MSE)."""
    points = []
    for info in run_infos:
        if info.damaged or info.config.get("dataset") != dataset_name:
            continue
        mse = info.metrics.get("test_mse")
        if mse is None:
            continue
        k = int(info.config.get("k", 0))
        pca = info.metrics.get("pca_test_mse")
        if pca is None and pca_curve is not None and k < len(pca_curve):
            pca = float(pca_curve[k])
        points.append(FrontierPoint(info.run_id, info.label, str(info.config.get("variant")), k,
                                    float(mse), float(pca) if pca is not None else float("nan")))
    return points


# ---------------------------------------------------------------------------- codes and decoding

def encode_images(model, images, batch: int = 2048) -> np.ndarray:
    """Codes (N, k) of images (N, C, H, W), on the CPU, in eval mode."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            out.append(model.encode(torch.as_tensor(images[start:start + batch])).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.k), dtype=np.float32)


def decode_codes(model, codes: np.ndarray) -> np.ndarray:
    """Images (N, C, H, W) decoded from codes (N, k)."""
    import torch

    model.eval()
    with torch.no_grad():
        return model.decode(torch.as_tensor(np.asarray(codes, dtype=np.float32))).cpu().numpy()


def latent_grid_codes(k: int, side: int = 9, span: float = 2.5, codes: np.ndarray | None = None,
                      seed: int = 0) -> np.ndarray:
    """Codes to decode into a grid of side x side images.

    k = 2: a regular grid over [-span, span]^2 (a VAE's prior is N(0, I)) or, given the codes of
    real images, over their 2nd..98th percentile box. k > 2: samples, from N(0, I) or, given codes,
    from a Gaussian with the codes' mean and covariance.
    """
    if k == 2:
        if codes is None:
            lo, hi = np.array([-span, -span]), np.array([span, span])
        else:
            lo, hi = np.percentile(codes, 2, axis=0), np.percentile(codes, 98, axis=0)
        xs = np.linspace(lo[0], hi[0], side)
        ys = np.linspace(hi[1], lo[1], side)  # top row = high values, like a plot's y axis
        return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    rng = np.random.default_rng(seed)
    if codes is None:
        return rng.standard_normal((side * side, k)).astype(np.float32)
    mean = codes.mean(axis=0)
    cov = np.cov(codes, rowvar=False) + 1e-6 * np.eye(k)
    return rng.multivariate_normal(mean, cov, size=side * side).astype(np.float32)


def interpolate_codes(code_a: np.ndarray, code_b: np.ndarray, steps: int = 8) -> np.ndarray:
    """Codes on the straight line from a to b, both ends included: (steps, k)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * np.asarray(code_a)[None, :] + t * np.asarray(code_b)[None, :]).astype(np.float32)


def per_image_mse(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Mean squared error per pixel of each image: (N,)."""
    a = np.asarray(originals, dtype=np.float64).reshape(len(originals), -1)
    b = np.asarray(reconstructions, dtype=np.float64).reshape(len(reconstructions), -1)
    return ((a - b) ** 2).mean(axis=1)


def mean_error_per_class(errors: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of `errors` over the items of each class 0..n_classes-1 (NaN for an empty class)."""
    errors, labels = np.asarray(errors, dtype=np.float64), np.asarray(labels)
    sums = np.bincount(labels, weights=errors, minlength=n_classes)[:n_classes]
    counts = np.bincount(labels, minlength=n_classes)[:n_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
