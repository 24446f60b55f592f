"""Projector mode: one sidebar toggle; every chart passes through `themed` (aeviz.figures.theme)."""

from __future__ import annotations

import streamlit as st

from aeviz.figures.theme import apply_theme

PROJECTOR_KEY = "projector_mode"
PROJECTOR_PARAM = "projector"  # ?projector=1 in this tab's URL: projector mode survives a reload
# Page text and widgets scale with the root font size; 22 px reads from the back of a lecture hall.
# The main column's side padding is in rem too: narrowed, so the larger text still gets the width.
PROJECTOR_CSS = ("<style>html { font-size: 22px; } [data-testid='stImage'] img { image-rendering: pixelated; } "
                 "[data-testid='stMainBlockContainer'] { padding-left: 1.5rem; padding-right: 1.5rem; "
                 "max-width: 100%; }</style>")


def projector_on() -> bool:
    return bool(st.session_state.get(PROJECTOR_KEY, False))


def themed(fig, width_share: float = 1.0):
    """`fig` with the app's theme, in projector mode when the sidebar toggle is on; `width_share`: the
    share of the page's width its column has (the title wraps to it)."""
    return apply_theme(fig, projector_on(), width_share)


def projector_toggle(where=None) -> None:
    """The sidebar toggle, and the page-wide larger text while it is on. The toggle's state lives in this
    tab's URL too (?projector=1, like the session id, never in a shared link): a reload, which starts a new
    Streamlit session, comes back in projector mode, and so does every page the tab opens."""
    where = where or st.sidebar
    if PROJECTOR_KEY not in st.session_state and st.query_params.get(PROJECTOR_PARAM) == "1":
        st.session_state[PROJECTOR_KEY] = True
    where.toggle("Projector mode", key=PROJECTOR_KEY,
                 help="Larger text, thicker lines, larger images and black on white: for showing a page to a room.")
    if projector_on():
        if st.query_params.get(PROJECTOR_PARAM) != "1":
            st.query_params[PROJECTOR_PARAM] = "1"
        st.html(PROJECTOR_CSS)
    elif PROJECTOR_PARAM in st.query_params:
        del st.query_params[PROJECTOR_PARAM]


def chart_columns(count: int):
    """`count` side-by-side columns for charts (or metrics with long labels); in projector mode one full-width
    slot after another, since half of a projector's width is too narrow for a chart's title and labels (or
    a metric's label) at projector size."""
    if projector_on():
        return [st.container() for _ in range(count)]
    return st.columns(count)


def spreadsheet_safe(data):
    """`data` (a DataFrame, a list of row dicts or a dict of columns) with every formula-like text cell and
    column name neutralised; returned as it is when none is, or when it is of another kind."""
    import pandas as pd

    from aeviz.export.cells import neutralised

    def formula_like(value) -> bool:
        return isinstance(value, str) and neutralised(value) != value

    if isinstance(data, (list, dict)):
        try:
            data = pd.DataFrame(data)
        except (ValueError, TypeError):
            return data  # st.dataframe says what is wrong with it
    if not isinstance(data, pd.DataFrame):
        return data
    text = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c].dtype)]
    if not any(formula_like(c) for c in data.columns) and not any(formula_like(v) for c in text for v in data[c]):
        return data
    safe = data.rename(columns=neutralised)
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column].dtype):
            safe[column] = safe[column].map(neutralised)
    return safe


PROJECTOR_TABLE_ROWS = 30  # in projector mode a longer table stays a scrolling grid (a plain one would not end)


def data_table(data, hide_index: bool = False, **grid_options) -> None:
    """st.dataframe; in projector mode a plain table, whose text grows with the page's (a grid is drawn on a
    canvas at its own small size), unless it has more than PROJECTOR_TABLE_ROWS rows. Text cells that a
    spreadsheet would take for a formula (a class name from a user's file) are neutralised first: the grid's
    own "Download as CSV" writes them as shown (aeviz.export.cells)."""
    data = spreadsheet_safe(data)
    if projector_on():
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        if len(frame) <= PROJECTOR_TABLE_ROWS:
            st.table(frame, hide_index=hide_index)
            return
    st.dataframe(data, hide_index=hide_index, **grid_options)
