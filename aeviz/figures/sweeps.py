"""Figures of a sweep's results, chosen by how many parameters it sweeps.

    sweep_figure(rows, axes)   # rows from aeviz.sweeps.sweep_table, axes = spec.swept_names()

one axis: test MSE against it, a line per variant with a band from the best to the worst seed;
two axes: a heatmap of the mean over seeds (one panel per variant); more: parallel coordinates.
Where k is an axis, PCA's test MSE at each k is drawn too (a dashed line, a "PCA" row of the
heatmap, or one more coordinate), so every point can be judged against PCA.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

PCA_LABEL = "PCA"
DONE = ("completed", "diverged")


def finished_rows(rows: list[dict[str, Any]], metric: str = "test_mse") -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") in DONE and _is_number(r.get(metric))]


def metric_words(metric: str) -> str:
    """'test_mse' -> 'Test MSE': a metric's name as the figures write it."""
    words = " ".join(word.upper() if word in ("mse", "auc", "bce", "kl") else word for word in metric.split("_"))
    return words[:1].upper() + words[1:]


def sweep_figure(rows: list[dict[str, Any]], axes: list[str], metric: str = "test_mse",
                 title: str | None = None) -> go.Figure:
    """The figure for this many swept parameters (variant and seed are not counted as axes)."""
    done = finished_rows(rows, metric)
    if len(axes) == 0:
        fig = variant_bars(done, metric)
    elif len(axes) == 1:
        fig = line_with_band(done, axes[0], metric)
    elif len(axes) == 2:
        fig = heatmap(done, axes[0], axes[1], metric)
    else:
        fig = parallel_coordinates(done, axes, metric)
    # Parallel coordinates print their first and last axes' tick labels outside the plot and their names
    # above it: wider side and top margins keep them from being cut off.
    wide = len(axes) > 2
    fig.update_layout(title=title or f"{metric_words(metric)} over the sweep ({len(done)} points done)",
                      margin=dict(l=90 if wide else 60, r=110 if wide else 20, t=110 if wide else 60, b=50))
    return fig


def aggregate(rows: list[dict[str, Any]], keys: list[str], metric: str) -> dict[tuple, list[float]]:
    """Group a metric's values by the given columns (over seeds, typically)."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        groups[tuple(_hashable(row.get(k)) for k in keys)].append(float(row[metric]))
    return dict(groups)


def pca_by_k(rows: list[dict[str, Any]]) -> dict[int, float]:
    """PCA's test MSE at each k the rows reach (every run records it)."""
    return {int(r["k"]): float(r["pca_test_mse"]) for r in rows
            if _is_number(r.get("k")) and _is_number(r.get("pca_test_mse"))}


# ---------------------------------------------------------------------------- one axis
def line_with_band(rows: list[dict[str, Any]], axis: str, metric: str = "test_mse") -> go.Figure:
    fig = go.Figure()
    numeric = all(_is_number(r.get(axis)) for r in rows)
    for index, (variant, group) in enumerate(_by_variant(rows).items()):
        stats = aggregate(group, [axis], metric)
        xs = _sorted_values([key[0] for key in stats], numeric)
        mean = [sum(stats[(x,)]) / len(stats[(x,)]) for x in xs]
        low = [min(stats[(x,)]) for x in xs]
        high = [max(stats[(x,)]) for x in xs]
        color = _color(index)
        if any(len(stats[(x,)]) > 1 for x in xs):
            fig.add_trace(go.Scatter(x=xs + xs[::-1], y=high + low[::-1], fill="toself", fillcolor=_alpha(color),
                                     line=dict(width=0), hoverinfo="skip", showlegend=False,
                                     name=f"{variant} seeds", legendgroup=variant))
        fig.add_trace(go.Scatter(x=xs, y=mean, mode="lines+markers", name=variant, legendgroup=variant,
                                 line=dict(color=color),
                                 customdata=[[len(stats[(x,)]), lo, hi] for x, lo, hi in zip(xs, low, high)],
                                 hovertemplate=f"{axis}=%{{x}}<br>mean {metric} %{{y:.5f}}<br>"
                                               "%{customdata[0]} seeds, %{customdata[1]:.5f} to %{customdata[2]:.5f}"
                                               "<extra>%{fullData.name}</extra>"))
    if axis == "k":
        pca = pca_by_k(rows)
        ks = sorted(pca)
        fig.add_trace(go.Scatter(x=ks, y=[pca[k] for k in ks], mode="lines+markers", name=PCA_LABEL,
                                 line=dict(color="black", dash="dash")))
    fig.update_xaxes(title=axis, type=_axis_type([r.get(axis) for r in rows], numeric))
    fig.update_yaxes(title=f"{metric_words(metric)} (per pixel)")
    return fig


