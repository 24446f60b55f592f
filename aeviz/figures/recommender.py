"""Figures of the recommender page: pure functions from numbers to plotly figures."""

from __future__ import annotations

import math

import plotly.graph_objects as go

BASELINE_NAMES = {"global_mean": "global mean", "item_mean": "movie mean", "user_mean": "user mean",
                  "user_item_biases": "user + movie biases"}


def rmse_bars(test_rmse: float | None, baselines: dict[str, float]) -> go.Figure:
    """Test RMSE (stars) of each baseline and, when trained, of I-AutoRec; lower is better."""
    names = [BASELINE_NAMES.get(n, n) for n in baselines]
    values = list(baselines.values())
    colours = ["#9e9e9e"] * len(values)
    if test_rmse is not None:
        names.append("I-AutoRec")
        values.append(test_rmse)
        colours.append("#636efa")
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colours, text=[f"{v:.3f}" for v in values],
                           textposition="outside"))
    low = min(values) if values else 0.0
    fig.update_layout(yaxis=dict(title="test RMSE on u1.test (stars, lower is better)",
                                 range=[max(0.0, low - 0.15), max(values, default=1.0) + 0.05]),
                      height=340, margin=dict(l=10, r=10, t=20, b=10))
    return fig


def rmse_history(test_history: list[dict], best_baseline: float | None = None) -> go.Figure:
    """Test RMSE over training (from the trainer's snapshots: test_mse is the masked MSE in stars^2)."""
    fig = go.Figure(go.Scatter(x=[row["step"] for row in test_history],
                               y=[math.sqrt(row["test_mse"]) for row in test_history],
                               mode="lines+markers", name="I-AutoRec", line=dict(color="#636efa")))
    if best_baseline is not None:
        fig.add_hline(y=best_baseline, line=dict(color="#9e9e9e", dash="dash"),
                      annotation_text=f"best baseline {best_baseline:.3f}")
    fig.update_layout(xaxis_title="step", yaxis_title="test RMSE (stars)", height=300,
                      margin=dict(l=10, r=10, t=20, b=10))
    return fig
