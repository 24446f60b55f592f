"""One look for every figure: readable log axes, colour-blind-safe class colours, and a projector mode.

Figure builders use `CLASS_COLORS` and `log_axis`; the app passes every figure through `apply_theme`
once, on its way to the screen, so a projector toggle changes every chart the same way.
"""

from __future__ import annotations

import math
from typing import Iterable

# Okabe & Ito (2008), "Color universal design": eight colours told apart with every common colour
# vision deficiency, reordered so neighbouring classes contrast; two more (Tol's wine, a mid grey)
# for the ten classes of MNIST and Fashion-MNIST.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442",
                "#882255", "#999999")
PCA_COLOR = "#D55E00"  # the bar to beat: vermilion in both modes
CAPTION = "caption"  # the name of an annotation that captions an image (set at the tick labels' size)

NORMAL = {"font": 14, "title": 17, "line": 2.0, "marker": 1.0, "size": 1.0}
PROJECTOR = {"font": 22, "title": 28, "tick": 19, "line": 4.5, "marker": 1.7, "size": 1.45}


def tick_label(value: float) -> str:
    """0.001, 0.02, 0.5, 3, 1e-4 …: plain decimals where short, powers of ten beyond."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)) + 1e-9)
    if -3 <= exponent <= 4:
        return f"{value:.{max(0, -exponent)}f}".rstrip("0").rstrip(".") if exponent < 0 else f"{value:g}"
    mantissa = value / 10 ** exponent
    return f"{mantissa:g}e{exponent}" if round(mantissa, 6) != 1 else f"1e{exponent}"


def log_axis(values: Iterable[float], pad: float = 1.25) -> dict:
    """Plotly axis settings for a log axis over `values` (the positive, finite ones): its range fitted to
    them (so a gap between two curves is not squashed by far-off points left out of `values`) and
    labelled ticks at 1, 2, 5 x 10^n (only 10^n when the range spans more than three decades)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if not finite:
        return {"type": "log"}
    low, high = min(finite) / pad, max(finite) * pad
    mantissas = (1,) if math.log10(high / low) > 3 else (1, 2, 5)
    ticks = [m * 10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
             for m in mantissas if low <= m * 10.0 ** e <= high]
    if len(ticks) < 2:  # less than a factor of 2 apart: add the ends themselves
        ticks = sorted({*ticks, float(f"{low:.2g}"), float(f"{high:.2g}")})
    return {"type": "log", "range": [math.log10(low), math.log10(high)], "tickvals": ticks,
            "ticktext": [tick_label(t) for t in ticks], "minor": {"showgrid": False}}


def reference_line(fig, y: float, text: str, log_y: bool, **line) -> None:
    """A horizontal line at `y` across the plot, labelled `text` at its left end, above it. Plotly's own
    add_hline(annotation_text=...) places the label at y in the axis's internal units, which on a log axis
    are log10 of the data: a label at y = 0.016 stood at 10^0.016 ≈ 1, far above a chart ending at 0.03, and
    the PCA line was drawn without its name."""
    fig.add_hline(y=y, **line)
    fig.add_annotation(x=0, xref="x domain", y=math.log10(y) if log_y and y > 0 else y, yref="y", text=text,
                       showarrow=False, xanchor="left", yanchor="bottom")


