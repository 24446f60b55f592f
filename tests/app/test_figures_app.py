"""Figure builders of the Train, Reconstructions and Latent space pages: pure functions, checked on data."""

import numpy as np
import plotly.graph_objects as go

from aeviz.analysis.comparison import FrontierPoint
from aeviz.figures import images, latent, reconstructions, training


def test_mosaic_places_each_image():
    a = np.zeros((2, 1, 3, 3), dtype=np.float32)
    b = np.ones((1, 1, 3, 3), dtype=np.float32) * 0.5
    out = images.mosaic([a, b], gap=1, fill=1.0)
    assert out.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert np.all(out[0:3, 0:3] == 0) and np.all(out[0:3, 4:7] == 0)
    assert np.all(out[4:7, 0:3] == 0.5)
    assert np.all(out[4:7, 4:7] == 1.0)  # missing image: blank
    assert np.all(out[3, :] == 1.0)      # the gap


def test_loss_curves_one_line_per_term():
    history = [{"step": s, "epoch": s / 10, "elapsed": s, "loss": 1.0 / (s + 1) + 0.1, "reconstruction": 1.0 / (s + 1),
                "kl": 0.1} for s in range(5)]
    fig = training.loss_curves_figure(history)
    assert [t.name for t in fig.data] == ["total", "reconstruction", "kl"]
    np.testing.assert_allclose(fig.data[1].y, [1.0 / (s + 1) for s in range(5)])
    # a single term is drawn once, not twice
    single = [{"step": 1, "epoch": 0.1, "loss": 0.5, "reconstruction": 0.5}]
    assert [t.name for t in training.loss_curves_figure(single).data] == ["reconstruction"]
    # the report's version: the test MSE per snapshot and PCA's on the same figure
    report = training.loss_curves_figure(history, x="step", test_history=[{"step": 2, "test_mse": 0.3}], pca_mse=0.2)
    assert [t.name for t in report.data] == ["total", "reconstruction", "kl", "test MSE"]
    assert list(report.data[-1].x) == [2] and any(shape.y0 == 0.2 for shape in report.layout.shapes)


def test_test_mse_figure_has_pca_line():
    fig = training.test_mse_figure([{"elapsed": 1.0, "test_mse": 0.05}, {"elapsed": 2.0, "test_mse": 0.03}], 0.04)
    assert list(fig.data[0].y) == [0.05, 0.03]
    assert any(shape.y0 == 0.04 for shape in fig.layout.shapes)


def test_pca_curve_figure_marks_the_chosen_k():
    curve = np.array([0.1, 0.05, 0.03, 0.02, 0.015, 0.0])  # k = 0..5; PCA's error is 0 at k = D
    fig = training.pca_curve_figure(curve, 3)
    line, chosen = fig.data
    assert list(line.x) == [1, 2, 3, 4, 5] and list(line.y) == list(curve[1:])
    assert list(chosen.x) == [3] and list(chosen.y) == [0.02] and chosen.text[0].strip() == "k = 3"
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.range[0] > -3  # the zero at k = D is left out
    assert list(training.pca_curve_figure(curve, 99).data[1].x) == [5]  # a k past the curve: its last point


def test_progress_text_and_duration():
    from aeviz.training.events import Progress

    p = Progress(10, 2.5, "train", 0.5, {"reconstruction": 0.02}, 0.02, 12345.0, 10.0, 70.0, 1e-3)
    text = training.progress_text(p)
    assert "50%" in text and "ETA 1m10s" in text and "12,345 samples/s" in text
    assert training.format_duration(None) == "?" and training.format_duration(3725) == "1h02m"


def test_reconstruction_grid_rows_and_captions():
    originals = np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32)
    rows = [("run A", originals * 0.5, np.array([0.1, 0.2, 0.3])), ("PCA k=4", originals, np.zeros(3))]
    fig = reconstructions.reconstruction_grid_figure(originals, rows)
    texts = [a.text for a in fig.layout.annotations]
    assert {"originals", "run A", "PCA k=4"} <= set(texts)
    assert "0.2000" in texts
    assert isinstance(fig.data[0], go.Image)
    # The axes span the mosaic exactly: left to autorange, the row labels (annotations) widened the x range
    # and shrank every image to a third of its size.
    height, width = fig.data[0].z.shape[:2]
    assert tuple(fig.layout.xaxis.range) == (-0.5, width - 0.5)
    assert tuple(fig.layout.yaxis.range) == (height - 0.5, -0.5)


def test_best_worst_and_class_bars():
    best, worst = reconstructions.best_worst_indices(np.array([0.3, 0.1, 0.5, 0.2]), 2)
    assert best.tolist() == [1, 3] and worst.tolist() == [2, 0]
    fig = reconstructions.error_per_class_figure(["0", "1"], [("run", np.array([0.1, 0.2])),
                                                              ("PCA", np.array([0.3, 0.4]))])
    assert len(fig.data) == 2 and list(fig.data[1].y) == [0.3, 0.4]
    assert fig.layout.xaxis.type == "category"  # digits' classes "0".."9" each get a tick, not 0, 2, 4 ...


def test_code_scatter_is_webgl_with_indices():
    emb = np.arange(20, dtype=np.float32).reshape(10, 2)
    labels = np.array([0, 1] * 5)
    fig = latent.code_scatter_figure(emb, labels, ["zero", "one", "two"], indices=np.arange(100, 110))
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert [t.name for t in fig.data] == ["zero", "one"]  # empty classes are left out
    assert list(fig.data[1].customdata) == [101, 103, 105, 107, 109]


def test_frontier_figure_marks_runs():
    pts = [FrontierPoint("r1", "plain k=4", "plain", 4, 0.01, 0.02), FrontierPoint("r2", "lin", "linear", 8, 0.02, 0.02)]
    fig = latent.frontier_figure(np.arange(1, 65), np.linspace(0.1, 0.001, 64), pts, highlight="r1")
    assert fig.data[0].name == "PCA (exact)" and len(fig.data[0].x) == 64
    names = [t.name for t in fig.data[1:]]
    assert names == ["linear", "plain"]
    assert list(fig.data[2].x) == [4] and fig.data[2].marker.size[0] == 14
    # the range covers the runs and PCA up to their largest k, not PCA's tail towards 0 at k = 64
    low, high = fig.layout.yaxis.range
    assert 0.001 < 10 ** low <= min(p.test_mse for p in pts)  # PCA reaches 0.001 only at k = 64


def test_angles_and_grids():
    fig = latent.principal_angles_figure(np.array([0.1, 0.5]))
    assert list(fig.data[0].y) == [0.1, 0.5]
    grid = latent.decoded_grid_figure(np.zeros((9, 1, 4, 4)), 3)
    assert grid.data[0].z.shape[:2] == (3 * 4 + 2, 3 * 4 + 2)


def test_frontier_range_stops_a_decade_below_the_best_run_when_pca_falls_to_zero():
    # 8x8 digits with an overcomplete run at k = 128: PCA's error reaches ~1e-7 at k = 64
    pca = np.geomspace(0.05, 1e-7, 64)
    pts = [FrontierPoint("r1", "plain", "plain", 16, 0.01, 0.01),
           FrontierPoint("r2", "over", "overcomplete", 128, 0.003, 0.0)]
    fig = latent.frontier_figure(np.arange(1, 65), pca, pts)
    low, high = fig.layout.yaxis.range
    assert 0.003 / 10 / 1.3 <= 10 ** low <= 0.003  # not down to 1e-7
    assert len(fig.data[0].x) == 64  # the whole PCA line is drawn (it leaves through the bottom)
