"""aeviz.analysis.latent, the one place for encoding, decoding, the 2-D picture of codes, the latent grid and
interpolation: against scikit-learn, hand-built linear models, and the pages that must share them."""

import ast

import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.decomposition import PCA

from aeviz.analysis import latent
from aeviz.errors import AevizError
from aeviz.variants import build_model
from tests.conftest import ROOT
from tests.analysis.test_explore import hand_built_linear


# ---------------------------------------------------------------------------- encoding and decoding
class Dropout(torch.nn.Module):
    """Zeroes half the code in training mode only, so train-mode and eval-mode codes differ."""

    def forward(self, x):
        return torch.nn.functional.dropout(x, 0.5, self.training)


def model_that_differs_in_train_mode(digits):
    torch.manual_seed(0)
    model = build_model("plain", digits.image_shape, 6, {"hidden": [16]})
    model.encoder = torch.nn.Sequential(model.encoder, Dropout())
    return model


@pytest.mark.parametrize("training", [True, False])
def test_encode_images_gives_eval_mode_codes_whatever_the_models_mode(digits, training):
    model = model_that_differs_in_train_mode(digits)
    images = digits.test_images[:300]
    model.eval()
    with torch.no_grad():
        expected = model.encode(images).numpy()
    model.train(training)
    codes = latent.encode_images(model, images)
    np.testing.assert_allclose(codes, expected, rtol=1e-6, atol=1e-7)
    assert model.training == training  # given back in the mode it was in
    model.train()
    with torch.no_grad():  # the test can fail: in train mode the codes do differ
        assert not np.allclose(model.encode(images).numpy(), expected)


def test_encode_decode_and_reconstruct_in_batches_agree_with_one_pass(digits, monkeypatch):
    model = model_that_differs_in_train_mode(digits)
    images = digits.test_images[:50]
    whole = latent.encode_images(model, images)
    monkeypatch.setattr(latent, "BATCH", 7)   # several batches, the last one short
    np.testing.assert_allclose(latent.encode_images(model, images.numpy()), whole, rtol=1e-6, atol=1e-7)
    decoded = latent.decode_codes(model, whole)
    assert decoded.shape == (50, *digits.image_shape) and decoded.dtype == np.float32
    np.testing.assert_allclose(latent.reconstruct_images(model, images), decoded, rtol=1e-5, atol=1e-6)
    errors = latent.reconstruction_errors(model, images)
    expected = ((decoded - images.numpy()) ** 2).reshape(50, -1).mean(axis=1)
    np.testing.assert_allclose(errors, expected, rtol=1e-5)
    assert latent.encode_images(model, images[:0]).shape == (0, 6)


def test_errors_per_image():
    originals = np.zeros((4, 1, 2, 2))
    recons = np.stack([np.full((1, 2, 2), v) for v in (0.0, 0.5, 1.0, 0.1)])
    np.testing.assert_allclose(latent.per_image_mse(originals, recons), [0.0, 0.25, 1.0, 0.01])


# ---------------------------------------------------------------------------- codes in 2-D
def test_pca_projection_matches_sklearn(digits):
    x = digits.test_images.numpy().reshape(len(digits.test_images), -1)
    projection = latent.pca_projection(x)
    ours, ratio = projection(x), projection.explained
    sk = PCA(n_components=2).fit(x)
    theirs = sk.transform(x)
    for j in range(2):  # equal up to the sign of each component
        sign = np.sign(ours[:, j] @ theirs[:, j])
        np.testing.assert_allclose(ours[:, j], sign * theirs[:, j], atol=1e-4)
    np.testing.assert_allclose(ratio, sk.explained_variance_ratio_, rtol=1e-5)


def test_pca_projection_of_one_dimensional_codes():
    emb = latent.pca_projection(np.arange(10.0)[:, None])(np.arange(10.0)[:, None])
    assert emb.shape == (10, 2) and np.all(emb[:, 1] == 0)


def test_pca_projection_signs_are_fixed():
    """The same cloud with an axis flipped gives the same picture: each axis's largest loading is positive."""
    codes = np.random.default_rng(11).normal(size=(300, 4)) * np.array([3.0, 2.0, 1.0, 0.5])
    flipped = codes * np.array([-1.0, -1.0, 1.0, 1.0])
    projection = latent.pca_projection(codes)
    assert np.all(projection.axes[np.arange(2), np.abs(projection.axes).argmax(axis=1)] > 0)
    np.testing.assert_allclose(np.abs(projection(codes)), np.abs(latent.pca_projection(flipped)(flipped)), atol=1e-5)
    np.testing.assert_allclose(latent.codes_2d(codes), projection(codes), atol=1e-6)


