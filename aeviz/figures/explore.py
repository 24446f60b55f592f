"""Figures of the Explore page and the run report: pure functions from arrays to plotly figures
(or to image tiles and PNG data URIs)."""

from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from aeviz.figures.images import mosaic
from aeviz.figures.latent import PALETTE  # one colour per class on every page

MAX_FRAMES = 60
GRID_TRACE_NAME = "click anywhere"


# ---------------------------------------------------------------------------- images
def tile(images: np.ndarray, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """A grid of images (R, C, H, W) (or a row (C, H, W)) as one image with `pad` pixels between."""
    images = np.asarray(images, np.float32)
    return mosaic(list(images[None] if images.ndim == 3 else images), gap=pad, fill=pad_value)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A greyscale image (H, W) in [0, 1] as PNG bytes, each pixel a scale x scale block (crisp)."""
    from PIL import Image

    array = (np.clip(np.asarray(image, np.float32), 0, 1) * 255).round().astype(np.uint8)
    if scale > 1:
        array = np.kron(array, np.ones((scale, scale), np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(array, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale)).decode("ascii")


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so st.image shows pixels rather than a blur."""
    return np.kron(np.asarray(image, np.float32), np.ones((scale, scale), np.float32))


# ---------------------------------------------------------------------------- scatter
def _class_name(class_names: Sequence[str], label: int) -> str:
    return class_names[label] if 0 <= label < len(class_names) else str(label)


def latent_scatter(points: np.ndarray, labels: np.ndarray, class_names: Sequence[str], title: str = "",
                   click_grid: tuple[np.ndarray, np.ndarray] | None = None,
                   markers: Sequence[tuple[str, np.ndarray]] = (), axis_titles=("z1", "z2")) -> go.Figure:
    """Test codes in a plane, one trace per class. `click_grid` (xs, ys): an invisible dense grid of
    points drawn first (underneath), so that a click on empty space still selects a point there.
    `markers`: (name, (x, y)) points drawn on top as black stars (a clicked point, a drawing)."""
    fig = go.Figure()
    if click_grid is not None:
        gx, gy = np.meshgrid(click_grid[0], click_grid[1])
        fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name=GRID_TRACE_NAME,
                                 marker=dict(size=9, color="rgba(0,0,0,0)"), hoverinfo="x+y",
                                 showlegend=False))
    labels = np.asarray(labels)
    for label in np.unique(labels):
        mask = labels == label
        fig.add_trace(go.Scatter(x=points[mask, 0], y=points[mask, 1], mode="markers",
                                 name=_class_name(class_names, int(label)),
                                 marker=dict(size=5, opacity=0.75, color=PALETTE[int(label) % len(PALETTE)])))
    for name, point in markers:
        fig.add_trace(go.Scatter(x=[float(point[0])], y=[float(point[1])], mode="markers+text", name=name,
                                 text=[name], textposition="top center",
                                 marker=dict(size=16, symbol="star", color="black", line=dict(color="white", width=1))))
    fig.update_layout(title=title, xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], height=480,
                      margin=dict(l=40, r=10, t=50, b=40), legend=dict(itemsizing="constant"))
    return fig


def selected_point(selection: dict | None) -> tuple[float, float] | None:
    """The plane point a Streamlit plotly selection event names: the clicked point, or the centre of a
    box selection. None when nothing is selected."""
    if not selection:
        return None
    selection = selection.get("selection", selection)
    boxes = selection.get("box") or []
    if boxes:
        box = boxes[-1]
        return float(np.mean(box["x"])), float(np.mean(box["y"]))
    points = selection.get("points") or []
    if points:
        return float(points[-1]["x"]), float(points[-1]["y"])
    return None


