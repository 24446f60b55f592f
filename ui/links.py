"""Links that open a page as it was: each page's main settings live in the URL query.

A page calls `restore(page, apply)` before its widgets (the URL's values go into the widgets' session
state once, when the link is opened or changes, through aeviz.links' checks; each value that could not be
used is named in the page's warning) and `publish(page, values)` after them (the URL follows
the widgets). `share_link()` shows the page's link without this tab's session id, ready to copy.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

import streamlit as st

from aeviz.links import shareable
from ui.plain_text import plain

APPLIED_KEY = "_links_applied"  # {page or widget: the query it last applied or saw published}
PROBLEMS_KEY = "_links_problems"  # {page or widget: what its link asked for that could not be used}


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


def restore(page: str, apply: Callable[[dict[str, Any]], list[str] | None]) -> None:
    """Call `apply(query)` when this page's URL query differs from what was last applied or published
    here: on opening a link, never on the reruns that follow a widget change. `apply` returns the problems
    of the link's values it could not use (aeviz.links checks them), and the page's warning names them, here,
    on every run until another link (or none) is opened: no value is dropped silently."""
    query = current_query()
    markers = st.session_state.setdefault(APPLIED_KEY, {})
    problems = st.session_state.setdefault(PROBLEMS_KEY, {})
    if markers.get(page) != _fingerprint(query):
        markers[page] = _fingerprint(query)
        problems[page] = list((apply(query) if query else None) or [])
    link_warning(problems.get(page) or [])


def link_warning(problems: list[str]) -> None:
    """One warning naming each value of the link that was not applied (as plain text: it came from a link)."""
    if problems:
        st.warning("Some of this link's settings were not applied:\n\n" + "\n\n".join(
            f"- {plain(problem)}" for problem in problems))


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
