"""Figures of the information page: surprise, entropy, cross-entropy and KL, in nats."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aeviz.analysis import information
from aeviz import facts

GRID = np.linspace(0.0005, 0.9995, 400)
P_COLOR, Q_COLOR, KL_COLOR = "#1f77b4", "#ff7f0e", "#d62728"


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 320) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height, margin=dict(l=50, r=20, t=50, b=40),
                      showlegend=False)
    return fig


def surprise_curve(p: float) -> go.Figure:
    """-log p against p, with the chosen p marked."""
    fig = go.Figure(go.Scatter(x=GRID, y=information.surprise(GRID), mode="lines", line=dict(color=P_COLOR)))
    value = float(information.surprise(p))
    fig.add_trace(go.Scatter(x=[p], y=[value], mode="markers+text", marker=dict(size=11, color=KL_COLOR),
                             text=[f"  −log {p:.3g} = {value:.3g} nats"], textposition="middle right"))
    fig.update_yaxes(range=[0, 7.5])
    return _layout(fig, "Surprise of an outcome with probability p", "p", "surprise −log p (nats)")


def bernoulli_entropy_curve(p: float) -> go.Figure:
    """H(Bernoulli(p)) for every p, the chosen p marked; maximum log 2 at p = 1/2."""
    ps = np.concatenate([[0.0], GRID, [1.0]])
    fig = go.Figure(go.Scatter(x=ps, y=information.bernoulli_entropy(ps), mode="lines", line=dict(color=P_COLOR)))
    value = float(information.bernoulli_entropy(p))
    fig.add_trace(go.Scatter(x=[p], y=[value], mode="markers+text", marker=dict(size=11, color=KL_COLOR),
                             text=[f"H = {value:.3f} nats"], textposition="top center"))
    fig.add_hline(y=np.log(2), line_dash="dot", annotation_text="log 2", annotation_position="bottom right")
    fig.update_yaxes(range=[0, 0.8])
    return _layout(fig, "Entropy of a coin with P(1) = p", "p", "H (nats)")


def categorical_entropy_bars(p: Sequence[float], labels: Sequence[str] | None = None) -> go.Figure:
    """Bars of P with each outcome's surprise; the title gives H(P) = sum p (−log p)."""
    p = np.asarray(p, dtype=np.float64)
    labels = list(labels) if labels is not None else [str(i) for i in range(len(p))]
    s = information.surprise(p)
    text = [f"−log p = {v:.2f}" if np.isfinite(v) else "never" for v in s]
    fig = go.Figure(go.Bar(x=labels, y=p, text=text, textposition="outside", marker_color=P_COLOR))
    h = float(information.entropy(p))
    fig.update_yaxes(range=[0, 1.15])
    fig.update_xaxes(type="category")  # outcomes "0", "1", … are names, not numbers to put ticks between
    return _layout(fig, f"H(P) = {h:.3f} nats (max log {len(p)} = {np.log(len(p)):.3f})", "outcome", "p")


