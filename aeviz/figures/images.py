"""Image mosaics shared by the figure builders: many small images in one grey picture."""

from __future__ import annotations

import math

import numpy as np

from aeviz.figures.theme import CAPTION, LINE_HEIGHT, PROJECTOR

# One image convention on every page: a pixel's intensity as grey, 0 black and 1 white, as the datasets
# store them, so digits and clothes are drawn white on black wherever they appear (a reversed scale drew
# them dark on white on one page and white on dark on the next). Mosaics draw their pixels with it too.
IMAGE_COLORSCALE = [[0.0, "#000000"], [1.0, "#ffffff"]]


def image_heatmap(z, **trace):
    """A plotly Heatmap of image pixels in [0, 1] by the convention above (no colour bar)."""
    import plotly.graph_objects as go

    return go.Heatmap(z=z, zmin=0, zmax=1, colorscale=IMAGE_COLORSCALE, showscale=False, **trace)


# Screen pixels above each mosaic row for its label and under it for its captions: a line of text at
# projector size, so a label never runs into the images.
TEXT_BAND_PX = math.ceil(PROJECTOR["font"] * LINE_HEIGHT)


def to_2d(image: np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) or flat square -> (H, W) float in [0, 1] (the first channel)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3:
        a = a[0]
    elif a.ndim == 1:
        side = int(round(np.sqrt(a.size)))
        a = a.reshape(side, side)
    return np.clip(a, 0.0, 1.0)


def mosaic(rows: list[np.ndarray], gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """Rows of images (each (n, C, H, W) or (n, H, W)) tiled into one (R*(H+gap)-gap, n*(W+gap)-gap) array.

    Rows may hold fewer images than the longest; the rest is left blank (`fill`).
    """
    if not rows or all(len(r) == 0 for r in rows):
        return np.ones((1, 1), dtype=np.float32) * fill
    first = next(to_2d(r[0]) for r in rows if len(r))
    h, w = first.shape
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            out[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = to_2d(image)
    return out


def mosaic_figure(rows: list[np.ndarray], row_labels: list[str] | None = None,
                  captions: list[list[str]] | None = None, title: str = "", cell_px: int = 64):
    """A plotly figure of a mosaic: pixel intensity as grey (0 black, 1 white), white gaps between images.

    `captions[i][j]` is written under image j of row i (e.g. its error). Row labels sit above their row,
    so the images get the figure's whole width (a label column on the left took half of it).
    """
    import plotly.graph_objects as go

    image = mosaic(rows, gap=1)
    first = next(to_2d(r[0]) for r in rows if len(r))
    h, w = first.shape
    labels = row_labels or []
    scale = cell_px / w  # screen pixels per image pixel
    # A blank band above each row for its label, and under it for its captions, tall enough on screen for
    # their text at projector size (on 8x8 digits a third of an image was 21 px, under a 22 px label).
    label_band = max(3, math.ceil(TEXT_BAND_PX / scale)) if labels else 0
    band = max(3, math.ceil(TEXT_BAND_PX / scale)) if captions else 1
    stacked = []
    for i in range(len(rows)):
        stacked.append(np.ones((label_band, image.shape[1]), dtype=np.float32))
        stacked.append(image[i * (h + 1):i * (h + 1) + h])
        stacked.append(np.ones((band, image.shape[1]), dtype=np.float32))
    image = np.concatenate(stacked if captions else stacked[:-1])  # no gap under the last row without captions
    grey = (255 * image).astype(np.uint8)
    fig = go.Figure(go.Image(z=np.repeat(grey[:, :, None], 3, axis=2), hoverinfo="skip"))
    row_height = label_band + h + band
    for i, row in enumerate(captions or []):
        for j, text in enumerate(row):
            fig.add_annotation(x=j * (w + 1) + (w - 1) / 2, y=i * row_height + label_band + h + band / 2 - 0.5,
                               text=text, showarrow=False, font=dict(size=10, color="#444"), name=CAPTION)
    for i, label in enumerate(labels):
        fig.add_annotation(x=-0.5, y=i * row_height + label_band / 2 - 0.5, text=label, xanchor="left",
                           showarrow=False, font=dict(size=12))
    top = 40 if title else 10
    fig.update_layout(title=title or None, margin=dict(l=10, r=10, t=top, b=10),
                      height=int(round(image.shape[0] * scale)) + top + 10,
                      width=20 + int(round(image.shape[1] * scale)))
    # Fixed ranges: plotly's autorange makes room for annotations, and would shrink the images for them.
    fig.update_xaxes(visible=False, range=[-0.5, image.shape[1] - 0.5])
    fig.update_yaxes(visible=False, range=[image.shape[0] - 0.5, -0.5])
    return fig
