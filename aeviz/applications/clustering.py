"""Clustering: k-means in a feature space, scored against the true labels (which k-means never sees).

- NMI, normalised mutual information: I(C; Y) / mean(H(C), H(Y)) (arithmetic mean, scikit-learn's
  default), 1 when clusters and classes determine each other, ~0 when independent.
- ARI, adjusted Rand index (Hubert & Arabie 1985): agreement over pairs of items, corrected for
  chance so that random clusterings score ~0 and identical ones 1.

k-means lands in a different local optimum from each start, and on Fashion-MNIST the ARI of one
run moves by ±0.03 with the seed: enough to flip a comparison. So every space gets the same
protocol: k-means (best of `n_init` starts) repeated with `repeats` seeds, NMI and ARI averaged
over the repeats (their spread reported beside them); the clusters shown are those of the repeat
with the lowest inertia.
"""

from __future__ import annotations

import numpy as np

from aeviz.errors import InvalidConfig

DEFAULT_N_INIT = 10    # k-means++ starts per k-means run (best inertia kept)
DEFAULT_REPEATS = 5    # k-means runs (seeds seed, seed+1, ...) whose scores are averaged


def contingency(clusters, labels) -> np.ndarray:
    """(n_clusters, n_classes) counts of items per (cluster, class)."""
    _, c = np.unique(np.asarray(clusters), return_inverse=True)
    _, y = np.unique(np.asarray(labels), return_inverse=True)
    table = np.zeros((c.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(table, (c, y), 1)
    return table


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(clusters, labels) -> float:
    """I(C; Y) / ((H(C) + H(Y)) / 2), in [0, 1]."""
    table = contingency(clusters, labels).astype(np.float64)
    n = table.sum()
    rows, cols = table.sum(1), table.sum(0)
    h_c, h_y = _entropy(rows), _entropy(cols)
    if h_c == 0 and h_y == 0:
        return 1.0
    nz = table > 0
    mutual = float((table[nz] / n * np.log(table[nz] * n / np.outer(rows, cols)[nz])).sum())
    denominator = (h_c + h_y) / 2
    return max(mutual, 0.0) / denominator if denominator > 0 else 0.0


def adjusted_rand_index(clusters, labels) -> float:
    """(RI - E[RI]) / (max RI - E[RI]) over pairs, from the contingency table."""
    table = contingency(clusters, labels).astype(np.float64)
    pairs = lambda x: x * (x - 1) / 2  # noqa: E731
    index = pairs(table).sum()
    a, b = pairs(table.sum(1)).sum(), pairs(table.sum(0)).sum()
    expected = a * b / pairs(table.sum())
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def _fit_kmeans(features: np.ndarray, n_clusters: int, seed: int, n_init: int):
    from sklearn.cluster import KMeans

    if not 2 <= n_clusters <= len(features):
        raise InvalidConfig(f"the number of clusters must be between 2 and {len(features)} (got {n_clusters})")
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(np.asarray(features, dtype=np.float64))


def cluster_space(features: np.ndarray, labels, n_clusters: int | None = None, seed: int = 0,
                  repeats: int = DEFAULT_REPEATS, n_init: int = DEFAULT_N_INIT, progress=None) -> dict:
    """k-means on one feature space, `repeats` times (seeds seed, seed+1, ...; each the best of `n_init`
    starts), scored against `labels`: {"nmi", "ari"} (means over the repeats), {"nmi_std", "ari_std"},
    {"nmi_runs", "ari_runs"} (one per repeat) and "clusters", the assignments of the repeat with the
    lowest inertia. `progress(done, repeats)` is called after each repeat."""
    labels = np.asarray(labels)
    n_clusters = n_clusters or len(np.unique(labels))
    if repeats < 1:
        raise InvalidConfig(f"k-means needs at least one repeat (got {repeats})")
    nmis, aris, best, best_inertia = [], [], None, np.inf
    for repeat in range(repeats):
        fit = _fit_kmeans(features, n_clusters, seed + repeat, n_init)
        clusters = fit.labels_.astype(np.int64)
        nmis.append(normalized_mutual_info(clusters, labels))
        aris.append(adjusted_rand_index(clusters, labels))
        if fit.inertia_ < best_inertia:
            best, best_inertia = clusters, fit.inertia_
        if progress is not None:
            progress(repeat + 1, repeats)
    return {"clusters": best, "nmi": float(np.mean(nmis)), "ari": float(np.mean(aris)),
            "nmi_std": float(np.std(nmis)), "ari_std": float(np.std(aris)), "nmi_runs": nmis, "ari_runs": aris}


def cluster_mean_images(images: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """(n_clusters, *image shape) mean image of each cluster (zeros for an empty one)."""
    images = np.asarray(images, dtype=np.float32)
    out = np.zeros((n_clusters, *images.shape[1:]), dtype=np.float32)
    for c in range(n_clusters):
        members = clusters == c
        if members.any():
            out[c] = images[members].mean(axis=0)
    return out


def clustering_report(spaces: dict[str, np.ndarray], labels, n_clusters: int | None = None,
                      seed: int = 0, repeats: int = DEFAULT_REPEATS, n_init: int = DEFAULT_N_INIT) -> dict[str, dict]:
    """For each feature space, the same protocol (`cluster_space`): cluster assignments, NMI and ARI
    against `labels` averaged over the repeats, and their spread."""
    return {name: cluster_space(features, labels, n_clusters, seed, repeats, n_init)
            for name, features in spaces.items()}