def cross_entropy_figure(p: Sequence[float], q: Sequence[float], labels: Sequence[str] | None = None) -> go.Figure:
    """P and Q as bars (left); H(P) and KL(P‖Q) stacked next to H(P, Q) (right), to show they add up."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    labels = list(labels) if labels is not None else [str(i) for i in range(len(p))]
    h, ce = float(information.entropy(p)), float(information.cross_entropy(p, q))
    kl = float(information.kl_divergence(p, q))
    # Room between the two for the right one's "nats" and its ticks (at projector size they ran into the bars)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.15,
                        subplot_titles=("P (truth) and Q (model's belief)", "H(P, Q) = H(P) + KL(P‖Q)"))
    # The bars carry the probabilities used (the sliders' weights divided by their sum), written on them.
    fig.add_trace(go.Bar(x=labels, y=p, name="P", marker_color=P_COLOR, text=[f"{v:.3f}" for v in p],
                         textposition="outside", cliponaxis=False), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=q, name="Q", marker_color=Q_COLOR, text=[f"{v:.3f}" for v in q],
                         textposition="outside", cliponaxis=False), row=1, col=1)
    shown_ce = ce if np.isfinite(ce) else h + 10.0
    shown_kl = kl if np.isfinite(kl) else 10.0
    fig.add_trace(go.Bar(x=["H(P) + KL"], y=[h], name="H(P)", marker_color=P_COLOR, text=[f"H(P) {h:.3f}"],
                         textposition="inside", showlegend=False), row=1, col=2)
    fig.add_trace(go.Bar(x=["H(P) + KL"], y=[shown_kl], name="KL(P‖Q)", marker_color=KL_COLOR,
                         text=[f"KL {kl:.3f}" if np.isfinite(kl) else "KL = ∞"], textposition="inside"), row=1, col=2)
    fig.add_trace(go.Bar(x=["H(P, Q)"], y=[shown_ce], name="H(P, Q)", marker_color=Q_COLOR,
                         text=[f"{ce:.3f}" if np.isfinite(ce) else "∞"], textposition="inside", showlegend=False),
                  row=1, col=2)
    fig.update_layout(barmode="stack", height=340, margin=dict(l=50, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(title_text="probability", range=[0, min(1.0, float(max(p.max(), q.max()))) * 1.18 + 0.02],
                     row=1, col=1)
    fig.update_yaxes(title_text="nats", row=1, col=2)
    # Grouped bars on the left, stacked on the right: the left pair goes side by side by offset.
    fig.data[0].update(offsetgroup="P")
    fig.data[1].update(offsetgroup="Q")
    return fig


def bernoulli_kl_curve(rho: float, rho_hat: float | None = None) -> go.Figure:
    """KL(rho ‖ rho_hat) against rho_hat: the sparse autoencoder's penalty for one unit."""
    ys = information.bernoulli_kl(rho, GRID)
    fig = go.Figure(go.Scatter(x=GRID, y=ys, mode="lines", line=dict(color=KL_COLOR)))
    fig.add_vline(x=rho, line_dash="dot", annotation_text=f"ρ = {rho:g}")
    title = f"KL(ρ‖ρ̂) for ρ = {rho:g}"  # short: it must fit half a projector's width with its value
    if rho_hat is not None:
        value = float(information.bernoulli_kl(rho, rho_hat))
        top = min(float(np.max(ys[np.isfinite(ys)])), 4.0) * 1.05 + 0.05
        # An infinite penalty (rho_hat at 0 or 1) is drawn at the top edge. The value goes in the title, not
        # next to the marker: a label beside a point on this curve crosses the curve somewhere.
        shown = value if np.isfinite(value) else top * 0.97
        fig.add_trace(go.Scatter(x=[rho_hat], y=[shown], mode="markers", marker=dict(size=12, color=P_COLOR)))
        title += f": at ρ̂ = {rho_hat:g}, KL = " + (f"{value:.3f} nats" if np.isfinite(value) else "∞")
    fig.update_yaxes(range=[0, min(float(np.max(ys[np.isfinite(ys)])), 4.0) * 1.05 + 0.05])
    return _layout(fig, title, "mean activation ρ̂ of a unit", "KL (nats)")


RARE, OFTEN = 0.01, 0.99  # a unit on for 1% of the images, and one on for 99%: the two ends the words compare


