"""Figures of the recommender page: pure functions from numbers to plotly figures."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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


def masked_loss_figure(corner: dict, title: str = "") -> go.Figure:
    """Three views of one corner of the ratings matrix (aeviz.recommender.autorec.masked_loss_slice), stacked so each
    gets the full width: the observed ratings (blank: not rated), the squared errors the loss adds up
    (observed entries only) and the model's fill-ins, its output at the blanks: the predictions."""
    users = [str(u) for u in corner["users"]]
    titles = [t if len(t) <= 28 else t[:27] + "…" for t in corner["titles"]]
    rated = np.isfinite(corner["ratings"])
    errors = corner["squared_error"]
    panels = [("Ratings in u1.base (blank: not rated)", corner["ratings"], "Blues", 1, 5, ".0f"),
              ("What the loss adds up: (output − rating)² on the rated entries only", errors, "Reds", 0,
               max(1.0, float(np.nanmax(errors))) if rated.any() else 1.0, ".1f"),
              ("The model's fill-ins: its output at the blanks, the predicted ratings",
               np.where(rated, np.nan, corner["predictions"]), "Greens", 1, 5, ".1f")]
    fig = make_subplots(rows=3, cols=1, subplot_titles=[p[0] for p in panels], shared_xaxes=True,
                        vertical_spacing=0.08)
    for row, (_, z, scale, low, high, fmt) in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(z=z, x=users, y=titles, colorscale=scale, zmin=low, zmax=high, showscale=False,
                                 texttemplate=f"%{{z:{fmt}}}", hoverongaps=False, xgap=2, ygap=2), row=row, col=1)
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_xaxes(title_text="user", row=3, col=1)
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    fig.update_layout(title=title or "The masked loss on a corner of the ratings matrix",
                      height=160 + 3 * 26 * len(titles), margin=dict(l=10, r=10, t=80, b=40))
    return fig
