"""Figures of the applications page: pure functions from arrays to plotly figures."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aeviz.figures.images import image_heatmap
from aeviz.figures.theme import CLASS_COLORS, PCA_COLOR

# One colour and one name per method on every chart of the page (they differed between charts): the
# autoencoder blue, PCA the vermilion it has on every page, pixels grey. "codes" and "pca" name feature
# spaces (retrieval, clustering, the probe); "autoencoder" and "pca" name the anomaly detectors, where PCA
# is scored by its reconstruction error, not by its codes.
AUTOENCODER_COLOUR, PIXELS_COLOUR = CLASS_COLORS[0], "#7f7f7f"
SPACE_COLOURS = {"codes": AUTOENCODER_COLOUR, "pca": PCA_COLOR, "pixels": PIXELS_COLOUR,
                 "autoencoder": AUTOENCODER_COLOUR}
SPACE_NAMES = {"codes": "autoencoder codes", "pca": "PCA codes (same k)", "pixels": "raw pixels",
               "autoencoder": "autoencoder"}
METHOD_NAMES = {"autoencoder": "autoencoder", "pca": "PCA (same k)"}  # the anomaly detectors
# Normal and held-out images in the score histograms: Okabe & Ito's sky blue and orange (red against green
# is the pair most colour-vision deficiencies cannot tell apart).
NORMAL_COLOUR, HELD_OUT_COLOUR = "#56B4E9", "#E69F00"


def image_row(images: np.ndarray, captions: Sequence[str] = (), title: str = "", columns: int | None = None,
              highlight: Sequence[bool] | None = None) -> go.Figure:
    """A grid of grey images (N, 1, H, W) or (N, H, W) in [0, 1], with a caption above each.
    `highlight`: images whose caption is drawn in red (e.g. a retrieved image of another class)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[:, 0]
    n = len(images)
    columns = columns or max(n, 1)
    rows = max(1, -(-n // columns))
    captions = list(captions) + [""] * (n - len(captions))
    if highlight is not None:
        captions = [f"<span style='color:#d62728'>{c}</span>" if h else c for c, h in zip(captions, highlight)]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=captions or None,
                        horizontal_spacing=0.01, vertical_spacing=0.08 if rows > 1 else 0.02)
    for index, image in enumerate(images):
        fig.add_trace(image_heatmap(image[::-1], hoverinfo="skip"), row=index // columns + 1, col=index % columns + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, constrain="domain")
    for cell in range(rows * columns):  # square pixels: a stretched 8x8 digit read as another shape
        axis = "" if cell == 0 else str(cell + 1)
        fig.layout[f"yaxis{axis}"].scaleanchor = f"x{axis}"
    for annotation in fig.layout.annotations:
        annotation.font.size = 10
    size = 90 if columns <= 12 else 60
    fig.update_layout(title=title or None, height=rows * size + (60 if title else 30),
                      margin=dict(l=5, r=5, t=50 if title else 25, b=5))
    return fig


def score_histograms(scores: dict[str, np.ndarray], is_anomaly: np.ndarray, bins: int = 60) -> go.Figure:
    """Per method, the distribution of anomaly scores for normal vs anomalous test images."""
    fig = make_subplots(rows=1, cols=len(scores), subplot_titles=[METHOD_NAMES.get(m, m) for m in scores])
    for col, (method, values) in enumerate(scores.items(), 1):
        for mask, name, colour in ((~is_anomaly, "normal classes", NORMAL_COLOUR),
                                   (is_anomaly, "held-out classes", HELD_OUT_COLOUR)):
            fig.add_trace(go.Histogram(x=values[mask], nbinsx=bins, name=name, marker_color=colour, opacity=0.6,
                                       histnorm="probability density", legendgroup=name, showlegend=col == 1),
                          row=1, col=col)
        fig.update_xaxes(title_text="reconstruction error (MSE per pixel)", row=1, col=col)
    fig.update_layout(barmode="overlay", height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], aucs: dict[str, float]) -> go.Figure:
    """ROC curves {method: (fpr, tpr)} with their AUC in the legend, and the chance diagonal."""
    fig = go.Figure()
    for method, (fpr, tpr) in curves.items():
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"{METHOD_NAMES.get(method, method)} "
                                 f"(AUC {aucs[method]:.3f})", line=dict(color=SPACE_COLOURS.get(method))))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)",
                             line=dict(color="#bbbbbb", dash="dash")))
    fig.update_layout(xaxis_title="false positive rate (normal images flagged)",
                      yaxis_title="true positive rate (anomalies caught)", height=380,
                      xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.02]), margin=dict(l=10, r=10, t=30, b=10))
    return fig


def metric_bars(values: dict[str, dict[str, float]], title: str = "",
                errors: dict[str, dict[str, float]] | None = None) -> go.Figure:
    """Grouped bars: {metric: {space: value}} (e.g. NMI and ARI of codes, PCA codes and pixels), with
    optional error bars {metric: {space: spread}}."""
    fig = go.Figure()
    spaces = list(next(iter(values.values())).keys()) if values else []
    for space in spaces:
        error_y = dict(type="data", array=[errors[m][space] for m in values]) if errors else None
        fig.add_trace(go.Bar(x=list(values), y=[values[m][space] for m in values], name=SPACE_NAMES.get(space, space),
                             marker_color=SPACE_COLOURS.get(space), error_y=error_y,
                             text=[f"{values[m][space]:.3f}" for m in values], textposition="outside"))
    fig.update_layout(barmode="group", title=title or None, height=340, yaxis=dict(range=[0, 1.1]),
                      margin=dict(l=10, r=10, t=40 if title else 20, b=10))
    return fig


def held_out_auc_bars(per_class: dict[str, dict[str, float]]) -> go.Figure:
    """AUC of the autoencoder and of PCA with each class held out in turn: {class name: {"auc", "pca_auc"}}."""
    fig = go.Figure()
    classes = list(per_class)
    for key, name, colour in (("auc", METHOD_NAMES["autoencoder"], SPACE_COLOURS["autoencoder"]),
                              ("pca_auc", METHOD_NAMES["pca"], SPACE_COLOURS["pca"])):
        values = [per_class[c][key] for c in classes]
        fig.add_trace(go.Bar(x=classes, y=values, name=name, marker_color=colour,
                             text=[f"{v:.2f}" for v in values], textposition="outside"))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#7f7f7f", annotation_text="chance")
    fig.update_layout(barmode="group", height=360, yaxis=dict(title="AUC with this class held out", range=[0, 1.1]),
                      margin=dict(l=10, r=10, t=20, b=10))
    return fig


def probe_curve_figure(curve: dict[str, dict[int, float]]) -> go.Figure:
    """Linear-probe test accuracy against the number of labelled training images, per feature space."""
    fig = go.Figure()
    for space, points in curve.items():
        sizes = sorted(points)
        fig.add_trace(go.Scatter(x=sizes, y=[points[s] for s in sizes], mode="lines+markers",
                                 name=SPACE_NAMES.get(space, space), line=dict(color=SPACE_COLOURS.get(space))))
    fig.update_layout(xaxis=dict(title="labelled training images", type="log"), yaxis_title="test accuracy",
                      height=360, margin=dict(l=10, r=10, t=20, b=10))
    return fig
