"""Links that open a page as it was: each page's main settings live in the URL query.

A page calls `restore(page, apply)` before its widgets (the URL's values go into the widgets' session
state once, when the link is opened or changes) and `publish(page, values)` after them (the URL follows
the widgets). `share_link()` shows the page's link without this tab's session id, ready to copy.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

import streamlit as st

from aeviz.links import shareable

APPLIED_KEY = "_links_applied"  # {page or widget: the query it last applied or saw published}


def current_query() -> dict[str, Any]:
    """The URL's query parameters (repeated ones as lists), without this tab's own."""
    params = st.query_params
    out: dict[str, Any] = {}
    for name in params.keys():
        values = params.get_all(name)
        out[name] = values if len(values) > 1 or name == "set" else (values[0] if values else "")
    return shareable(out)


def _fingerprint(query: dict[str, Any]) -> str:
    return urlencode(sorted((k, v if isinstance(v, str) else ",".join(v)) for k, v in query.items()))


def restore(page: str, apply: Callable[[dict[str, Any]], None]) -> None:
    """Call `apply(query)` when this page's URL query differs from what was last applied or published
    here: on opening a link, never on the reruns that follow a widget change."""
    query = current_query()
    markers = st.session_state.setdefault(APPLIED_KEY, {})
    if markers.get(page) == _fingerprint(query):
        return
    markers[page] = _fingerprint(query)
    if query:
        apply(query)


def publish(page: str, values: dict[str, Any], owned: tuple[str, ...] = ()) -> None:
    """Put the page's settings in the URL: `values` (None removes a parameter); parameters named in
    `owned` but absent from `values` are removed too."""
    for name in set(owned) - set(values):
        values[name] = None
    for name, value in values.items():
        if value is None or value == [] or value == "":
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get_all(name) != ([value] if isinstance(value, str) else list(value)):
            st.query_params[name] = value
    # Every reader has now seen this query: a change made here is not a link to apply elsewhere.
    markers = st.session_state.setdefault(APPLIED_KEY, {})
    fingerprint = _fingerprint(current_query())
    for name in [*markers, page]:
        markers[name] = fingerprint


def page_url() -> str:
    """This page's address in the browser (scheme, host, port and path), without the query."""
    try:
        return st.context.url or ""
    except Exception:  # no browser context (AppTest)
        return ""


def link_to(query: dict[str, Any], url: str | None = None) -> str:
    """An address with `query`, never carrying a session id."""
    query = shareable(query)
    return (url if url is not None else page_url()) + ("?" + urlencode(query, doseq=True) if query else "")


def share_link(label: str = "Link to this page") -> str:
    """A popover showing this page's link with its settings (no session id), with a copy button."""
    link = link_to(current_query())
    with st.popover(label, icon=":material/link:"):
        st.caption("Anyone who opens this link gets this page with these settings, in their own session.")
        st.code(link, language=None)
    return link
