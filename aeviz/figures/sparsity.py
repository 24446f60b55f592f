"""Figures of the sparsity page: activation histograms, dormant units, feature grids, the sweep."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aeviz.analysis.sparsity import ActivationStats

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


def _histogram_panels(values: Mapping[str, np.ndarray], title: str, x: str, y: str, histnorm: str = "",
                      nbins: int = 40, log_y: bool = False, counts: bool = False) -> go.Figure:
    """One histogram panel per run, stacked, each on its own x range: a sigmoid run's activations (0 to 1)
    and a ReLU run's (0 to several) would hide each other in one overlaid plot. With `counts` the values
    are whole numbers: bins centred on them, and no fractional ticks (a unit is active or not)."""
    names = list(values)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=names, vertical_spacing=0.5 / max(len(names), 1) ** 1.5)
    for row, (color, name) in enumerate(zip(COLORS, names), start=1):
        fig.add_trace(go.Histogram(x=values[name], name=name, histnorm=histnorm, nbinsx=nbins, marker_color=color,
                                   showlegend=False), row=row, col=1)
        if log_y:
            fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=row, col=1)
        if counts and len(values[name]):
            _whole_number_bins(fig, values[name], nbins, row)
        finite = np.asarray(values[name])[np.isfinite(values[name])]
        if not histnorm and len(finite) and np.histogram(finite, nbins)[0].max() < 10:
            fig.update_yaxes(dtick=1, tickformat="d", row=row, col=1)  # a few units: no 0.5 or 2.5 units
    fig.update_xaxes(title_text=x, row=len(names), col=1)
    fig.update_yaxes(title_text=y, row=(len(names) + 1) // 2, col=1)
    fig.update_layout(title=title, height=120 + 170 * len(names), margin=dict(l=60, r=20, t=70, b=50))
    return fig


def _whole_number_bins(fig: go.Figure, values: np.ndarray, nbins: int, row: int) -> None:
    """Bins of whole numbers (at most `nbins`), each centred on the numbers it counts; integer ticks."""
    low, high = int(np.min(values)), int(np.max(values))
    width = max(1, math.ceil((high - low + 1) / nbins))
    fig.update_traces(xbins=dict(start=low - 0.5, end=high + 0.5, size=width), row=row, col=1)
    fig.update_xaxes(tickformat="d", **({"dtick": 1} if high - low < 10 else {}), row=row, col=1)


def activation_histogram(stats: Mapping[str, ActivationStats], log_y: bool = True) -> go.Figure:
    """All hidden activations over the test set, one panel per run (share of activations)."""
    return _histogram_panels({name: _subsample(s.activations) for name, s in stats.items()},
                             "Hidden activations over the test set", "activation", "share of activations",
                             histnorm="probability", nbins=80, log_y=log_y)


def unit_mean_histogram(stats: Mapping[str, ActivationStats], rho: float | None = None) -> go.Figure:
    """Each unit's mean activation ρ̂_j, one panel per run; the sparse_kl target ρ marked in each."""
    fig = _histogram_panels({name: s.unit_means for name, s in stats.items()}, "Mean activation ρ̂_j of each unit",
                            "ρ̂_j (mean activation over test images)", "units")
    if rho is not None:
        for row in range(1, len(stats) + 1):
            fig.add_vline(x=rho, line_dash="dash", line_color="black", row=row, col=1)
        fig.update_layout(title=f"Mean activation ρ̂_j of each unit (dashed: target ρ = {rho:g})")
    return fig


def active_units_histogram(stats: Mapping[str, ActivationStats]) -> go.Figure:
    """How many units are active on each test image, one panel per run."""
    return _histogram_panels({name: s.active_per_image for name, s in stats.items()}, "Units active per image",
                             "active units (|a| > threshold)", "share of images", histnorm="probability", counts=True)


def dormant_bars(stats: Mapping[str, ActivationStats]) -> go.Figure:
    """Share of dormant units (never active on a test image) and mean share active per image, per run:
    horizontal bars, so long run labels and the percentages beside the bars have room."""
    names = list(stats)
    shown = [_two_lines(name) for name in names]
    fig = go.Figure([
        go.Bar(y=shown, x=[stats[n].dormant_fraction for n in names], name="dormant units", orientation="h",
               marker_color="#7f7f7f", text=[f"dormant {stats[n].dormant_fraction:.0%}" for n in names],
               textposition="outside", cliponaxis=False),
        go.Bar(y=shown, x=[stats[n].mean_active_fraction for n in names], name="active per image", orientation="h",
               marker_color="#009E73", text=[f"active {stats[n].mean_active_fraction:.0%}" for n in names],
               textposition="outside", cliponaxis=False),
    ])
    fig.update_xaxes(range=[0, 1.6], tickformat=".0%", tickvals=[0, 0.5, 1.0], tickangle=0)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig = _layout(fig, "Dormant units and units active per image", "share of units", "", height=160 + 90 * len(names))
    # Each bar names itself in its text: a legend under the bars ran into the axis title, above them the title.
    fig.update_layout(barmode="group", showlegend=False)
    return fig


def _two_lines(label: str) -> str:
    """A run label "variant · k=… · dataset · id" on two lines, for the narrow side of a chart."""
    parts = label.split(" · ")
    return " · ".join(parts[:2]) + ("<br>" + " · ".join(parts[2:]) if len(parts) > 2 else "")


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
        # Labels alternate above and below their points so neighbours do not print over each other, and are
        # not clipped at the plot's edge.
        fig.add_trace(go.Scatter(x=[r["mean_activation"] for r in group], y=[r["test_mse"] for r in group],
                                 mode="lines+markers+text", name=variant or "runs", marker=dict(size=9, color=color),
                                 text=[f"{label_key}={r[label_key]:g}" for r in group], cliponaxis=False,
                                 textposition=["top center" if i % 2 == 0 else "bottom center"
                                               for i in range(len(group))]))
    fig = _layout(fig, title or "Reconstruction error against sparsity", "mean activation over the test set",
                  "test MSE per pixel", height=380)
    _pad_ranges(fig, [r["mean_activation"] for r in rows], [r["test_mse"] for r in rows])
    fig.update_layout(margin=dict(l=70, r=70, t=60, b=40))
    return fig


def _pad_ranges(fig: go.Figure, xs: Sequence[float], ys: Sequence[float], share: float = 0.15) -> None:
    """Axis ranges with room around the points for their labels (a share of the span on each side)."""
    for values, update in ((xs, fig.update_xaxes), (ys, fig.update_yaxes)):
        values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        if values:
            low, high = min(values), max(values)
            pad = (high - low) * share or abs(high) * share or 0.1
            update(range=[low - pad, high + pad])
