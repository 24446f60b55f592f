"""Cached resources and small widgets every page uses."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from ui.plain_text import plain

DATASET_KEY = "dataset"


def cached_dataset(name: str):
    """The loaded dataset every session shares. The library keeps the most recently used within
    AEVIZ_CACHE_DATASETS_MB (aeviz.data.datasets); a Streamlit cache here would hold every dataset ever
    shown, past that bound."""
    from aeviz.data.datasets import dataset_loaded, load_dataset

    if dataset_loaded(name):
        return load_dataset(name)
    with st.spinner("Loading dataset…"):
        return load_dataset(name)


def run_store():
    from aeviz.runs.store import RunStore

    return RunStore()


def current_dataset_name() -> str:
    return st.session_state.get(DATASET_KEY, "digits")


def set_current_dataset(name: str) -> None:
    """Make `name` the dataset every page uses (the sidebar's selector follows it)."""
    st.session_state[DATASET_KEY] = name


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_run(run_id: str, created: float):
    """A saved run with its model (keyed by creation time so a re-saved id reloads)."""
    return run_store().load(run_id)


# ---------------------------------------------------------------------------- session identity

SESSION_KEY = "aeviz_session"
SESSION_PARAM = "session"


def session_owner() -> str:
    """This browser tab's session id, minted and signed by the server (aeviz.jobs.sessions). It is kept in
    session state and in the URL (?session=...) so a reload finds the same background jobs; the id in
    the URL is accepted only from the browser it was minted for (it is signed with that browser's XSRF
    cookie), so a shared link gives the other browser a fresh session, never this one. An invented,
    foreign or expired id is refused the same way (an old id whose session has a tab open, a reload, is not
    expired)."""
    from aeviz.jobs import sessions
    from aeviz.jobs.presence import PRESENCE

    owner = st.session_state.get(SESSION_KEY)  # server-side state: the client cannot set it
    if not owner:
        # Without XSRF protection the browser holds nothing of its own to bind to: an id in the URL could be
        # a classmate's, copied from their address bar, so it is never taken (the app refuses to run then).
        binding = browser_binding()
        from_url = st.query_params.get(SESSION_PARAM) if xsrf_protected() else None
        live = isinstance(from_url, str) and PRESENCE.knows(from_url)
        owner = from_url if sessions.accept(from_url, binding, live=live) else sessions.mint(binding)
        st.session_state[SESSION_KEY] = owner
    if st.query_params.get(SESSION_PARAM) != owner:
        st.query_params[SESSION_PARAM] = owner
    return owner


XSRF_OPTION = "server.enableXsrfProtection"
XSRF_REFUSAL = ("This server was started with XSRF protection off (server.enableXsrfProtection=false). aeviz ties "
                "each student's session to their browser through Streamlit's XSRF cookie; without it, a session "
                "id copied from a classmate's address bar would open their session, their runs and their "
                "uploads. Whoever runs the server: restart it without that setting (aeviz serve always turns "
                "it on; behind a proxy, let the proxy pass the _streamlit_xsrf cookie).")


def xsrf_protected() -> bool:
    """Whether Streamlit checks its XSRF cookie: what binds a session to one browser (browser_binding)."""
    return bool(st.get_option(XSRF_OPTION))


def browser_binding() -> str:
    """A value only this browser holds: the token in Streamlit's XSRF cookie, which the server re-masks
    on every page load ("2|mask|masked token|time") but keeps; '' where XSRF protection is off."""
    try:
        raw = st.context.cookies.get("_streamlit_xsrf", "") or ""
    except Exception:  # no request context (bare script runs)
        return ""
    if not isinstance(raw, str):  # AppTest's stand-in context
        return ""
    parts = raw.strip("\"'").split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    except ValueError:
        return ""
    return raw


def job_manager():
    """The process-wide training job manager (shared by every session)."""
    from aeviz.jobs.manager import default_manager

    return default_manager()


# ---------------------------------------------------------------------------- device

device_info: dict[str, Any] = {}  # "name": what device_summary says; "gpu": whether the check found one


def has_gpu() -> bool:
    """Whether this server trains on a GPU (False while the check is still running, or found none)."""
    device_summary()
    return bool(device_info.get("gpu"))


def device_summary() -> str:
    """'CPU' or the GPU's name, without importing torch when there is no NVIDIA device node;
    otherwise torch is asked once in a background thread ('checking…' until it answers)."""
    import threading

    if "name" in device_info:
        return device_info["name"]
    if not os.path.exists("/dev/nvidiactl") and not os.environ.get("CUDA_VISIBLE_DEVICES"):
        device_info["name"] = "CPU"
        return "CPU"
    if not device_info.get("started"):
        device_info["started"] = "yes"

        def probe():
            try:
                from aeviz.training.device import resolve_device

                choice = resolve_device("auto")
                device_info["gpu"] = choice.device == "cuda"
                device_info["name"] = f"GPU: {choice.name}" if device_info["gpu"] else "CPU"
            except Exception as exc:  # torch broken: say so, train on nothing
                device_info["name"] = f"CPU (device check failed: {exc})"

        threading.Thread(target=probe, daemon=True, name="aeviz-device-probe").start()
    return "checking…"


# ---------------------------------------------------------------------------- dataset

def dataset_statuses() -> dict:
    """Each dataset's availability, cached 30 s per place the datasets are looked for (a change of
    AEVIZ_DATA_DIR, AEVIZ_CACHE_DIR or AEVIZ_OFFLINE is a new entry, never a stale answer)."""
    return _dataset_statuses(tuple(os.environ.get(name, "") for name in _DATASET_ENV))


_DATASET_ENV = ("AEVIZ_DATA_DIR", "AEVIZ_CACHE_DIR", "AEVIZ_OFFLINE")


@st.cache_data(ttl=30, show_spinner=False, max_entries=8)
def _dataset_statuses(where: tuple) -> dict:  # `where`: part of the cache's key
    from aeviz.data.datasets import all_dataset_names, dataset_status

    return {name: dataset_status(name).to_json() for name in all_dataset_names()}


dataset_statuses.clear = _dataset_statuses.clear


def offered_datasets(wanted: str | None = None) -> list[str]:
    """The datasets this session may choose: the built-in ones, the teacher's and its own uploads (never
    another session's). `wanted`: a name about to be chosen (a user dataset converted meanwhile is found)."""
    return _offered(wanted or current_dataset_name())[3]


def _offered(current: str) -> tuple[dict, dict, str, list[str]]:
    """(statuses, {user dataset: its owners, None when shared}, this session's owner key, the names it may
    choose)."""
    from aeviz.data.user.owners import visible
    from aeviz.data.user.store import user_root
    from ui.user_dataset import dataset_owners, session_key

    statuses = dataset_statuses()
    if current not in statuses and current.startswith("user:"):  # converted in another process meanwhile
        dataset_statuses.clear()
        statuses = dataset_statuses()
    tables = dataset_owners(tuple(statuses), str(user_root()))
    owner = session_key() if tables else ""
    # A user dataset is listed only for the sessions that uploaded it, or for all when it is the teacher's.
    return statuses, tables, owner, [name for name in statuses if visible(name, owner, tables.get(name))]


def dataset_selector(where=None, key: str = "dataset_choice") -> str:
    """A select box of the datasets (availability in the label) bound to st.session_state['dataset'];
    shows where the chosen one comes from, or why it is unavailable and how to fix that."""
    from ui.user_dataset import (OWN_CHOICE, delete_dataset_button, user_dataset_label,
                                 user_dataset_uploader)

    where = where or st
    current = current_dataset_name()
    statuses, tables, owner, names = _offered(current)
    names = names + [OWN_CHOICE]
    if current not in names:
        current = "digits"
    # The widget's key carries the current value: when another selector changes the dataset, this one
    # becomes a new widget starting at `current` (the browser would otherwise keep showing, and send
    # back, its own stale value).
    widget_key = f"{key}:{current}"
    if widget_key in st.session_state and st.session_state[widget_key] not in (current, OWN_CHOICE):
        del st.session_state[widget_key]  # a stale value from the last time this key was on screen

    def label(name: str) -> str:
        if name == OWN_CHOICE:
            return "Your own…"
        s = statuses[name]
        title = user_dataset_label(name, s["title"], tables[name], owner) if name in tables else s["title"]
        return title + ("" if s["available"] else " (not available)")

    def changed():
        if st.session_state[widget_key] != OWN_CHOICE:
            st.session_state[DATASET_KEY] = st.session_state[widget_key]

    chosen = where.selectbox("Dataset", names, index=names.index(current), format_func=label, key=widget_key,
                             on_change=changed)
    if chosen == OWN_CHOICE:  # the current dataset stays until a file is converted
        added = user_dataset_uploader(where, key)
        if added is None:
            return current
        dataset_statuses.clear()
        st.session_state[DATASET_KEY] = added
        st.rerun()
    st.session_state[DATASET_KEY] = chosen
    mine = (tables.get(chosen) or {}).get(owner)
    dataset_source(where, statuses[chosen], mine, shared=chosen in tables and tables[chosen] is None)
    if mine and delete_dataset_button(where, key, chosen, owner):
        dataset_statuses.clear()
        st.session_state[DATASET_KEY] = "digits"
        st.rerun()
    return chosen


def dataset_source(where, status: dict, mine: dict | None, shared: bool) -> None:
    """Where the chosen dataset comes from (a user dataset's file name as plain text: ui.plain_text), or why
    it is unavailable and how to fix that. `mine`: this session's entry as its owner; `shared`: the teacher's.
    A folder on the server is never in the caption (a class sees it on the projector): hovering shows it."""
    if not status["available"]:
        where.warning(f"{plain(status['title'])} is not available here. Looked in: " + "; ".join(status["tried"])
                      + f". To fix: {status['hint']}.")
        return
    source, path = source_and_path(status["source"])
    hover = f"On the server: {path}" if path else None
    if mine:  # under the name this session uploaded it as
        where.caption(f"Source: your file {plain(mine.get('file_name', ''))}", help=hover)
    elif shared:  # a user dataset the teacher added: every session's
        where.caption(f"Source: {plain(source.replace('your file', 'shared file', 1))}", help=hover)
    else:
        where.caption(f"Source: {plain(source)}", help=hover)


def source_and_path(source: str) -> tuple[str, str | None]:
    """A dataset's source ('AEVIZ_DATA_DIR: /data/FashionMNIST/raw') as the words a caption shows
    ('AEVIZ_DATA_DIR') and the server path it names, if any (kept out of captions)."""
    label, sep, rest = str(source).partition(": ")
    if sep and (rest[:1] in ("/", "~", "\\") or rest[1:3] in (":\\", ":/")):
        return label, rest
    return str(source), None


def dataset_or_stop(name: str | None = None):
    """The loaded dataset, or an error box and st.stop() when it cannot be loaded."""
    from aeviz.errors import AevizError

    name = name or current_dataset_name()
    try:
        return cached_dataset(name)
    except AevizError as exc:
        st.error(str(exc))
        st.stop()


def pca_curve(name: str):
    """PCA's test MSE per pixel for k = 0..D on dataset `name` (exact; kept with its fit within the PCA
    budget: aeviz.analysis.pca.FITS)."""
    from aeviz.analysis.pca import pca_test_mse_curve

    return pca_test_mse_curve(cached_dataset(name))
