"""PCA fits and UMAP embeddings are kept within their budgets (AEVIZ_CACHE_PCA_MB, AEVIZ_CACHE_EMBEDDINGS),
the least recently used out first (issue #33, bounded memory), and a fit read again is the same PCA."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aeviz.analysis import umap_embed
from aeviz.analysis.pca import FITS, dataset_pca, fit_key, fit_pca, pca_test_mse_curve


@pytest.fixture
def empty_caches():
    FITS.clear()
    umap_embed.EMBEDDINGS.clear()
    yield
    FITS.clear()
    umap_embed.EMBEDDINGS.clear()


def small_dataset(name: str, seed: int) -> SimpleNamespace:
    """16x16 images: a PCA fit of 256 x 256 float32 components, 0.26 MB."""
    generator = torch.Generator().manual_seed(seed)
    return SimpleNamespace(name=name, source="made by the test",
                           train_images=torch.rand(300, 1, 16, 16, generator=generator),
                           test_images=torch.rand(60, 1, 16, 16, generator=generator))


def test_pca_fits_are_kept_within_their_budget_least_recently_used_out(empty_caches, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_PCA_MB", "1")  # three 0.26 MB fits (and their curves) fit in 1 MB, four do not
    datasets = [small_dataset(f"pca-{i}", i) for i in range(4)]
    curves = [pca_test_mse_curve(dataset) for dataset in datasets[:3]]
    fits = [weakref.ref(dataset_pca(dataset)) for dataset in datasets[:3]]  # used in this order
    used = dataset_pca(datasets[0])  # used again: pca-1's fit is now the least recently used
    pca_test_mse_curve(datasets[3])  # a fourth fit: over 1 MB with the other three
    assert FITS.total_bytes() <= 10**6
    assert fit_key(datasets[1], "fit") not in FITS and all(fit_key(datasets[i], "fit") in FITS for i in (0, 2, 3))
    assert dataset_pca(datasets[0]) is used and dataset_pca(datasets[3]) is dataset_pca(datasets[3])
    gc.collect()
    assert fits[1]() is None and fits[2]() is not None  # nothing else held it: its memory is free
    again = pca_test_mse_curve(small_dataset("pca-1-again", 1))  # made again: the same numbers
    np.testing.assert_allclose(again, curves[1], rtol=1e-6)
    np.testing.assert_allclose(again, fit_pca(datasets[1].train_images).test_mse_curve(datasets[1].test_images))


def test_umap_embeddings_are_kept_within_their_number(empty_caches, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_EMBEDDINGS", "2")
    for run in ("a", "b", "c"):
        umap_embed.EMBEDDINGS.put((run, 0.0, 100), np.zeros((100, 2), dtype=np.float32))
    assert umap_embed.EMBEDDINGS.keys() == [("b", 0.0, 100), ("c", 0.0, 100)]
