"""Figures of the sparsity page: activation histograms, dormant units, feature grids, the sweep."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from aeviz.sparsity import ActivationStats

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
MAX_HISTOGRAM_VALUES = 200_000


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 320) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height, barmode="overlay",
                      margin=dict(l=50, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def _subsample(values: np.ndarray) -> np.ndarray:
    values = values.ravel()
    if len(values) <= MAX_HISTOGRAM_VALUES:
        return values
    return values[np.random.default_rng(0).choice(len(values), MAX_HISTOGRAM_VALUES, replace=False)]


def activation_histogram(stats: Mapping[str, ActivationStats], log_y: bool = True) -> go.Figure:
    """All hidden activations over the test set, one overlaid histogram per run (share of activations)."""
    fig = go.Figure()
    for color, (name, s) in zip(COLORS, stats.items()):
        fig.add_trace(go.Histogram(x=_subsample(s.activations), name=name, histnorm="probability", nbinsx=80,
                                   opacity=0.6, marker_color=color))
    if log_y:
        fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    return _layout(fig, "Hidden activations over the test set", "activation", "share of activations")


def unit_mean_histogram(stats: Mapping[str, ActivationStats], rho: float | None = None) -> go.Figure:
    """Each unit's mean activation ρ̂_j, one histogram per run; the sparse_kl target ρ marked."""
    fig = go.Figure()
    for color, (name, s) in zip(COLORS, stats.items()):
        fig.add_trace(go.Histogram(x=s.unit_means, name=name, nbinsx=40, opacity=0.6, marker_color=color))
    if rho is not None:
        fig.add_vline(x=rho, line_dash="dash", line_color="black", annotation_text=f"target ρ = {rho:g}")
    return _layout(fig, "Mean activation ρ̂_j of each unit", "ρ̂_j (mean activation over test images)", "units")


def active_units_histogram(stats: Mapping[str, ActivationStats]) -> go.Figure:
    """How many units are active on each test image, one histogram per run."""
    fig = go.Figure()
    for color, (name, s) in zip(COLORS, stats.items()):
        fig.add_trace(go.Histogram(x=s.active_per_image, name=name, histnorm="probability", opacity=0.6,
                                   marker_color=color))
    return _layout(fig, "Units active per image", "active units (|a| > threshold)", "share of images")


def dormant_bars(stats: Mapping[str, ActivationStats]) -> go.Figure:
    """Share of dormant units (never active on a test image) and mean share active per image, per run."""
    names = list(stats)
    fig = go.Figure([
        go.Bar(x=names, y=[stats[n].dormant_fraction for n in names], name="dormant units", marker_color="#7f7f7f",
               text=[f"{stats[n].dormant_fraction:.0%}" for n in names], textposition="outside"),
        go.Bar(x=names, y=[stats[n].mean_active_fraction for n in names], name="active per image",
               marker_color="#2ca02c", text=[f"{stats[n].mean_active_fraction:.0%}" for n in names],
               textposition="outside"),
    ])
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    fig.update_layout(barmode="group")
    return _layout(fig, "Dormant units and units active per image", "run", "share of units")


def tile_images(images: np.ndarray, columns: int | None = None, pad: int = 1, normalize: str = "each") -> np.ndarray:
    """(N, H, W) images tiled into one 2-D array with NaN gaps between them.

    normalize: "each" scales every image to [-1, 1] by its own max |value| (filters: the sign
    matters, the scale differs per unit); "none" keeps values as they are.
    """
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / columns))
    out = np.full((rows * (h + pad) - pad, columns * (w + pad) - pad), np.nan)
    for i, image in enumerate(images):
        if normalize == "each":
            scale = np.abs(image).max()
            image = image / scale if scale > 0 else image
        r, c = divmod(i, columns)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return out


def feature_grid(images: np.ndarray, title: str, columns: int | None = None, height: int | None = None) -> go.Figure:
    """Filters as a grid of images (each scaled by its own max |weight|; grey 0, white +, black −)."""
    tiled = tile_images(images, columns)
    fig = go.Figure(go.Heatmap(z=tiled[::-1], zmin=-1, zmax=1, colorscale="Greys", reversescale=True,
                               showscale=False, hoverongaps=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title=title, height=height or 360, margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="white")
    return fig


def sparsity_sweep_figure(rows: Sequence[Mapping], label_key: str, title: str = "") -> go.Figure:
    """Test MSE against mean activation, one point per sweep point, labelled with the swept value.

    rows: dicts with "mean_activation", "test_mse", label_key and optionally "variant".
    """
    fig = go.Figure()
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(str(row.get("variant", "")), []).append(row)
    for color, (variant, group) in zip(COLORS, groups.items()):
        group = sorted(group, key=lambda r: r["mean_activation"])
        fig.add_trace(go.Scatter(x=[r["mean_activation"] for r in group], y=[r["test_mse"] for r in group],
                                 mode="lines+markers+text", name=variant or "runs", marker=dict(size=9, color=color),
                                 text=[f"{label_key}={r[label_key]:g}" for r in group], textposition="top center"))
    return _layout(fig, title or "Reconstruction error against sparsity", "mean activation over the test set",
                   "test MSE per pixel")
