"""Figures of a run while it trains: loss curves per term, test error against PCA, progress text."""

from __future__ import annotations

import numpy as np

from aeviz.figures.images import mosaic_figure
from aeviz.figures.theme import PCA_COLOR, log_axis, reference_line

TERM_ORDER_FIRST = ("loss", "reconstruction")


def loss_terms(history: list[dict[str, float]]) -> list[str]:
    """The loss terms in a history (the total first, then 'reconstruction', then the rest)."""
    skip = {"step", "epoch", "elapsed"}
    names: list[str] = []
    for row in history:
        for name in row:
            if name not in skip and name not in names:
                names.append(name)
    first = [n for n in TERM_ORDER_FIRST if n in names]
    return first + sorted(n for n in names if n not in first)


def loss_curves_figure(history: list[dict[str, float]], x: str = "epoch", log_y: bool = True,
                       title: str = "Training loss", test_history: list[dict[str, float]] = (),
                       pca_mse: float | None = None):
    """One line per loss term (the total 'loss' included when there are several terms); with
    `test_history`, the test MSE per snapshot too, and with `pca_mse`, PCA's test MSE as a dotted line
    (the run report draws all three on one figure, the Train page the terms only)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    terms = loss_terms(history)
    if len(terms) == 2 and "loss" in terms and "reconstruction" in terms:
        terms = ["reconstruction"]  # the total equals the only term
    for term in terms:
        rows = [r for r in history if term in r and np.isfinite(r[term])]
        fig.add_trace(go.Scatter(x=[r.get(x, 0.0) for r in rows], y=[r[term] for r in rows], mode="lines",
                                 name="total" if term == "loss" else term))
    if test_history:
        fig.add_trace(go.Scatter(x=[r.get(x, 0.0) for r in test_history], y=[r["test_mse"] for r in test_history],
                                 mode="lines+markers", name="test MSE"))
    if pca_mse is not None:
        reference_line(fig, pca_mse, "PCA test MSE at the same k", log_y, line_dash="dot", line_color=PCA_COLOR)
    fig.update_layout(title=title, xaxis_title={"epoch": "epoch", "step": "step",
                                                "elapsed": "seconds"}.get(x, x),
                      yaxis_title="loss (per pixel)", height=320, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25))
    if log_y:  # the first tenth of the run left out of the range: the untrained model's loss squashes the rest
        shown = [v for trace in fig.data for v in trace.y[len(trace.y) // 10:]]
        fig.update_yaxes(**log_axis([*shown, *([pca_mse] if pca_mse is not None else [])]))
    return fig


def test_mse_figure(test_history: list[dict[str, float]], pca_mse: float | None, x: str = "elapsed",
                    title: str = "Test MSE against PCA at the same k"):
    """The test MSE over time, with PCA's at the same k as a dashed line: the bar to beat."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs = [r.get(x, 0.0) for r in test_history]
    fig.add_trace(go.Scatter(x=xs, y=[r["test_mse"] for r in test_history], mode="lines+markers",
                             name="autoencoder"))
    if pca_mse is not None and test_history:
        reference_line(fig, pca_mse, f"PCA {pca_mse:.4f}", True, line_dash="dash", line_color=PCA_COLOR)
    fig.update_layout(title=title, xaxis_title="seconds" if x == "elapsed" else x, yaxis_title="MSE per pixel",
                      height=320, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    # The range follows the run after its first snapshot (the untrained model) and PCA's line, so the gap
    # between them shows instead of an axis running to 1.
    shown = [r["test_mse"] for r in test_history[1:]] or [r["test_mse"] for r in test_history]
    fig.update_yaxes(**log_axis([*shown, *([pca_mse] if pca_mse is not None else [])]))
    return fig


def pca_curve_figure(curve: np.ndarray, k: int, title: str = "PCA's test error at each k"):
    """PCA's test MSE per pixel for k = 1..D (`curve[k]`, as aeviz.analysis.pca.pca_test_mse_curve gives it), with the
    chosen k marked: what an autoencoder with this k has to beat, and how fast more k helps."""
    import plotly.graph_objects as go

    ks = np.arange(1, len(curve))
    errors = np.asarray(curve[1:], dtype=float)
    k = int(min(max(k, 1), len(curve) - 1))
    fig = go.Figure(go.Scatter(x=ks, y=errors, mode="lines", line=dict(color=PCA_COLOR), name="PCA",
                               hovertemplate="k = %{x}: test MSE %{y:.4f}<extra></extra>"))
    left_half = k <= len(curve) / 2  # the label goes on the side with room; the falling line stays below it
    fig.add_trace(go.Scatter(x=[k], y=[curve[k]], mode="markers+text", marker=dict(size=11, color=PCA_COLOR),
                             text=[f"  k = {k}  "], textposition="middle right" if left_half else "middle left",
                             cliponaxis=False, hoverinfo="skip", name="chosen k"))
    fig.update_layout(title=title, xaxis_title="k (code size)", yaxis_title="MSE per pixel", height=260,
                      margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    fig.update_yaxes(**log_axis(errors[errors > 0]))
    return fig


def snapshot_figure(originals: np.ndarray, reconstructions: np.ndarray, title: str = ""):
    """Test images (top row) and the model's current reconstructions (bottom row)."""
    return mosaic_figure([originals, reconstructions], ["test images", "reconstructions"], title=title,
                         cell_px=72)


def format_duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "?"
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else (f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


def progress_text(progress) -> str:
    """'epoch 2.4 · 31% · ETA 12s · 41,000 samples/s · loss 0.0213' from a Progress event."""
    if progress is None:
        return "starting…"
    return (f"epoch {progress.epoch:.1f} · {100 * progress.fraction:.0f}% · ETA {format_duration(progress.eta_seconds)}"
            f" · {progress.samples_per_second:,.0f} samples/s · loss {progress.loss:.4g}")
