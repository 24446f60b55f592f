"""Figure of aeviz.analysis.copying: each run's reconstruction error on test images and on inputs unlike the data."""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from aeviz.figures.theme import CLASS_COLORS


def input_error_bars(errors_by_run: Mapping[str, Mapping[str, float]], title: str = "") -> go.Figure:
    """Grouped bars: one group per kind of input, one bar per run, MSE per pixel written above each bar.

    errors_by_run: run label -> (input name -> error), as aeviz.analysis.copying.input_errors returns.
    """
    fig = go.Figure()
    for color, (label, errors) in zip(CLASS_COLORS, errors_by_run.items()):
        names = list(errors)
        fig.add_trace(go.Bar(x=names, y=[errors[n] for n in names], name=label, marker_color=color,
                             text=[f"{errors[n]:.3f}" for n in names], textposition="outside", cliponaxis=False))
    top = max((v for errors in errors_by_run.values() for v in errors.values()), default=1.0)
    fig.update_yaxes(range=[0, top * 1.2], title_text="MSE per pixel, reconstruction vs input")
    fig.update_layout(barmode="group", height=380, title=title or "Reconstruction error on inputs unlike the data",
                      margin=dict(l=60, r=20, t=60, b=40), legend=dict(orientation="h", y=-0.15))
    return fig