def sparse_penalty_words(rho: float) -> str:
    """What the curve of KL(ρ‖ρ̂) shows at this ρ, with its own numbers. The penalty has no upper bound at
    either end (ρ̂ exactly 0 or 1 costs infinitely much), but for a small ρ it rises far faster towards 1 than
    towards 0: with ρ = 0.05, ρ̂ = 0.01 costs 0.041 nats and ρ̂ = 0.2 costs 0.094. Words that said it 'grows
    steeply as ρ̂ → 1 or 0' were contradicted by the curve and the value beside them."""
    rare, often = (float(information.bernoulli_kl(rho, x)) for x in (RARE, OFTEN))
    if often > 2 * rare:
        side = ("So it pushes far harder against a unit that fires too often than against one that fires too "
                "rarely: it keeps units from staying always on, while a nearly silent unit costs much less.")
    elif rare > 2 * often:
        side = "So it pushes far harder against a unit that fires too rarely than against one that fires too often."
    else:
        side = "At this ρ it pushes about equally hard against a unit that fires too often and one that fires too rarely."
    return ("Read each sigmoid unit as a coin that is *on* with probability ρ̂ (its mean activation). The penalty "
            "is zero only at ρ̂ = ρ and has no upper bound: a unit on for every image (ρ̂ = 1) or for none (ρ̂ = 0) "
            f"would cost infinitely much. How fast it rises depends on the side: with ρ = {rho:g}, a unit on for "
            f"{RARE:.0%} of the images costs {rare:.3f} nats and one on for {OFTEN:.0%} costs {often:.3f}. " + side)


def pixel_bce_split_figure(split: information.PixelBCESplit, title: str = "") -> go.Figure:
    """Three maps per pixel: BCE = H(x) (the data's own entropy) + KL(x‖r) (the model's part)."""
    maps = [split.bce, split.data_entropy, split.kl]
    names = [f"BCE<br>mean {split.mean_bce:.3f}", f"H(x): data<br>mean {split.mean_data_entropy:.3f}",
             f"KL(x‖r): model<br>mean {split.mean_kl:.3f}"]  # two lines: one ran into the next panel's
    fig = make_subplots(rows=1, cols=3, subplot_titles=names, horizontal_spacing=0.06)
    zmax = float(max(m.max() for m in maps)) or 1.0
    for col, m in enumerate(maps, start=1):
        fig.add_trace(go.Heatmap(z=m.mean(axis=0)[::-1], zmin=0, zmax=zmax, colorscale="Viridis",
                                 showscale=(col == 3), colorbar=dict(title="nats")), row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)  # images: no grid or axis lines over the pixels
        fig.update_yaxes(visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_layout(title=title or "Per-pixel binary cross-entropy, split", height=350,
                      margin=dict(l=20, r=20, t=100, b=20), plot_bgcolor="white")
    return fig


def unit_kl_bars(kl: np.ndarray, unit_means: np.ndarray, rho: float, title: str = "") -> go.Figure:
    """Per-unit KL(ρ‖ρ̂_j) as bars, sorted, with each unit's ρ̂_j on hover."""
    order = np.argsort(-kl, kind="stable")
    fig = go.Figure(go.Bar(x=[str(j) for j in order], y=kl[order], marker_color=KL_COLOR,
                           customdata=unit_means[order],
                           hovertemplate="unit %{x}<br>KL %{y:.4f} nats<br>ρ̂ %{customdata:.4f}<extra></extra>"))
    fig.update_xaxes(type="category", showticklabels=len(kl) <= 64)
    return _layout(fig, title or f"KL(ρ‖ρ̂_j) per hidden unit, ρ = {rho:g}, total {float(kl.sum()):.3f} nats",
                   "hidden unit (sorted)", "KL (nats)")


def vae_kl_bars(kl: np.ndarray, title: str = "") -> go.Figure:
    """The VAE's KL per latent dimension; collapsed ones (aeviz.facts' rule) are drawn grey."""

    collapsed = facts.collapsed_mask(kl)
    colors = ["#bbbbbb" if gone else KL_COLOR for gone in collapsed]
    used = facts.used_dimensions(kl)
    fig = go.Figure(go.Bar(x=[str(j) for j in range(len(kl))], y=kl, marker_color=colors))
    fig.update_xaxes(type="category")
    return _layout(fig, title or f"KL per latent dimension: {used} of {len(kl)} used, grey: collapsed "
                   f"({facts.collapse_rule_words()})", "latent dimension", "KL (nats)")
