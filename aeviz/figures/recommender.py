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
    """Three views of one corner of the ratings matrix (aeviz.autorec.masked_loss_slice): the observed
    ratings (blank: not rated), the squared errors the loss adds up (observed entries only) and the model's
    output, whose entries at the blanks are its predictions."""
    users = [str(u) for u in corner["users"]]
    titles = [t if len(t) <= 28 else t[:27] + "…" for t in corner["titles"]]
    panels = [("Ratings in u1.base (blank: not rated)", corner["ratings"], "Blues", 1, 5, ".0f"),
              ("What the loss counts: (output − rating)², rated only", corner["squared_error"], "Reds", 0,
               max(1.0, float(np.nanmax(corner["squared_error"])) if np.isfinite(corner["squared_error"]).any() else 1.0),
               ".1f"),
              ("The model's output: at the blanks, its predictions", corner["predictions"], "Blues", 1, 5, ".1f")]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[p[0] for p in panels], shared_yaxes=True,
                        horizontal_spacing=0.03)
    for col, (_, z, scale, low, high, fmt) in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(z=z, x=users, y=titles, colorscale=scale, zmin=low, zmax=high, showscale=False,
                                 texttemplate=f"%{{z:{fmt}}}", hoverongaps=False, xgap=1, ygap=1), row=1, col=col)
        fig.update_xaxes(type="category", title_text="user", row=1, col=col)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(title=title or "The masked loss on a corner of the ratings matrix", height=140 + 34 * len(titles),
                      margin=dict(l=10, r=10, t=80, b=40), plot_bgcolor="#f2f2f2")
    return fig