# ---------------------------------------------------------------------------- animation
def formation_animation(formation, labels: np.ndarray, class_names: Sequence[str],
                        max_frames: int = MAX_FRAMES) -> go.Figure:
    """The codes forming during training: one plotly frame per snapshot (at most `max_frames`, evenly
    chosen, the last kept), a play button and a slider; the loss at each moment in the frame's title.

    `formation`: an `aeviz.analysis.explore.Formation`; `labels`: the class of each point.
    """
    count = len(formation.frames)
    chosen = (np.array([count - 1]) if max_frames <= 1
              else np.unique(np.linspace(0, count - 1, min(count, max_frames)).round().astype(int)))
    labels = np.asarray(labels)
    classes = np.unique(labels)
    frames_xy = formation.frames[chosen]
    low, high = frames_xy.min(axis=(0, 1)), frames_xy.max(axis=(0, 1))
    margin = 0.05 * np.maximum(high - low, 1e-6)

    def title(i: int) -> str:
        loss = float(formation.losses[i])
        loss_text = f"loss {loss:.4g}" if np.isfinite(loss) else "before training"
        return f"Watch it form: step {int(formation.steps[i])} · {loss_text}"

    def traces(i: int) -> list[go.Scatter]:
        xy = formation.frames[i]
        return [go.Scatter(x=xy[labels == c, 0], y=xy[labels == c, 1], mode="markers",
                           name=_class_name(class_names, int(c)),
                           marker=dict(size=4, opacity=0.7, color=PALETTE[int(c) % len(PALETTE)]))
                for c in classes]

    frames = [go.Frame(data=traces(i), name=str(int(i)), layout=go.Layout(title_text=title(i))) for i in chosen]
    last = int(chosen[-1])
    fig = go.Figure(data=traces(last), frames=frames)
    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=250, redraw=True), transition=dict(duration=0),
                                 fromcurrent=True)])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])
    slider_steps = [dict(label=str(int(formation.steps[i])), method="animate",
                         args=[[str(int(i))], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                   transition=dict(duration=0))]) for i in chosen]
    if len(chosen) == 1:  # a still picture: no play button or slider
        fig.frames = ()
        fig.update_layout(title_text=title(last), height=480, margin=dict(l=40, r=10, t=60, b=40),
                          xaxis_title="PC 1 (aligned)" if formation.projected else "z1",
                          yaxis_title="PC 2 (aligned)" if formation.projected else "z2",
                          legend=dict(itemsizing="constant"))
        return fig
    fig.update_layout(
        title_text=title(last), height=560, margin=dict(l=40, r=10, t=60, b=110),
        xaxis=dict(range=[float(low[0] - margin[0]), float(high[0] + margin[0])],
                   title="PC 1 of the codes (aligned)" if formation.projected else "z1"),
        yaxis=dict(range=[float(low[1] - margin[1]), float(high[1] + margin[1])],
                   title="PC 2 of the codes (aligned)" if formation.projected else "z2"),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.2, xanchor="left", yanchor="top",
                          showactive=False, buttons=[play, pause])],
        sliders=[dict(active=len(chosen) - 1, x=0.22, len=0.78, y=-0.17, yanchor="top",
                      currentvalue=dict(visible=False), steps=slider_steps)],
        legend=dict(itemsizing="constant"))
    return fig


def live_formation(snapshots: Sequence[np.ndarray], steps: Sequence[int], losses: Sequence[float],
                   labels: np.ndarray, class_names: Sequence[str], animate: bool = True) -> go.Figure:
    """The codes forming, from the `codes` (float16 (N, k)) of the Snapshot events seen so far.

    `labels`: classes of the recorded test subset (the test labels at
    `aeviz.training.setup.fixed_test_indices(dataset, seed)["codes"]`). animate=False: only the latest frame
    (aligned to the ones before it), light enough to redraw every second while a run trains.
    """
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.explore import formation_frames

    formation = formation_frames({"codes": np.stack(list(snapshots)), "steps": np.asarray(steps),
                                  "losses": np.asarray(losses, np.float32),
                                  "indices": np.arange(len(snapshots[0]))})
    return formation_animation(formation, labels, class_names, max_frames=MAX_FRAMES if animate else 1)
