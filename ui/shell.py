"""The sidebar every page shares: dataset in use and its source, the device, this session's runs. Before it,
the server's settings are checked and this tab is let in (or told the server is full: ui.admission). Also
starts the UMAP warm-up in the background, once per process."""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

from aeviz.data.types import SPECS
from aeviz.links import link_choice
from ui.admission import admit_or_stop
from ui.common import (XSRF_REFUSAL, current_dataset_name, dataset_selector, device_summary, offered_datasets,
                       session_owner, xsrf_protected)
from ui.lesson_views import lesson_sidebar_link
from ui.links import publish, restore
from ui.runs import session_runs_sidebar
from ui.theme import projector_toggle

WARMUP_ENV = "AEVIZ_UMAP_WARMUP"   # "0" turns the background UMAP warm-up off
WARMUP_DELAY_SECONDS = 5.0         # let the first page render before numba takes a CPU
_warmup_started = threading.Event()


def start_umap_warmup() -> None:
    if os.environ.get(WARMUP_ENV, "1").strip() == "0" or _warmup_started.is_set():
        return
    _warmup_started.set()

    def later():
        time.sleep(WARMUP_DELAY_SECONDS)
        from aeviz.analysis.umap_embed import warm_up_umap

        warm_up_umap(background=False)

    threading.Thread(target=later, daemon=True, name="aeviz-umap-warmup-delay").start()


def _dataset_from_link(query: dict) -> list[str]:
    """The link's dataset, when it is one this session may choose; else the problem (the dataset in use stays,
    and the URL says so before the page reads it: the Train page's link is applied on that dataset)."""
    wanted = query.get("dataset")
    chosen, problems = link_choice(query, "dataset", offered_datasets(wanted if isinstance(wanted, str) else None),
                                   f"a dataset you can open here ({', '.join(SPECS)}, or one of your own)",
                                   f"kept {current_dataset_name()}")
    if chosen is not None:
        st.session_state["dataset"] = chosen
    return problems


def settings_or_stop() -> None:
    """A server started with a bad setting (AEVIZ_MAX_JOBS=many, say) says which, on every page, instead of
    failing somewhere inside one."""
    from aeviz.variants.budget import max_params
    from aeviz.errors import AevizError
    from aeviz.server_settings import check_settings

    if not xsrf_protected():
        st.error(XSRF_REFUSAL)
        st.stop()
    try:
        check_settings()
        max_params()
    except AevizError as exc:
        st.error(f"This server was started with a setting it cannot use: {exc}. Whoever runs it can correct "
                 "the setting and restart the app (README, Serving a class on one machine).")
        st.stop()


def sidebar(page=None) -> None:
    """`page`: the st.Page about to run (its url_path says which), when known. A newcomer to a full server is
    told so instead (ui.admission)."""
    settings_or_stop()
    admit_or_stop(session_owner())
    restore("shell", _dataset_from_link)
    with st.sidebar:
        publish("shell", {"dataset": dataset_selector(st.sidebar, key="sidebar_dataset")})
        st.caption(f"Device: **{device_summary()}**")
        projector_toggle(st.sidebar)
    if getattr(page, "url_path", None) != "lessons":
        lesson_sidebar_link()  # a page opened from a lesson links back to it
    session_runs_sidebar()
    start_umap_warmup()
