"""Figures of the denoising page: clean / noisy / reconstructed grids, noise sweeps, inpainting."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from aeviz.figures.images import image_heatmap
from aeviz.figures.sparsity import COLORS, tile_images


def image_rows(rows: Mapping[str, np.ndarray], title: str = "", pad: int = 1) -> go.Figure:
    """Rows of images in [0, 1] (name -> (N, H, W)), one row per name, names on the left."""
    names = list(rows)
    n, h, w = next(iter(rows.values())).shape
    stacked = np.concatenate([np.asarray(rows[name])[:n] for name in names])
    tiled = tile_images(np.clip(stacked, 0.0, 1.0), columns=n, pad=pad, normalize="none")
    fig = go.Figure(image_heatmap(tiled[::-1], hoverongaps=False))
    centers = [len(tiled) - 1 - (i * (h + pad) + (h - 1) / 2) for i in range(len(names))]
    fig.update_yaxes(tickvals=centers, ticktext=names, scaleanchor="x", showgrid=False, zeroline=False, showline=False)
    fig.update_xaxes(visible=False)
    fig.update_layout(title=title, height=max(180, 70 * len(names) * max(1, 10 // n) + 60),
                      margin=dict(l=110, r=10, t=40 if title else 10, b=10), plot_bgcolor="white")
    return fig


def noise_sweep_figure(levels: Sequence[float], curves: Mapping[str, Sequence[float]], kind: str,
                       train_level: float | None = None) -> go.Figure:
    """Reconstruction error against the clean image as the test noise grows, one line per method."""
    fig = go.Figure()
    for color, (name, errors) in zip(COLORS + ("#7f7f7f",), curves.items()):
        dash = "dot" if name.startswith("noisy input") else "solid"
        fig.add_trace(go.Scatter(x=list(levels), y=list(errors), mode="lines+markers", name=name,
                                 line=dict(color=color, dash=dash)))
    if train_level is not None:
        fig.add_vline(x=train_level, line_dash="dash", annotation_text="trained at")
    fig.update_layout(title=f"Error against the clean image under {kind} noise", xaxis_title="test noise level",
                      yaxis_title="MSE per pixel vs clean", height=360, margin=dict(l=50, r=20, t=50, b=40),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def train_test_heatmap(train_levels: Sequence[float], test_levels: Sequence[float], errors: np.ndarray,
                       kind: str) -> go.Figure:
    """errors[i, j]: MSE vs clean of the model trained at train_levels[i], tested at test_levels[j]."""
    errors = np.asarray(errors, dtype=np.float64)
    text = [[f"{v:.4f}" if np.isfinite(v) else "" for v in row] for row in errors]
    fig = go.Figure(go.Heatmap(z=errors, x=[f"{v:g}" for v in test_levels], y=[f"{v:g}" for v in train_levels],
                               colorscale="Viridis", text=text, texttemplate="%{text}", colorbar=dict(title="MSE")))
    # Outline each test level's best training level (often the diagonal): a frame around the cell leaves its
    # number readable, where a marker on top of it would cover it.
    if np.isfinite(errors).any(axis=0).all():
        best = np.nanargmin(np.where(np.isfinite(errors), errors, np.nan), axis=0)
        for column, row in enumerate(best):
            fig.add_shape(type="rect", x0=column - 0.5, x1=column + 0.5, y0=row - 0.5, y1=row + 0.5,
                          line=dict(color="#ffffff", width=4), layer="above")
            fig.add_shape(type="rect", x0=column - 0.47, x1=column + 0.47, y0=row - 0.47, y1=row + 0.47,
                          line=dict(color="#000000", width=2), layer="above")
        # The frame's legend entry (a shape has none).
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="best training level for this test level",
                                 marker=dict(symbol="square-open", size=14, color="#000000", line=dict(width=2)),
                                 showlegend=True))
    fig.update_xaxes(type="category", title_text=f"test {kind} level")
    fig.update_yaxes(type="category", title_text=f"training {kind} level")
    fig.update_layout(title="Trained at one noise level, tested at another", height=380,
                      margin=dict(l=60, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def inpainting_figure(clean: np.ndarray, masked: np.ndarray, recon: np.ndarray, mask: np.ndarray,
                      count: int = 8, pad: int = 1) -> go.Figure:
    """Clean, masked and reconstructed rows of `count` images, the masked square outlined in red."""
    fig = image_rows({"clean": clean[:count], "masked": masked[:count], "reconstructed": recon[:count]},
                     title="Inpainting: the square is set to the fill value, then reconstructed", pad=pad)
    rows, cols = np.nonzero(mask)
    if len(rows):
        n, h, w = clean[:count].shape
        total_height = 3 * (h + pad) - pad
        # In the tiled array the masked row is the second; the figure draws it flipped (row 0 at the top).
        r0, r1 = (h + pad) + rows.min(), (h + pad) + rows.max()
        for i in range(n):
            x0 = i * (w + pad) + cols.min() - 0.5
            fig.add_shape(type="rect", x0=x0, x1=x0 + cols.max() - cols.min() + 1,
                          y0=total_height - 1 - r1 - 0.5, y1=total_height - 1 - r0 + 0.5,
                          line=dict(color="red", width=1.5))
    return fig