def apply_theme(fig, projector: bool = False, width_share: float = 1.0):
    """`fig` (a plotly Figure) with this app's fonts and line widths; in projector mode larger fonts,
    thicker lines, larger markers and images, black on white. `width_share`: the share of the page's width
    the chart is drawn in (a column), for the title to wrap to. Returns the same figure."""
    style = PROJECTOR if projector else NORMAL
    fig.update_layout(font=dict(size=style["font"]), title_font=dict(size=style["title"]),
                      legend=dict(font=dict(size=style["font"])))
    fig.update_annotations(font_size=style["font"])
    # numbers under a row of images: at the label size, a row of ten 4-decimal errors ran together
    fig.update_annotations(selector=dict(name=CAPTION), font_size=style.get("tick", style["font"]))
    for trace in fig.data:
        if trace.type in ("scatter", "scattergl"):
            if trace.line is not None and "lines" in (trace.mode or "lines"):
                trace.line.width = max(trace.line.width or 0, style["line"])
            size = trace.marker.size if trace.marker is not None else None
            if isinstance(size, (int, float)):
                trace.marker.size = size * style["marker"]
            elif size is not None and not isinstance(size, str):
                trace.marker.size = [s * style["marker"] for s in size]
    _legend_below_axis_title(fig, style["font"])
    if projector:
        _wrap_long_title(fig, style["title"], int(PROJECTOR_TITLE_CHARS * width_share))
        _title_below_toolbars(fig, style)
    if fig.layout.height and not fig.layout.width:  # a figure of fixed size (a mosaic) is drawn to its pixels
        fig.update_layout(height=int(fig.layout.height * style["size"]))
    if projector:
        _fit_images_to_width(fig, PROJECTOR_CHART_PX * width_share)
        # sizes too: Streamlit's chart theme sets its own small tick and axis-title fonts, which the layout's
        # font does not override
        grid = dict(gridcolor="#9a9a9a", linecolor="#000000", tickfont=dict(color="#000000", size=style["tick"]),
                    title_font=dict(color="#000000", size=style["font"]))
        fig.update_xaxes(**grid)
        fig.update_yaxes(**grid)
        fig.update_layout(paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", font_color="#000000")
    return fig


def _legend_below_axis_title(fig, font: float) -> None:
    """A horizontal legend placed under the plot (y < 0, relative to the plot) ran into the x-axis title as
    fonts grew; pin it to the figure's bottom edge instead, with a margin that holds the title above it."""
    legend = fig.layout.legend
    if legend.orientation != "h" or legend.y is None or legend.y >= 0:
        return
    bottom = _margin(fig, "b")
    fig.update_layout(legend=dict(yref="container", y=0, yanchor="bottom"),
                      margin=dict(b=int(bottom + 3 * font)))


PROJECTOR_CHART_PX = 660  # a full-width chart's width at projector size (1024 px window, sidebar open)
PLOTLY_MARGINS = {"l": 80, "r": 80, "t": 100, "b": 80}  # plotly's margins where a figure sets none


def _margin(fig, side: str) -> float:
    value = getattr(fig.layout.margin, side)
    return PLOTLY_MARGINS[side] if value is None else value


def _data_extent(axis, trace, along: int) -> float | None:
    """How many data units an axis shows: its range if set, else the image's size along `along`."""
    import numpy as np

    if axis.range is not None:
        return abs(axis.range[1] - axis.range[0])
    return float(np.asarray(trace.z).shape[along]) if trace.z is not None else None


def _fit_images_to_width(fig, width_px: float) -> None:
    """A figure of fixed height whose images keep their aspect ratio (a y axis anchored to its x axis) is
    drawn no taller than the images fill at `width_px`: at projector size, where heights grow by half and a
    column does not, the rest was blank bands above and below the images."""
    if not fig.layout.height or fig.layout.width:
        return
    plot_width = width_px - _margin(fig, "l") - _margin(fig, "r")
    needed = 0.0
    for trace in fig.data:
        if trace.type not in ("heatmap", "image"):
            continue
        x_name, y_name = (trace.xaxis or "x"), (trace.yaxis or "y")
        x_axis, y_axis = fig.layout[x_name.replace("x", "xaxis", 1)], fig.layout[y_name.replace("y", "yaxis", 1)]
        if y_axis.scaleanchor != x_name:
            return  # an image stretched to the plot fills any height
        x_units, y_units = _data_extent(x_axis, trace, 1), _data_extent(y_axis, trace, 0)
        if not x_units or not y_units:
            return
        x_share = (x_axis.domain[1] - x_axis.domain[0]) if x_axis.domain else 1.0
        y_share = (y_axis.domain[1] - y_axis.domain[0]) if y_axis.domain else 1.0
        needed = max(needed, plot_width * x_share * y_units / x_units / y_share)
    if needed > 0:
        fitted = math.ceil(needed + _margin(fig, "t") + _margin(fig, "b")) + 2
        fig.update_layout(height=min(fig.layout.height, fitted))


PROJECTOR_TITLE_CHARS = 40  # what fits on one line of a full-width chart's title at projector size, 1024 px
LINE_HEIGHT = 1.5  # a line of a chart's text, in font sizes: the room made for each line added
def _add_room_on_top(fig, extra: float) -> None:
    """`extra` px more top margin, and the figure as much taller, so its plots keep their height."""
    fig.update_layout(margin=dict(t=int(_margin(fig, "t") + extra)))
    if fig.layout.height:
        fig.update_layout(height=int(fig.layout.height + extra))


def _wrap_long_title(fig, size: float, chars: int) -> None:
    """A title longer than a projector's chart is wide ran off its right edge: break it between words into
    lines of at most `chars`, and make room above the plot for the lines added."""
    import textwrap

    text = fig.layout.title.text
    if not text or "<br>" in text or len(text) <= chars:
        return
    lines = textwrap.wrap(text, chars, break_long_words=False)
    if len(lines) > 1 and " " not in lines[-1]:  # a last word alone ("... with probability" / "p"): even lines
        width = math.ceil(len(text) / len(lines))
        while len(even := textwrap.wrap(text, width, break_long_words=False)) > len(lines):
            width += 1
        lines = even
    fig.update_layout(title_text="<br>".join(lines))
    _add_room_on_top(fig, (len(lines) - 1) * LINE_HEIGHT * size)


# px: the band at a chart's top edge where its toolbars appear on hover, plotly's modebar and Streamlit's
# element toolbar (sized in rem, so larger under the projector's 22 px root font). A title in it was covered.
TOOLBAR_PX = 48


def _title_below_toolbars(fig, style: dict) -> None:
    """In projector mode: the title pinned under the toolbars' band at the figure's top edge, and under it
    the subplot titles (which stand in the top margin just above their plots, where the title also was: at
    projector size the two ran into each other). The top margin, and the figure so that the plots keep
    their height, grow to hold the band, the title's lines and the subplot titles."""
    title = fig.layout.title.text
    if not title:
        return
    tops = [a for a in fig.layout.annotations
            if a.yref == "paper" and a.yanchor == "bottom" and a.y is not None and a.y >= 0.99 and a.text]
    pad = 10
    needed = TOOLBAR_PX + (title.count("<br>") + 1) * LINE_HEIGHT * style["title"] + pad
    if tops:
        needed += max(a.text.count("<br>") + 1 for a in tops) * LINE_HEIGHT * style["font"] + pad
    fig.update_layout(title=dict(yref="container", y=1, yanchor="top", pad=dict(t=TOOLBAR_PX)))
    if needed > _margin(fig, "t"):
        _add_room_on_top(fig, needed - _margin(fig, "t"))
