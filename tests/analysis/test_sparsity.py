"""Sparsity statistics on a hand-built model whose activations are known exactly."""

import numpy as np
import pytest
import torch
from torch import nn

from aeviz.analysis import sparsity
from aeviz.sweeps import presets
from aeviz.errors import AevizError
from aeviz.figures import sparsity as figs
from aeviz.variants import build_model


class Fixed(nn.Module):
    """hidden_activations(x) = the pixel values of x themselves (so we choose them by choosing x)."""

    def hidden_activations(self, x):
        return x.reshape(len(x), -1)


def test_statistics_of_known_activations():
    # 4 images x 3 units. Unit 2 never exceeds 0.1 in magnitude: dormant at threshold 0.1.
    acts = torch.tensor([[0.9, 0.0, 0.05],
                         [0.0, 0.5, -0.1],
                         [0.2, 0.0, 0.0],
                         [0.0, -0.3, 0.08]]).reshape(4, 1, 1, 3)
    stats = sparsity.activation_stats(Fixed(), acts, threshold=0.1)
    assert np.allclose(stats.unit_means, [0.275, 0.05, 0.0075])
    assert stats.dormant.tolist() == [False, False, True]
    assert stats.dormant_fraction == pytest.approx(1 / 3)
    assert stats.active_per_image.tolist() == [1, 1, 1, 1]
    assert stats.mean_active_fraction == pytest.approx(4 / 12)
    assert stats.mean_activation == pytest.approx(acts.mean().item())
    # A lower threshold wakes unit 2 up on three images.
    low = sparsity.activation_stats(Fixed(), acts, threshold=0.01)
    assert low.dormant_fraction == 0.0
    assert low.active_per_image.tolist() == [2, 2, 1, 2]
    assert sparsity.order_units(stats).tolist() == [0, 1, 2]
    with pytest.raises(AevizError):
        sparsity.activation_stats(Fixed(), acts, threshold=-1)


def test_ksparse_keeps_exactly_the_chosen_number_active(digits):
    model = build_model("ksparse", digits.image_shape, 16, {"active_units": 3})
    stats = sparsity.activation_stats(model, digits.test_images[:50], threshold=0.0)
    # top-k can keep a value that is exactly 0 or negative, never more than 3.
    assert stats.active_per_image.max() <= 3
    assert stats.active_per_image.mean() > 2


def test_feature_images_are_the_weights_reshaped(digits):
    model = build_model("sparse_l1", digits.image_shape, 12, {})
    encoder, decoder = sparsity.feature_images(model)
    first = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)][0]
    assert encoder.shape == (12, 8, 8) and decoder.shape == (12, 8, 8)
    assert np.allclose(encoder[5].ravel(), first.weight[5].detach().numpy())
    last = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)][-1]
    assert np.allclose(decoder[7].ravel(), last.weight[:, 7].detach().numpy())
    conv_like = build_model("plain", digits.image_shape, 4, {"hidden": [16]})
    conv_like.feature_images = lambda: None
    assert sparsity.feature_images(conv_like) is None


def test_tiles_and_figures():
    images = np.arange(2 * 2 * 3, dtype=float).reshape(3, 2, 2) + 1
    tiled = figs.tile_images(images, columns=2, pad=1, normalize="none")
    assert tiled.shape == (5, 5)
    assert np.array_equal(tiled[0:2, 3:5], images[1])
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[3:5, 3:5]).all()
    each = figs.tile_images(-images, columns=3, normalize="each")
    assert np.nanmin(each) == -1.0
    stats = {"a": sparsity.ActivationStats(np.random.default_rng(0).random((20, 5)), 0.5)}
    for fig in (figs.activation_histogram(stats), figs.unit_mean_histogram(stats, 0.05),
                figs.active_units_histogram(stats), figs.dormant_bars(stats), figs.feature_grid(images, "f")):
        assert fig.to_dict()["data"]


def test_sweep_spec_and_rows(digits):
    spec = presets.sparsity_sweep_spec("digits", "sparse_l1", [1e-3, 1e-1], k=8, epochs=1)
    assert spec.grid == {"l1_weight": [1e-3, 1e-1]} and spec.fixed["k"] == 8
    with pytest.raises(AevizError, match="at most k"):
        presets.sparsity_sweep_spec("digits", "ksparse", [4, 20], k=8, epochs=1)
    with pytest.raises(AevizError):
        sparsity.sparsity_knob("plain")
    from aeviz.sweeps.spec import SweepPoint

    model = build_model("sparse_l1", digits.image_shape, 8, {})
    point = SweepPoint(0, "sparse_l1", {"l1_weight": 0.01}, 0, "completed", "run-x", {"test_mse": 0.05})
    row = sparsity.sparsity_point_row(point, model, digits.test_images[:40])
    assert row["l1_weight"] == 0.01 and row["test_mse"] == 0.05
    expected = model.hidden_activations(digits.test_images[:40]).detach().numpy().mean()
    assert row["mean_activation"] == pytest.approx(float(expected), rel=1e-5)


