"""analysis.py against independent computations: scipy's subspace angles, scikit-learn's PCA."""

import os

import numpy as np
import pytest
import scipy.linalg
from sklearn.decomposition import PCA

from aeviz.analysis import comparison as analysis
from aeviz.analysis.latent import per_image_mse
from aeviz.analysis.pca import dataset_pca, pca_test_mse


def test_principal_angles_match_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 4)), rng.standard_normal((20, 3))
    ours = analysis.principal_angles(a, b)
    theirs = np.sort(np.degrees(scipy.linalg.subspace_angles(a, b)))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    # the same subspace under a different (non-orthogonal) basis: all angles 0
    mixed = a @ rng.standard_normal((4, 4))
    assert analysis.principal_angles(a, mixed).max() < 1e-4
    # orthogonal subspaces: 90 degrees
    e = np.eye(6)
    np.testing.assert_allclose(analysis.principal_angles(e[:, :2], e[:, 2:4]), [90, 90], atol=1e-9)


def converged_linear_autoencoder(dataset, k):
    """A linear autoencoder trained on MSE to convergence (full-batch L-BFGS: seconds on digits)."""
    import torch

    from aeviz.variants import build_model

    torch.manual_seed(0)
    model = build_model("linear", dataset.image_shape, k, {})
    x = dataset.train_images
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=300, history_size=20, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        return loss

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add contention
    try:
        optimizer.step(closure)
    finally:
        torch.set_num_threads(threads)
    return model


def test_linear_autoencoder_learns_pca_subspace(digits):
    from aeviz.training.result import reconstruction_mse
    from aeviz.variants import build_model

    fit = dataset_pca(digits)
    fresh = build_model("linear", digits.image_shape, 4, {})
    assert analysis.linear_run_angles(fresh, fit).max() > 30  # a random decoder is far from it
    model = converged_linear_autoencoder(digits, 4)
    angles = analysis.linear_run_angles(model, fit)
    assert angles.shape == (4,)
    assert angles.max() < 2.0, angles
    # the same subspace means the same test error as PCA
    assert reconstruction_mse(model, digits.test_images) == pytest.approx(pca_test_mse(digits, 4), rel=0.01)
    # yet the decoder's columns are not PCA's orthonormal components
    w = analysis.decoder_directions(model)
    assert not np.allclose(w.T @ w, np.eye(4), atol=1e-2)


def test_frontier_matches_sklearn_reconstruction(digits):
    ks, mses = analysis.pca_frontier(digits, max_k=64)
    assert ks[0] == 1 and len(ks) == len(mses) and ks[-1] <= 64
    assert np.all(np.diff(mses) <= 1e-9)  # more components never hurt
    x_train = digits.train_images.numpy().reshape(len(digits.train_images), -1)
    x_test = digits.test_images.numpy().reshape(len(digits.test_images), -1)
    for k in (1, 5, 20):
        sk = PCA(n_components=k, svd_solver="full").fit(x_train)
        recon = sk.inverse_transform(sk.transform(x_test))
        assert mses[k - 1] == pytest.approx(((recon - x_test) ** 2).mean(), rel=1e-4)


def test_frontier_points_from_run_infos():
    from aeviz.runs.store import RunInfo

    good = RunInfo("a", None, {"dataset": "digits", "k": 4, "variant": "plain"},
                   {"test_mse": 0.01, "pca_test_mse": 0.02})
    other = RunInfo("b", None, {"dataset": "mnist", "k": 4, "variant": "plain"}, {"test_mse": 0.01})
    damaged = RunInfo("c", None, problem="missing weights.pt")
    points = analysis.frontier_points([good, other, damaged], "digits")
    assert [p.run_id for p in points] == ["a"] and points[0].beats_pca


def test_stratified_subsample_keeps_class_shares():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    chosen = analysis.stratified_subsample(labels, 100)
    assert len(chosen) == 100 and len(set(chosen)) == 100
    np.testing.assert_array_equal(np.bincount(labels[chosen]), [10, 20, 30, 40])
    np.testing.assert_array_equal(analysis.stratified_subsample(labels[:50], 100), np.arange(50))


def test_errors_per_image_and_class():
    originals = np.zeros((4, 1, 2, 2))
    recons = np.stack([np.full((1, 2, 2), v) for v in (0.0, 0.5, 1.0, 0.1)])
    errors = per_image_mse(originals, recons)
    np.testing.assert_allclose(errors, [0.0, 0.25, 1.0, 0.01])
    per_class = analysis.mean_error_per_class(errors, np.array([0, 0, 1, 1]), 3)
    np.testing.assert_allclose(per_class[:2], [0.125, 0.505])
    assert np.isnan(per_class[2])


class FakeUMAP:
    """Stands in for umap.UMAP: writes a tqdm bar to the file it is given, like umap's layout loop."""

    def __init__(self, n_epochs=200, tqdm_kwds=None, **kwargs):
        self.n_epochs, self.tqdm_kwds = n_epochs, tqdm_kwds

    def fit_transform(self, x):
        from tqdm import tqdm

        for _ in tqdm(range(self.n_epochs), **self.tqdm_kwds):
            pass
        return x[:, :2] * 2


def test_umap_progress_plumbing(monkeypatch):
    import types

    from aeviz.analysis import umap_embed

    monkeypatch.setattr(umap_embed, "prepare_umap", lambda: types.SimpleNamespace(UMAP=FakeUMAP))
    seen = []
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    emb = umap_embed.umap_embedding(x, progress=lambda f, m: seen.append((f, m)), n_epochs=50)
    np.testing.assert_allclose(emb, x[:, :2] * 2)
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(b >= a for a, b in zip(fractions, fractions[1:]))
    assert any("epoch 50 of 50" in m for _, m in seen)
    with pytest.raises(ValueError):
        umap_embed.umap_embedding(x[:5])


@pytest.mark.skipif(not os.environ.get("AEVIZ_UMAP_TESTS"),
                    reason="real UMAP compiles numba kernels (a minute on a busy CPU); set AEVIZ_UMAP_TESTS=1")
def test_umap_embedding_reports_progress_and_separates_clusters():
    from aeviz.analysis import umap_embed

    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    centres = np.array([[0.0] * 5, [10.0] * 5])
    x = np.concatenate([c + rng.standard_normal((60, 5)) for c in centres]).astype(np.float32)
    seen = []
    emb = umap_embed.umap_embedding(x, progress=lambda f, m: seen.append(f), n_epochs=30)
    assert emb.shape == (120, 2)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) > 3
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    # the two blobs stay apart: each point's nearest embedded neighbour is in its own blob
    d = ((emb[:, None, :] - emb[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (np.argmin(d, axis=1) // 60 == np.arange(120) // 60).mean() > 0.95