# ---------------------------------------------------------------------------- two axes
def heatmap(rows: list[dict[str, Any]], x_axis: str, y_axis: str, metric: str = "test_mse") -> go.Figure:
    groups = _by_variant(rows)
    variants = list(groups) or ["(no points yet)"]
    fig = make_subplots(rows=1, cols=len(variants), subplot_titles=variants, horizontal_spacing=0.08)
    all_values = [float(r[metric]) for r in rows]
    zmin, zmax = (min(all_values), max(all_values)) if all_values else (0.0, 1.0)
    pca = pca_by_k(rows)
    for col, variant in enumerate(variants, start=1):
        group = groups.get(variant, [])
        stats = aggregate(group, [x_axis, y_axis], metric)
        xs = _sorted_values({key[0] for key in stats}, all(_is_number(r.get(x_axis)) for r in group))
        ys = _sorted_values({key[1] for key in stats}, all(_is_number(r.get(y_axis)) for r in group))
        z = [[_mean(stats.get((x, y))) for x in xs] for y in ys]
        counts = [[len(stats.get((x, y), [])) for x in xs] for y in ys]
        y_labels = [_label(y) for y in ys]
        x_labels = [_label(x) for x in xs]
        # PCA at each k: one more row (k across) or column (k down), on the same colour scale.
        if x_axis == "k" and pca:
            z.append([pca.get(int(x)) for x in xs])
            counts.append([0] * len(xs))
            y_labels.append(PCA_LABEL)
        elif y_axis == "k" and pca:
            for row, y in zip(z, ys):
                row.append(pca.get(int(y)))
            for row in counts:
                row.append(0)
            x_labels.append(PCA_LABEL)
        text = [[("" if v is None else f"{v:.4f}") for v in row] for row in z]
        fig.add_trace(go.Heatmap(x=x_labels, y=y_labels, z=z, text=text, texttemplate="%{text}",
                                 customdata=counts, zmin=zmin, zmax=zmax, colorscale="Viridis",
                                 colorbar=dict(title=metric), showscale=(col == 1),
                                 hovertemplate=f"{x_axis}=%{{x}}<br>{y_axis}=%{{y}}<br>mean {metric} %{{z:.5f}}"
                                               "<br>%{customdata} seeds<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title=x_axis, type="category", row=1, col=col)
        fig.update_yaxes(title=y_axis if col == 1 else None, type="category", row=1, col=col)
    return fig


# ---------------------------------------------------------------------------- more axes
def parallel_coordinates(rows: list[dict[str, Any]], axes: list[str], metric: str = "test_mse") -> go.Figure:
    dimensions = []
    columns = (["variant"] if len(_by_variant(rows)) > 1 else []) + list(axes)
    for name in columns:
        values = [r.get(name) for r in rows]
        if all(_is_number(v) for v in values):
            numbers = [float(v) for v in values]
            log = _axis_type(values, True) == "log"
            dimensions.append(dict(label=f"log10 {name}" if log else name,
                                   values=[math.log10(v) for v in numbers] if log else numbers))
        else:
            labels = _sorted_values({_label(v) for v in values}, False)
            index = {label: i for i, label in enumerate(labels)}
            dimensions.append(dict(label=name, values=[index[_label(v)] for v in values],
                                   tickvals=list(range(len(labels))), ticktext=labels))
    if "k" in axes:
        dimensions.append(dict(label=f"PCA {metric}", values=[float(r.get("pca_test_mse") or float("nan")) for r in rows]))
    scores = [float(r[metric]) for r in rows]
    dimensions.append(dict(label=metric, values=scores))
    line = dict(color=scores, colorscale="Viridis", showscale=True, colorbar=dict(title=metric)) if scores else {}
    return go.Figure(go.Parcoords(dimensions=dimensions, line=line))


# ---------------------------------------------------------------------------- no axis
def variant_bars(rows: list[dict[str, Any]], metric: str = "test_mse") -> go.Figure:
    stats = aggregate(rows, ["variant"], metric)
    names = [key[0] for key in stats]
    means = [_mean(stats[(n,)]) for n in names]
    spread = [(max(stats[(n,)]) - min(stats[(n,)])) / 2 for n in names]
    fig = go.Figure(go.Bar(x=names, y=means, error_y=dict(type="data", array=spread), name=metric))
    fig.update_yaxes(title=f"{metric_words(metric)} (per pixel)")
    return fig


# ---------------------------------------------------------------------------- helpers
def _by_variant(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get("variant")), []).append(row)
    return groups


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _sorted_values(values, numeric: bool) -> list:
    values = list(values)
    return sorted(values, key=float) if numeric else sorted(values, key=str)


def _axis_type(values: list[Any], numeric: bool) -> str:
    """A log axis for positive numbers spanning more than a factor of 20 (penalty weights, k)."""
    if not numeric:
        return "category"
    numbers = [float(v) for v in values if _is_number(v)]
    if numbers and min(numbers) > 0 and max(numbers) / min(numbers) > 20:
        return "log"
    return "linear"


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _alpha(hex_color: str, alpha: float = 0.2) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
