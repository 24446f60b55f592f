"""A place on the server for this browser tab. The app shell lets a tab in while fewer than
AEVIZ_MAX_SESSIONS sessions hold a place (aeviz.jobs.presence; another tab or a reload of a session shares its
place), tells a newcomer past that that the server is full instead of showing the page, and forgets the
sessions whose tabs have all been closed for two minutes (their bookkeeping with them)."""

from __future__ import annotations

from typing import Callable

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from aeviz.jobs.presence import PRESENCE
from aeviz.server_settings import MAX_SESSIONS_ENV, max_sessions_from_env


def tab_id() -> str | None:
    """This tab's connection (Streamlit's session id: a reload gets a new one), None outside a script run."""
    context = get_script_run_ctx()
    return context.session_id if context is not None else None


def connection_check() -> Callable[[str], bool] | None:
    """How to tell whether a tab is still connected: the Streamlit server's own record. None without a real
    server (a bare script run; AppTest's stand-in runtime): then no tab is counted, and none refused."""
    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    return runtime.is_active_session if type(runtime) is Runtime else None


def full_message(count: int, limit: int) -> str:
    minutes = PRESENCE.grace_seconds / 60
    using = "1 session is" if count == 1 else f"{count} sessions are"
    return (f"This server is full: {using} using it, the most it serves at once "
            f"({MAX_SESSIONS_ENV}={limit}). Try again in a minute or two: a place frees up {minutes:g} "
            f"minute{'s' if minutes != 1 else ''} after someone closes their tab. If it stays full, ask your teacher.")


def admit_or_stop(owner: str) -> None:
    """Let this tab in under session `owner`, or say the server is full and stop the script (the page is not
    drawn; nothing of the newcomer is kept)."""
    connected, tab = connection_check(), tab_id()
    if connected is None or tab is None:
        return
    PRESENCE.sweep(connected)  # sessions gone for good leave first, making room
    limit = max_sessions_from_env()
    if PRESENCE.join(owner, tab, limit):
        return
    st.error(full_message(PRESENCE.count(), limit), icon=":material/group_off:")
    st.button("Try again", key="admission_retry", icon=":material/refresh:")
    st.stop()
