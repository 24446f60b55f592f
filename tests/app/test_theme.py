"""The figure theme: readable log ticks, ranges that keep a gap visible, projector mode, class colours."""

from __future__ import annotations

import math

import pytest

from aeviz.figures.theme import CLASS_COLORS, apply_theme, log_axis, tick_label
from aeviz.figures.training import test_mse_figure as mse_figure


def test_tick_labels_read_as_numbers():
    assert [tick_label(v) for v in (0.001, 0.002, 0.05, 0.5, 1, 20)] == ["0.001", "0.002", "0.05", "0.5", "1", "20"]
    assert tick_label(1e-5) == "1e-5" and tick_label(2e-6) == "2e-6"


def test_log_axis_ticks_at_1_2_5_inside_the_range():
    axis = log_axis([0.012, 0.03])
    assert axis["type"] == "log"
    assert axis["tickvals"] == [0.01, 0.02] and axis["ticktext"] == ["0.01", "0.02"]
    low, high = (10 ** r for r in axis["range"])
    assert low < 0.012 and high > 0.03 and high / low < 5


def test_wide_ranges_label_decades_only():
    axis = log_axis([1e-5, 1.0])
    assert axis["ticktext"] == ["1e-5", "1e-4", "0.001", "0.01", "0.1", "1"]


def test_live_test_mse_axis_shows_the_gap_to_pca_not_the_untrained_start():
    history = [{"elapsed": 0.0, "test_mse": 0.9}, {"elapsed": 2.0, "test_mse": 0.03},
               {"elapsed": 4.0, "test_mse": 0.025}]
    fig = mse_figure(history, pca_mse=0.02)
    low, high = (10 ** r for r in fig.layout.yaxis.range)
    assert low < 0.02 and 0.03 < high < 0.1  # the untrained 0.9 does not stretch the axis to 1


def test_projector_mode_enlarges_fonts_lines_and_height():
    normal = apply_theme(mse_figure([{"elapsed": 0.0, "test_mse": 0.1}], 0.05))
    big = apply_theme(mse_figure([{"elapsed": 0.0, "test_mse": 0.1}], 0.05), projector=True)
    assert big.layout.font.size > normal.layout.font.size
    assert big.data[0].line.width > normal.data[0].line.width
    assert big.layout.height > normal.layout.height
    assert big.layout.plot_bgcolor == "#ffffff"


def luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_ten_distinct_class_colours():
    assert len(set(CLASS_COLORS)) == 10
    # distinct even without hue (the hardest case, achromatopsia) for most pairs: luminance differs
    lum = sorted(luminance(c) for c in CLASS_COLORS)
    assert sum(b - a > 0.02 for a, b in zip(lum, lum[1:])) >= 7
    assert not math.isnan(sum(lum))


def test_chart_columns_stack_in_projector_mode():
    """Half a projector's width is too narrow for a chart: in projector mode the pair becomes full-width slots."""
    from streamlit.testing.v1 import AppTest

    script = ("import streamlit as st\nfrom ui.theme import PROJECTOR_KEY, chart_columns\n"
              "left, right = chart_columns(2)\nleft.write('a')\nright.write('b')\n")
    normal = AppTest.from_string(script).run()
    assert not normal.exception and len(normal.columns) == 2
    projector = AppTest.from_string(script)
    projector.session_state["projector_mode"] = True
    projector.run()
    assert not projector.exception and len(projector.columns) == 0
    assert [m.value for m in projector.markdown] == ["a", "b"]


def test_a_legend_under_the_plot_moves_to_the_bottom_edge_with_room_for_the_axis_title():
    import plotly.graph_objects as go

    for projector in (False, True):
        fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="run"))
        fig.update_layout(xaxis_title="test noise level", margin=dict(b=40), legend=dict(orientation="h", y=-0.25))
        apply_theme(fig, projector=projector)
        assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
        font = fig.layout.font.size
        assert fig.layout.margin.b >= 40 + 3 * font
    side = apply_theme(go.Figure(go.Scatter(x=[0], y=[0])))
    assert side.layout.legend.yref is None  # a legend left where plotly puts it is not touched


def test_a_long_title_wraps_in_projector_mode_with_room_above_the_plot():
    import plotly.graph_objects as go

    title = "contractive · k=16 · digits · a3082c29ca62df6b: PCA of the codes"
    fig = apply_theme(go.Figure(layout=dict(title=title, height=400, margin=dict(t=40))), projector=True)
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) == 2 and " ".join(lines) == title and all(len(line) <= 40 for line in lines)
    assert fig.layout.margin.t > 40 and fig.layout.height > int(400 * 1.45)
    short = apply_theme(go.Figure(layout=dict(title="Training loss")), projector=True)
    assert short.layout.title.text == "Training loss"
    normal = apply_theme(go.Figure(layout=dict(title=title)), projector=False)
    assert normal.layout.title.text == title  # a laptop's chart is wide enough


def test_a_title_in_a_narrow_column_wraps_to_the_column_in_projector_mode():
    import plotly.graph_objects as go

    title = "PCA's test error at each k"  # the Train page's curve, in a column 2/5 of the page wide
    narrow = apply_theme(go.Figure(layout=dict(title=title)), projector=True, width_share=0.4)
    assert narrow.layout.title.text == "PCA's test error<br>at each k"
    wide = apply_theme(go.Figure(layout=dict(title=title)), projector=True)
    assert wide.layout.title.text == title


