"""Clustering: k-means in a feature space, scored against the true labels (which k-means never sees).

- NMI, normalised mutual information: I(C; Y) / mean(H(C), H(Y)) (arithmetic mean, scikit-learn's
  default), 1 when clusters and classes determine each other, ~0 when independent.
- ARI, adjusted Rand index (Hubert & Arabie 1985): agreement over pairs of items, corrected for
  chance so that random clusterings score ~0 and identical ones 1.
"""

from __future__ import annotations

import numpy as np

from aeviz.errors import InvalidConfig


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


def kmeans(features: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 3) -> np.ndarray:
    """Cluster assignments (N,) from scikit-learn's k-means (k-means++ starts, best of n_init)."""
    from sklearn.cluster import KMeans

    if not 2 <= n_clusters <= len(features):
        raise InvalidConfig(f"the number of clusters must be between 2 and {len(features)} (got {n_clusters})")
    model = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    return model.fit_predict(np.asarray(features, dtype=np.float64)).astype(np.int64)


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
                      seed: int = 0) -> dict[str, dict]:
    """For each feature space: cluster assignments, NMI and ARI against `labels`."""
    labels = np.asarray(labels)
    n_clusters = n_clusters or len(np.unique(labels))
    out = {}
    for name, features in spaces.items():
        clusters = kmeans(features, n_clusters, seed)
        out[name] = {"clusters": clusters, "nmi": normalized_mutual_info(clusters, labels),
                     "ari": adjusted_rand_index(clusters, labels)}
    return out