def test_code_projection_places_new_codes_in_the_test_sets_picture():
    codes = np.random.default_rng(9).normal(size=(200, 5)) * np.array([4.0, 2.0, 1.0, 0.5, 0.1])
    projection = latent.code_projection(codes)
    reference = PCA(n_components=2).fit(codes)
    new = codes[:3] + 1.0
    ours, theirs = projection(new), reference.transform(new)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), rtol=1e-4, atol=1e-4)  # PCA's signs are arbitrary
    two = codes[:, :2]
    np.testing.assert_allclose(latent.code_projection(two)(two), two, rtol=1e-6)
    one = codes[:, :1]
    np.testing.assert_allclose(latent.codes_2d(one), np.column_stack([one[:, 0], np.zeros(200)]), rtol=1e-6)


# ---------------------------------------------------------------------------- the latent grid
def test_manifold_grid_vae_quantiles_and_code_range():
    model, weight, bias, _ = hand_built_linear(k=2)
    vae_grid = latent.manifold(model, n=5, prior=True)
    np.testing.assert_allclose(vae_grid.xs, norm.ppf(np.linspace(0.05, 0.95, 5)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vae_grid.ys, norm.ppf(np.linspace(0.95, 0.05, 5)), rtol=1e-5, atol=1e-6)
    # images[row, col] is decoded at (xs[col], ys[row])
    expected = weight @ np.array([vae_grid.xs[1], vae_grid.ys[3]]) + bias
    np.testing.assert_allclose(vae_grid.images[3, 1].ravel(), expected, rtol=1e-4, atol=1e-5)

    codes = np.random.default_rng(2).uniform(-3, 7, size=(1000, 2))
    plain_grid = latent.manifold(model, n=4, prior=False, codes=codes)
    low, high = np.percentile(codes[:, 0], [1, 99])
    np.testing.assert_allclose(plain_grid.xs, np.linspace(low, high, 4), rtol=1e-5)
    with pytest.raises(AevizError):
        latent.manifold(model, n=4, prior=False, codes=None)


def test_prior_samples_and_interpolation():
    samples = latent.prior_samples(5, 16)
    assert samples.shape == (16, 5)
    np.testing.assert_array_equal(samples, latent.prior_samples(5, 16))  # reproducible
    path = latent.interpolate_codes(np.zeros(3), np.ones(3), steps=5)
    np.testing.assert_allclose(path[:, 0], [0, 0.25, 0.5, 0.75, 1.0])


def test_interpolation_in_code_space_against_pixel_space():
    model, weight, bias, encoder_weight = hand_built_linear(k=2)
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    b = np.ones((2, 3), np.float32) - a
    in_code, in_pixels = latent.interpolate(model, a, b, steps=5)
    np.testing.assert_allclose(in_pixels[0], a)
    np.testing.assert_allclose(in_pixels[-1], b)
    np.testing.assert_allclose(in_pixels[2], (a + b) / 2, rtol=1e-6)
    code_a, code_b = encoder_weight @ a.ravel(), encoder_weight @ b.ravel()
    np.testing.assert_allclose(in_code[2].ravel(), weight @ ((code_a + code_b) / 2) + bias, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------- one picture on every page
def latent_calls(path) -> set[str]:
    """The names of `latent.<name>` used in a file, and the functions it imports from aeviz.analysis.latent."""
    tree = ast.parse((ROOT / path).read_text())
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "latent"}
    used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "aeviz.analysis.latent"
             for alias in node.names}
    return used


def test_latent_space_explore_and_the_report_draw_codes_and_grids_the_same_way():
    """Both pages and the report take the 2-D picture of codes and the latent grid from aeviz.analysis.latent."""
    pages = {path: latent_calls(path) for path in ("app_pages/latent_space.py", "app_pages/explore.py",
                                                   "aeviz/export/report.py")}
    for path, used in pages.items():
        assert {"code_projection", "codes_2d"} & used, (path, used)
        assert {"manifold", "grid_description"} <= used, (path, used)
        assert "encode_images" in used or path == "app_pages/explore.py", (path, used)  # Explore: drawing.test_reference

