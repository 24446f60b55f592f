"""Readable from the back (issue 31, item 14): one image convention on every page (pixels 0 black, 1 white:
digits and clothes white on black, as the datasets store them), and no server paths in captions."""

from __future__ import annotations

import numpy as np
import pytest
from plotly.colors import get_colorscale

from aeviz.analysis import drawing
from aeviz.figures.applications import image_row
from aeviz.figures.denoising import image_rows, inpainting_figure
from aeviz.figures.images import mosaic_figure
from tests.conftest import ROOT


def stroke() -> np.ndarray:
    """An 8x8 image: a white bar (1) on black (0), as a digit is stored."""
    image = np.zeros((8, 8), np.float32)
    image[1:7, 3:5] = 1.0
    return image


def colour_at(trace, value: float) -> str:
    scale = trace.colorscale if not isinstance(trace.colorscale, str) else get_colorscale(trace.colorscale)
    stops = [(float(s), c) for s, c in scale]
    if trace.reversescale:
        stops = [(1 - s, c) for s, c in reversed(stops)]
    low, high = trace.zmin, trace.zmax
    position = (value - low) / (high - low)
    return min(stops, key=lambda stop: abs(stop[0] - position))[1].lower().replace(" ", "")


WHITE, BLACK = ("#ffffff", "rgb(255,255,255)"), ("#000000", "rgb(0,0,0)")

IMAGE_FIGURES = {
    "Applications: anomalies and neighbours": lambda: image_row(np.stack([stroke()] * 3), ["a", "b", "c"]),
    "Denoising: clean / noisy / reconstructed": lambda: image_rows({"clean": np.stack([stroke()] * 3),
                                                                  "noisy": np.stack([stroke()] * 3)}),
    "Denoising: inpainting": lambda: inpainting_figure(np.stack([stroke()] * 3), np.stack([stroke()] * 3),
                                                       np.stack([stroke()] * 3), np.zeros((8, 8), bool)),
}


@pytest.mark.parametrize("name", list(IMAGE_FIGURES))
def test_every_image_figure_draws_pixels_white_on_black(name):
    fig = IMAGE_FIGURES[name]()
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert heatmaps, name
    for trace in heatmaps:
        assert colour_at(trace, 1.0) in WHITE and colour_at(trace, 0.0) in BLACK, name


def test_mosaics_draw_pixels_white_on_black():
    from aeviz.figures.images import mosaic

    tiled = mosaic([np.stack([stroke()] * 2)])
    fig = mosaic_figure([np.stack([stroke()] * 2)])
    pixels = np.asarray(fig.data[0].z)[..., 0]
    assert tiled[3, 3] == 1.0 and tiled[0, 0] == 0.0  # the bar white, the image around it black
    assert {0, 255} <= set(np.unique(pixels))


def test_the_drawing_canvas_is_white_on_black_and_reads_as_the_datasets_do():
    rgba = np.zeros((40, 40, 4), np.uint8)          # the canvas's clear background
    rgba[8:32, 18:22] = [255, 255, 255, 255]        # a white stroke
    grey = drawing.to_grey(rgba, clear=0.0)
    assert grey[0, 0] == pytest.approx(0.0) and grey[20, 20] == pytest.approx(1.0)
    assert drawing.strokes_bright(grey)[20, 20] == pytest.approx(1.0)  # not inverted: already white on black
    source = (ROOT / "app_pages" / "explore.py").read_text()
    assert 'stroke_color="#FFFFFF", background_color="#000000"' in source and "clear=0.0" in source


def test_no_image_is_drawn_with_a_reversed_grey_scale_anywhere():
    for folder in ("aeviz/figures", "app_pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert "gray_r" not in text and "Greys_r" not in text, path
            assert 'colorscale="gray"' not in text, (path, "use figures.images.image_heatmap")


def test_captions_show_no_server_paths():
    from ui.common import source_and_path

    assert source_and_path("AEVIZ_DATA_DIR: /work/data/FashionMNIST/raw") == (
        "AEVIZ_DATA_DIR", "/work/data/FashionMNIST/raw")
    assert source_and_path("user cache: ~/.cache/aeviz/MNIST/raw")[0] == "user cache"
    assert source_and_path("scikit-learn (bundled)") == ("scikit-learn (bundled)", None)
    latent = (ROOT / "app_pages" / "latent_space.py").read_text()
    assert "numba_cache_dir()" not in latent  # the UMAP caption named the server's cache folder
    for path in [*(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        assert "cache_dir()}" not in path.read_text() and "runs_dir()}" not in path.read_text(), path


def test_image_rows_keep_square_pixels():
    fig = image_row(np.stack([stroke()] * 12), [str(i) for i in range(12)], columns=6)
    for index in range(12):
        axis = "" if index == 0 else str(index + 1)
        assert fig.layout[f"yaxis{axis}"].scaleanchor == f"x{axis}"