def test_the_k_sparse_filter_figure_sweeps_active_units_at_one_wide_code():
    spec = presets.ksparse_filters_spec("digits", 64, epochs=1)
    counts = spec.grid["active_units"]
    assert spec.variants == ["ksparse"] and spec.fixed["k"] == 63
    assert counts == sorted(counts, reverse=True) and len(counts) == 4 and counts[0] <= 63 and counts[-1] >= 1
    mnist = presets.ksparse_filters_spec("mnist", 784, epochs=1)
    assert mnist.grid["active_units"] == [70, 40, 25, 10] and mnist.fixed["k"] == 512


def test_histograms_give_each_run_its_own_panel_and_dormant_bars_their_room(digits):
    """A sigmoid run (activations in [0, 1]) and a ReLU run (up to several) in separate panels, each on
    its own x axis, so neither hides the other; dormant/active shares as horizontal bars with their text."""
    torch.manual_seed(0)
    runs = {"sigmoid": build_model("sparse_kl", digits.image_shape, 16, {}),
            "relu": build_model("sparse_l1", digits.image_shape, 16, {})}
    stats = {name: sparsity.activation_stats(model, digits.test_images) for name, model in runs.items()}
    fig = figs.activation_histogram(stats)
    assert [trace.xaxis for trace in fig.data] == ["x", "x2"]
    assert [a.text for a in fig.layout.annotations] == ["sigmoid", "relu"]
    assert float(np.max(fig.data[0].x)) <= 1.0 and fig.layout.xaxis2.matches is None  # each its own x range
    bars = figs.dormant_bars(stats)
    assert {trace.orientation for trace in bars.data} == {"h"}
    assert list(bars.data[0].text) == [f"dormant {s.dormant_fraction:.0%}" for s in stats.values()]
    assert bars.layout.xaxis.range[1] > 1.5  # room for "active 100%" beside a full bar


def test_sparsity_sweep_labels_stay_inside_the_figure_and_apart():
    rows = [{"mean_activation": a, "test_mse": e, "l1_weight": w, "variant": "sparse_l1"}
            for a, e, w in ((0.30, 0.010, 1e-4), (0.20, 0.012, 1e-3), (0.05, 0.030, 1e-2))]
    fig = figs.sparsity_sweep_figure(rows, "l1_weight")
    trace = fig.data[0]
    assert trace.cliponaxis is False
    assert list(trace.textposition) == ["top center", "bottom center", "top center"]  # neighbours apart
    assert fig.layout.xaxis.range[0] < 0.05 and fig.layout.xaxis.range[1] > 0.30
    assert fig.layout.yaxis.range[0] < 0.010 and fig.layout.yaxis.range[1] > 0.030


def test_active_units_histogram_counts_whole_units():
    # Every image has exactly 3 of 5 units active, then 0..400 of 400: bins centred on whole numbers,
    # integer ticks only (an image has 3 active units, never 2.8).
    few = {"few": sparsity.ActivationStats(np.tile([1.0, 1.0, 1.0, 0.0, 0.0], (20, 1)), 0.5)}
    layout = figs.active_units_histogram(few).to_dict()
    bins = layout["data"][0]["xbins"]
    assert (bins["start"], bins["end"], bins["size"]) == (2.5, 3.5, 1)
    assert layout["layout"]["xaxis"]["dtick"] == 1 and layout["layout"]["xaxis"]["tickformat"] == "d"
    rng = np.random.default_rng(0)
    many = {"many": sparsity.ActivationStats((rng.random((200, 400)) < rng.random((200, 1))).astype(float), 0.5)}
    wide = figs.active_units_histogram(many).to_dict()
    counts = many["many"].active_per_image
    bins = wide["data"][0]["xbins"]
    assert bins["size"] >= 1 and (counts.max() - counts.min() + 1) / bins["size"] <= 40
    assert bins["start"] == counts.min() - 0.5 and "dtick" not in wide["layout"]["xaxis"]


def test_unit_count_axis_has_whole_ticks_when_counts_are_small():
    # 16 units: each bin holds a few units, so the count axis ticks 0, 1, 2, 3 (it ticked 0.5, 1.5, 2.5)
    stats = {"a": sparsity.ActivationStats(np.random.default_rng(0).random((30, 16)), 0.5)}
    axis = figs.unit_mean_histogram(stats, 0.05).to_dict()["layout"]["yaxis"]
    assert axis["dtick"] == 1 and axis["tickformat"] == "d"
    many = {"a": sparsity.ActivationStats(np.random.default_rng(0).random((30, 2000)), 0.5)}
    assert "dtick" not in figs.unit_mean_histogram(many).to_dict()["layout"]["yaxis"]
