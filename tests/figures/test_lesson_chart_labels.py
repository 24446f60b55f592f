"""Readable from the back (issue 31, item 9): every error chart labels its PCA line, in the legend (shown)
or beside the line; in projector mode a chart's title sits below the toolbars (plotly's modebar and
Streamlit's element toolbar, drawn over a chart's top edge on hover)."""

from __future__ import annotations

import numpy as np
import pytest

from aeviz.analysis.comparison import FrontierPoint
from aeviz.figures import theme
from aeviz.figures.denoising import noise_sweep_figure
from aeviz.figures.latent import frontier_figure
from aeviz.figures.reconstructions import error_per_class_figure
from aeviz.figures.sweeps import line_with_band
from aeviz.figures import training

CURVE = np.array([0.07, 0.05, 0.04, 0.03, 0.025, 0.02, 0.017, 0.015, 0.013])
HISTORY = [{"elapsed": t, "step": t, "epoch": t, "test_mse": 0.05 / (1 + t), "loss": 0.05 / (1 + t),
            "reconstruction": 0.05 / (1 + t)} for t in range(6)]


def legend_shown(fig) -> bool:
    visible = [t for t in fig.data if t.showlegend is not False]
    if fig.layout.showlegend is False:
        return False
    return fig.layout.showlegend is True or len(visible) >= 2


def on_the_plot(fig, annotation) -> bool:
    """Whether an annotation in y-axis units lies inside the y axis's range (on a log axis those units are
    log10 of the data: plotly's add_hline put the PCA label at 10^0.016, far off a chart ending at 0.03)."""
    axis = fig.layout.yaxis
    if annotation.yref != "y" or axis.range is None:
        return True
    low, high = sorted(axis.range)
    return low <= annotation.y <= high


def pca_labelled(fig) -> bool:
    """'PCA' beside a line (an annotation on the plot), in a shown legend, or in the title of a chart of PCA
    alone."""
    if any("PCA" in (a.text or "") and on_the_plot(fig, a) for a in fig.layout.annotations):
        return True
    if legend_shown(fig) and any("PCA" in (t.name or "") and t.showlegend is not False for t in fig.data):
        return True
    return all("PCA" in (t.name or "") or t.name == "chosen k" for t in fig.data) and "PCA" in fig.layout.title.text


def point(k, mse, variant="plain"):
    return FrontierPoint(f"r{k}{variant}", f"r{k}", variant, k, mse, float(CURVE[k]))


ERROR_CHARTS = {
    "frontier, no runs yet (the class view at the start of a class)": lambda: frontier_figure(np.arange(1, 9), CURVE[1:]),
    "frontier with runs": lambda: frontier_figure(np.arange(1, 9), CURVE[1:], [point(2, 0.03), point(4, 0.02)]),
    "test MSE against PCA (Train page)": lambda: training.test_mse_figure(HISTORY, 0.02),
    "loss with PCA (report)": lambda: training.loss_curves_figure(HISTORY, test_history=HISTORY, pca_mse=0.02),
    "PCA's curve (Train page)": lambda: training.pca_curve_figure(CURVE, 4),
    "error against noise (Denoising)": lambda: noise_sweep_figure(
        [0.0, 0.5], {"denoising (k=8)": [0.02, 0.03], "PCA (k=8)": [0.02, 0.06], "noisy input (no model)": [0, 0.2]},
        "gaussian"),
    "error per class (Reconstructions)": lambda: error_per_class_figure(
        ["0", "1"], [("run", np.array([0.01, 0.02])), ("PCA k=8", np.array([0.02, 0.03]))]),
    "sweep over k": lambda: line_with_band([{"variant": "plain", "k": k, "test_mse": 0.9 * CURVE[k], "status": "completed",
                                             "pca_test_mse": float(CURVE[k])} for k in (2, 4, 8)], "k"),
}


@pytest.mark.parametrize("name", list(ERROR_CHARTS))
@pytest.mark.parametrize("projector", [False, True], ids=["screen", "projector"])
def test_every_error_chart_labels_its_pca_line(name, projector):
    fig = theme.apply_theme(ERROR_CHARTS[name](), projector)
    assert pca_labelled(fig), name


@pytest.mark.parametrize("name", list(ERROR_CHARTS))
def test_in_projector_mode_titles_sit_below_the_chart_toolbars(name):
    fig = theme.apply_theme(ERROR_CHARTS[name](), True)
    title = fig.layout.title
    if not title.text:
        return
    assert title.yref == "container" and title.y == 1 and title.yanchor == "top"
    assert title.pad.t >= theme.TOOLBAR_PX
    lines = title.text.count("<br>") + 1
    assert fig.layout.margin.t >= theme.TOOLBAR_PX + lines * theme.LINE_HEIGHT * theme.PROJECTOR["title"]
