"""Figures comparing reconstructions: a grid (originals, each run, PCA) with per-image errors, and
the mean error per class."""

from __future__ import annotations

import numpy as np

from aeviz.figures.images import mosaic_figure


def reconstruction_grid_figure(originals: np.ndarray, rows: list[tuple[str, np.ndarray, np.ndarray]],
                               title: str = ""):
    """`rows`: (label, reconstructions (n, C, H, W), per-image MSE (n,)), drawn under the originals."""
    images = [originals] + [recons for _, recons, _ in rows]
    labels = ["originals"] + [label for label, _, _ in rows]
    captions = [[""] * len(originals)] + [[f"{e:.4f}" for e in errors] for _, _, errors in rows]
    return mosaic_figure(images, labels, captions=captions, title=title)


def error_per_class_figure(class_names: list[str], series: list[tuple[str, np.ndarray]],
                           title: str = "Mean reconstruction error per class"):
    """Grouped bars: one series (run or PCA) per colour, one group per class."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for label, values in series:
        fig.add_trace(go.Bar(x=list(class_names), y=[float(v) for v in values], name=label))
    fig.update_layout(barmode="group", title=title, yaxis_title="MSE per pixel", height=380,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(type="category")  # every class named, even digits' "0".."9" (a numeric axis ticked 0, 2, 4 ...)
    return fig


def best_worst_indices(errors: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the `count` lowest and highest errors (best first, worst first)."""
    order = np.argsort(np.asarray(errors), kind="stable")
    return order[:count], order[::-1][:count]
