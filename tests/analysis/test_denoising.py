"""Denoising sweeps and inpainting geometry, checked with reconstructors whose answer we know."""

import numpy as np
import pytest
import torch

from aeviz.analysis import noise_robustness
from aeviz.sweeps import presets
from aeviz.errors import AevizError, InvalidConfig
from aeviz.figures import denoising as figs
from aeviz.analysis.pca import fit_pca
from aeviz.variants import build_model


def identity(x):
    return x.clone()


def test_square_mask_geometry():
    mask = noise_robustness.square_mask((8, 8), 3, 2, 4)
    assert mask.sum() == 9
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (2, 4, 4, 6)
    clipped = noise_robustness.square_mask((8, 8), 5, 6, 6)   # runs off the corner: 2 x 2 left
    assert clipped.sum() == 4 and clipped[6:, 6:].all()
    assert noise_robustness.square_mask((28, 28), 28, 0, 0).all()
    with pytest.raises(InvalidConfig):
        noise_robustness.square_mask((8, 8), 0, 0, 0)
    with pytest.raises(InvalidConfig):
        noise_robustness.square_mask((8, 8), 2, 8, 0)


def test_inpainting_errors_inside_and_outside(digits):
    images = digits.test_images[:10]
    mask = noise_robustness.square_mask((8, 8), 3, 2, 2)
    copy = noise_robustness.inpaint(identity, images, mask, fill=0.0)
    inside = images[..., torch.from_numpy(mask)]
    assert copy.fill_mse_inside == pytest.approx(float((inside ** 2).mean()))
    assert copy.mse_inside == pytest.approx(copy.fill_mse_inside)   # copying keeps the hole
    assert copy.mse_outside == 0.0
    assert (copy.masked[:, 2:5, 2:5] == 0).all()
    assert np.array_equal(copy.masked[:, 5:, :], copy.clean[:, 5:, :])
    oracle = noise_robustness.inpaint(lambda x: images.clone(), images, mask, fill=1.0)
    assert oracle.mse_inside == 0.0 and oracle.fill_mse_inside > 0
    with pytest.raises(InvalidConfig):
        noise_robustness.inpaint(identity, images, np.ones((4, 4), dtype=bool))
    with pytest.raises(AevizError):
        noise_robustness.inpaint(identity, images, np.zeros((8, 8), dtype=bool))


def test_noise_sweep_same_noise_for_every_method(digits):
    images = digits.test_images[:200]
    levels = [0.0, 0.1, 0.3]
    doing_nothing = noise_robustness.noisy_input_error(images, "gaussian", levels)
    assert doing_nothing[0] == 0.0
    assert doing_nothing[1] < doing_nothing[2]
    # PCA with every component reconstructs its input exactly: the same errors as the noisy input,
    # which holds only if both saw the very same noise.
    full = noise_robustness.pca_reconstructor(fit_pca(digits.train_images), 64)
    assert np.allclose(noise_robustness.noise_sweep(full, images, "gaussian", levels), doing_nothing, atol=1e-6)
    # Masking at p zeroes a share p of pixels: the error is close to p * mean(x^2).
    masked = noise_robustness.noisy_input_error(images, "masking", [0.5])
    assert masked[0] == pytest.approx(0.5 * float((images ** 2).mean()), rel=0.05)
    # Repeatable: the noise is seeded per level.
    assert np.array_equal(doing_nothing, noise_robustness.noisy_input_error(images, "gaussian", levels))
    assert not np.array_equal(doing_nothing, noise_robustness.noisy_input_error(images, "gaussian", levels, seed=1))
    with pytest.raises(InvalidConfig):
        noise_robustness.noise_sweep(identity, images, "gaussian", [])


def test_model_reconstructor_and_examples(digits):
    model = build_model("plain", digits.image_shape, 4, {"hidden": [16]})
    images = digits.test_images[:5]
    reconstruct = noise_robustness.model_reconstructor(model)
    with torch.no_grad():
        assert torch.allclose(reconstruct(images), model(images))
    example = noise_robustness.denoising_examples(reconstruct, images, "salt_and_pepper", 0.2)
    assert example.clean.shape == example.noisy.shape == example.recon.shape == (5, 8, 8)
    hit = example.noisy != example.clean
    assert set(np.unique(example.noisy[hit])) <= {0.0, 1.0}
    fig = figs.image_rows({"clean": example.clean, "noisy": example.noisy, "reconstructed": example.recon})
    assert fig.data[0].z.shape == (3 * 8 + 2, 5 * 8 + 4)


def test_heatmap_spec_and_matrix():
    spec = presets.noise_heatmap_spec("digits", "masking", [0.4, 0.0, 0.4], k=8, epochs=1)
    assert spec.variants == ["denoising"] and spec.grid == {"noise_level": [0.0, 0.4]}
    assert spec.fixed == {"k": 8, "noise": "masking"}
    matrix = noise_robustness.train_test_errors([0.0, 0.4], {0.4: [0.1, 0.2, 0.3]}, 3)
    assert np.isnan(matrix[0]).all() and matrix[1].tolist() == [0.1, 0.2, 0.3]
    fig = figs.train_test_heatmap([0.0, 0.4], [0, 0.1, 0.2], matrix, "masking")
    assert fig.data[0].z.shape == (2, 3)
    with pytest.raises(InvalidConfig):
        presets.noise_heatmap_spec("digits", "gaussian", [], k=8, epochs=1)


def test_inpainting_outline_covers_the_masked_pixels():
    clean = np.random.default_rng(0).random((2, 8, 8))
    mask = noise_robustness.square_mask((8, 8), 3, 1, 4)
    fig = figs.inpainting_figure(clean, clean, clean, mask, count=2)
    z = fig.data[0].z                         # flipped tiled array, 3 rows of 8 + 2 gaps
    rect = fig.layout.shapes[1]               # second image of the masked row
    ys = range(int(rect.y0 + 0.5), int(rect.y1 + 0.5))
    xs = range(int(rect.x0 + 0.5), int(rect.x1 + 0.5))
    inside = np.array([[z[y][x] for x in xs] for y in ys])
    expected = clean[1][1:4, 4:7][::-1]       # the same pixels, flipped like the figure
    assert np.allclose(inside, expected)


def test_heatmap_outlines_the_best_training_level_and_leaves_its_number_readable():
    errors = np.array([[0.01, 0.05, 0.09], [0.02, 0.03, 0.04]])
    fig = figs.train_test_heatmap([0.0, 0.4], [0.0, 0.2, 0.4], errors, "masking")
    # best per test level: rows 0, 1, 1; each outlined twice (white then black), no marker drawn over the text
    frames = [(s.x0, s.y0) for s in fig.layout.shapes if s.line.color == "#000000"]
    assert frames == [(-0.47, -0.47), (0.53, 0.53), (1.53, 0.53)]
    assert all(trace.x == (None,) for trace in fig.data[1:])
    assert fig.data[0].text[1][2] == "0.0400"