def test_short_tables_grow_with_the_page_in_projector_mode():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from ui.theme import PROJECTOR_KEY, data_table

        st.session_state[PROJECTOR_KEY] = st.session_state.get("projector", False)
        data_table([{"title": "a", "rating": 5}, {"title": "b", "rating": 4}], hide_index=True)
        data_table([{"n": i} for i in range(40)], hide_index=True)  # too long for a plain table

    at = AppTest.from_function(page).run()
    assert not at.exception and len(at.dataframe) == 2 and not at.table
    at.session_state["projector"] = True
    at.run()
    assert not at.exception and len(at.table) == 1 and len(at.dataframe) == 1
    assert list(at.table[0].value["title"]) == ["a", "b"]


def test_subplot_titles_get_room_below_the_title_in_projector_mode():
    # The Information page's per-pixel BCE split: a title over three two-line subplot titles ran into them.
    import numpy as np

    from aeviz.figures.information import pixel_bce_split_figure
    from aeviz.analysis.information import PixelBCESplit

    maps = np.full((1, 4, 4), 0.1)
    split = PixelBCESplit(bce=maps, data_entropy=maps, kl=maps)
    before = pixel_bce_split_figure(split)
    top = before.layout.margin.t
    fig = apply_theme(pixel_bce_split_figure(split), projector=True)
    title_block = 28 * 1.3 + 10  # one title line at projector size, pinned to the top edge
    subplot_block = 2 * 22 * 1.3  # two-line subplot titles, standing on the plots
    assert fig.layout.title.yref == "container" and fig.layout.title.y == 1 and fig.layout.title.yanchor == "top"
    assert fig.layout.margin.t >= title_block + subplot_block > top
    # the plots keep the height their square panels need at the projector's width (no more: it was blank)
    from aeviz.figures.theme import PROJECTOR_CHART_PX

    panel = (PROJECTOR_CHART_PX - 40) * (1 - 2 * 0.06) / 3
    assert fig.layout.height - fig.layout.margin.t - fig.layout.margin.b >= panel - 1
    plain = apply_theme(pixel_bce_split_figure(split), projector=False)
    assert plain.layout.margin.t == top and plain.layout.title.yref is None


def test_mosaic_labels_and_captions_have_room_at_projector_size():
    # 8x8 digits at 56 px a cell: a 22 px label stood in a 21 px band and ran into the images, and
    # projector mode grew the fixed-width mosaic's height into blank space above and below it.
    import numpy as np

    from aeviz.figures.images import TEXT_BAND_PX, mosaic_figure

    images = np.random.default_rng(0).random((4, 1, 8, 8))
    fig = mosaic_figure([images, images], row_labels=["originals", "run"], captions=[["0.01"] * 4] * 2, cell_px=56)
    scale = 56 / 8
    image_rows = fig.data[0].z.shape[0]
    assert TEXT_BAND_PX >= 22 and image_rows * scale >= 2 * (8 * scale + 2 * TEXT_BAND_PX)
    height = fig.layout.height
    assert apply_theme(fig, projector=True).layout.height == height
    label_y = next(a.y for a in fig.layout.annotations if a.text == "originals")
    assert (label_y + 0.5) * scale >= 22 / 2  # the label's centre is half a projector line below its band's top


def test_a_wrapped_title_leaves_no_word_alone_on_its_last_line():
    import plotly.graph_objects as go

    title = "Surprise of an outcome with probability p"  # the Information page's first chart
    fig = apply_theme(go.Figure(layout=dict(title=title)), projector=True)
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) == 2 and all(" " in line for line in lines)
    assert " ".join(lines) == title


def image_grid_figure(height, rows=24, columns=64, margin=None):
    import numpy as np
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=np.zeros((rows, columns))))
    fig.update_yaxes(scaleanchor="x")
    fig.update_layout(height=height, margin=margin or dict(l=10, r=10, t=40, b=10))
    return fig


def test_images_that_keep_their_aspect_get_no_blank_bands_in_projector_mode():
    from aeviz.figures.theme import PROJECTOR_CHART_PX

    fig = apply_theme(image_grid_figure(300), projector=True)
    plot_width = PROJECTOR_CHART_PX - 20
    assert fig.layout.height == pytest.approx(plot_width * 24 / 64 + 50, abs=4)  # not 300 x 1.45
    half = apply_theme(image_grid_figure(300), projector=True, width_share=0.5)
    assert half.layout.height < fig.layout.height
    tall = apply_theme(image_grid_figure(100, rows=64, columns=16), projector=True)
    assert tall.layout.height == 145  # images taller than the column allows: the height only grows as usual
    normal = apply_theme(image_grid_figure(300), projector=False)
    assert normal.layout.height == 300


def test_images_stretched_to_the_plot_keep_their_height():
    import numpy as np
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=np.zeros((24, 64))))  # no scaleanchor: a heatmap fills any height
    fig.update_layout(height=300)
    assert apply_theme(fig, projector=True).layout.height == int(300 * 1.45)


def test_the_denoising_grid_draws_no_axis_line_beside_its_images():
    import numpy as np

    from aeviz.figures.denoising import image_rows

    fig = apply_theme(image_rows({"clean": np.zeros((8, 8, 8)), "noisy": np.ones((8, 8, 8))}), projector=True)
    assert fig.layout.yaxis.showline is False


def test_captions_under_images_are_set_smaller_than_labels_in_projector_mode():
    # ten 4-decimal errors under ten images ran together at the labels' 22 px
    import numpy as np

    from aeviz.figures.images import mosaic_figure
    from aeviz.figures.theme import PROJECTOR

    images = np.zeros((10, 1, 8, 8))
    fig = apply_theme(mosaic_figure([images], row_labels=["run"], captions=[["0.0085"] * 10]), projector=True)
    sizes = {a.text: a.font.size for a in fig.layout.annotations}
    assert sizes["0.0085"] == PROJECTOR["tick"] < sizes["run"] == PROJECTOR["font"]
