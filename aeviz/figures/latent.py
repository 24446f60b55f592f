"""Figures of the code space: a WebGL scatter coloured by class, the error-versus-k frontier,
principal angles, and decoded grids."""

from __future__ import annotations

import numpy as np

from aeviz.figures.images import mosaic_figure

from aeviz.figures.theme import CLASS_COLORS as PALETTE
from aeviz.figures.theme import log_axis


def code_scatter_figure(embedding: np.ndarray, labels: np.ndarray, class_names: list[str],
                        indices: np.ndarray | None = None, title: str = "", axis_titles=("", "")):
    """A go.Scattergl of 2-D points, one trace per class (click a legend entry to hide a class).

    Each point carries its test-image index in customdata, so a selection can show the image.
    """
    import plotly.graph_objects as go

    embedding = np.asarray(embedding)
    labels = np.asarray(labels)
    indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
    fig = go.Figure()
    for c, name in enumerate(class_names):
        mask = labels == c
        if not mask.any():
            continue
        fig.add_trace(go.Scattergl(
            x=embedding[mask, 0], y=embedding[mask, 1], mode="markers", name=str(name),
            marker=dict(size=4, color=PALETTE[c % len(PALETTE)], opacity=0.75),
            customdata=indices[mask], hovertemplate=f"{name}<br>test image #%{{customdata}}<extra></extra>"))
    fig.update_layout(title=title, height=460, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], legend=dict(itemsizing="constant"),
                      dragmode="lasso")
    return fig


def frontier_figure(ks: np.ndarray, pca_mse: np.ndarray, points=(), highlight: str | None = None,
                    title: str = "Test error against bottleneck size k"):
    """PCA's test MSE for every k as a line; each run (FrontierPoint) as a marker, by variant."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(ks), y=list(pca_mse), mode="lines", name="PCA (exact)",
                             line=dict(color="#444", dash="dash")))
    by_variant: dict[str, list] = {}
    for point in points:
        by_variant.setdefault(point.variant, []).append(point)
    for i, (variant, group) in enumerate(sorted(by_variant.items())):
        fig.add_trace(go.Scatter(
            x=[p.k for p in group], y=[p.test_mse for p in group], mode="markers", name=variant,
            marker=dict(size=[14 if p.run_id == highlight else 9 for p in group], color=PALETTE[i % len(PALETTE)],
                        line=dict(width=[2 if p.run_id == highlight else 0 for p in group], color="black")),
            text=[f"{p.label}<br>PCA at k={p.pca_k}{' (its active units)' if p.pca_k != p.k else ''}: "
                  f"{p.pca_test_mse:.4f}<br>"
                  f"{'beats' if p.beats_pca else 'does not beat'} PCA" for p in group],
            hovertemplate="%{text}<br>test MSE %{y:.4f}<extra></extra>"))
    # the legend names the dashed line "PCA (exact)" even before any run is drawn (plotly hides a legend of one)
    fig.update_layout(title=title, xaxis_title="k (code size)", yaxis_title="test MSE per pixel", height=420,
                      margin=dict(l=10, r=10, t=40, b=10), showlegend=True)
    # The log range covers the runs and PCA up to the largest run's k, down to a decade below the best run:
    # PCA's error near k = input size falls towards 0 (1e-7 at k = 64 on the 8x8 digits, where an
    # overcomplete run has k = 128) and would stretch the axis over decades that squash every run into one
    # corner. The dashed line then leaves the plot through its bottom edge.
    largest = max((p.k for p in points), default=None)
    floor = min((p.test_mse for p in points if p.test_mse > 0), default=0.0) / 10
    shown = [m for k, m in zip(ks, pca_mse) if (largest is None or k <= largest) and m >= floor]
    fig.update_yaxes(**log_axis([*shown, *(p.test_mse for p in points)]))
    return fig


def principal_angles_figure(angles_degrees: np.ndarray, title: str = "Principal angles to PCA's subspace"):
    import plotly.graph_objects as go

    angles = np.asarray(angles_degrees)
    fig = go.Figure(go.Bar(x=[str(i + 1) for i in range(len(angles))], y=angles,
                           hovertemplate="angle %{x}: %{y:.3f}°<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="angle number (smallest first)", yaxis_title="degrees",
                      yaxis_range=[0, max(90.0 if angles.size and angles.max() > 45 else 10.0,
                                          float(angles.max()) * 1.1 if angles.size else 1.0)],
                      height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def decoded_grid_figure(images: np.ndarray, side: int, title: str = ""):
    """side x side decoded images as one mosaic."""
    rows = [images[i * side:(i + 1) * side] for i in range(side)]
    return mosaic_figure(rows, title=title, cell_px=48)


def jacobian_norm_figure(norms_by_run: dict[str, np.ndarray],
                         title: str = "How far the code moves when the image moves: ‖∂h/∂x‖_F per test image"):
    """One box per run of the per-image Frobenius norms of the encoder's Jacobian (log axis)."""
    import plotly.graph_objects as go


    fig = go.Figure()
    for i, (label, norms) in enumerate(norms_by_run.items()):
        fig.add_trace(go.Box(y=norms, name=label, boxpoints="outliers", marker_color=PALETTE[i % len(PALETTE)]))
    values = [float(v) for norms in norms_by_run.values() for v in norms]
    fig.update_layout(title=title, yaxis_title="‖∂h/∂x‖_F", height=380, margin=dict(l=10, r=10, t=50, b=10),
                      showlegend=False)
    fig.update_yaxes(**log_axis(values))
    return fig
