"""What a trained run learned, in numbers: principal angles against PCA, the error-versus-k frontier,
errors per class, and the stratified subsample that keeps a 2-D embedding (UMAP: `aeviz.analysis.umap_embed`)
to seconds. Codes, decoding, 2-D projections and latent grids are `aeviz.analysis.latent`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aeviz.errors import AevizError
from aeviz.facts import beats_pca

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


# ---------------------------------------------------------------------------- subsampling for an embedding

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


# ---------------------------------------------------------------------------- frontier

@dataclass
class FrontierPoint:
    run_id: str
    label: str
    variant: str
    k: int
    test_mse: float
    pca_test_mse: float          # PCA's test MSE with pca_k components: the run's baseline
    pca_k: int = 0               # components of that baseline (pca_comparison_k); 0: the run's k

    def __post_init__(self):
        self.pca_k = self.pca_k or self.k

    @property
    def beats_pca(self) -> bool:
        return beats_pca(self.test_mse, self.pca_test_mse)


def pca_frontier(dataset, max_k: int = FRONTIER_MAX_K) -> tuple[np.ndarray, np.ndarray]:
    """(ks = 1..max_k, PCA's test MSE per pixel at each k), exact, from one projection."""
    # lazy: torch only when called (this module imports without it)
    from aeviz.analysis.pca import pca_test_mse_curve

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
        compared = _compared_k(info, k)
        if (pca is None or compared != k) and pca_curve is not None and compared < len(pca_curve):
            pca = float(pca_curve[compared])  # a k-sparse run: PCA with as many components as its active units
        points.append(FrontierPoint(info.run_id, info.label, str(info.config.get("variant")), k,
                                    float(mse), float(pca) if pca is not None else float("nan"), compared))
    return points


def _compared_k(info, k: int) -> int:
    """The PCA components a saved run is compared with (aeviz.facts); its k when that cannot be read."""

    try:
        return pca_comparison_k(str(info.config.get("variant")), k, info.config.get("params") or {})
    except (AevizError, KeyError, ValueError, TypeError):
        return k


# ---------------------------------------------------------------------------- errors per class

def mean_error_per_class(errors: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of `errors` over the items of each class 0..n_classes-1 (NaN for an empty class)."""
    errors, labels = np.asarray(errors, dtype=np.float64), np.asarray(labels)
    sums = np.bincount(labels, weights=errors, minlength=n_classes)[:n_classes]
    counts = np.bincount(labels, minlength=n_classes)[:n_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


# ---------------------------------------------------------------------------- which PCA a run is compared with

def pca_comparison_k(variant: str, k: int, params: dict[str, Any] | None = None) -> int:
    """How many PCA components a run is compared with: its k, except for a run that rebuilds each image from
    only some of its code units (k-sparse: its `active_units`, Makhzani & Frey), compared with PCA using as
    many components as the numbers each image may use. (At its full k, k-sparse has more numbers to choose
    from than it uses: a win over PCA at k would say little; a loss would be unfair.)"""
    # lazy: torch only when called (this module imports without it)
    from aeviz.variants import get_variant

    cls = get_variant(variant)
    if "active_units" not in {p.name for p in cls.declared_params()}:
        return int(k)
    return int(cls.parse_params(dict(params or {}), int(k))["active_units"])


def pca_comparison_words(variant: str, k: int, params: dict[str, Any] | None = None) -> str:
    """'PCA at the same k' or 'PCA with 12 components (as many as the code units each image may use)'."""
    compared = pca_comparison_k(variant, k, params)
    if compared == int(k):
        return "PCA at the same k"
    return f"PCA with {compared} components (as many as the code units each image may use)"
