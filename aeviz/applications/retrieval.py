"""Retrieval (search by example): the nearest neighbours of a query in some feature space. An
autoencoder's code space is good for search when images that look alike in meaning land close.

precision@n: for each query, the share of its n nearest other items (Euclidean) with the query's
label, averaged over queries. Compared across codes, PCA codes at the same k, and raw pixels.
"""

from __future__ import annotations

import numpy as np
import torch

from aeviz.errors import InvalidConfig

CHUNK = 1024


def _squared_distances(queries: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    # ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2, in float64 so near-ties order the same as a direct sum
    return ((queries ** 2).sum(1, keepdim=True) - 2 * queries @ items.T + (items ** 2).sum(1)[None]).clamp(min=0)


def nearest_neighbours(features: np.ndarray, query_indices, n: int = 10, exclude_self: bool = True) -> np.ndarray:
    """(len(query_indices), n) indices of each query's n nearest items in `features` (N, d),
    nearest first; ties broken by the lower index."""
    items = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64))
    queries = np.atleast_1d(np.asarray(query_indices, dtype=np.int64))
    limit = len(items) - (1 if exclude_self else 0)
    if n < 1 or n > limit:
        raise InvalidConfig(f"n must be between 1 and {limit} (got {n})")
    out = []
    for start in range(0, len(queries), CHUNK):
        chunk = torch.from_numpy(queries[start:start + CHUNK])
        distances = _squared_distances(items[chunk], items)
        if exclude_self:
            distances[torch.arange(len(chunk)), chunk] = float("inf")
        # stable sort on distance keeps equal distances in index order
        out.append(torch.sort(distances, dim=1, stable=True).indices[:, :n])
    return torch.cat(out).numpy()


def precision_at_n(features: np.ndarray, labels, n: int = 10, queries=None) -> float:
    """Mean share of same-label items among each query's n nearest neighbours (query excluded).
    `queries`: indices to average over (default: every item)."""
    labels = np.asarray(labels)
    query_indices = np.arange(len(labels)) if queries is None else np.asarray(queries)
    neighbours = nearest_neighbours(features, query_indices, n)
    return float((labels[neighbours] == labels[query_indices][:, None]).mean())


def precision_at_10(features: np.ndarray, labels, queries=None) -> float:
    return precision_at_n(features, labels, 10, queries)


def retrieval_report(spaces: dict[str, np.ndarray], labels, n: int = 10, max_queries: int | None = 2000,
                     seed: int = 0) -> dict[str, float]:
    """precision@n of each feature space over the same queries (a random subset of at most
    `max_queries`, searched against every item)."""
    labels = np.asarray(labels)
    queries = None
    if max_queries is not None and len(labels) > max_queries:
        queries = np.sort(np.random.default_rng(seed).choice(len(labels), max_queries, replace=False))
    return {name: precision_at_n(features, labels, n, queries) for name, features in spaces.items()}
