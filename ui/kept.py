"""Background work a page starts (live trainers, sweep runners) kept per browser session while the session
lasts (the most recent KEPT_MOST; what a session gone kept is dropped, but for work still running:
aeviz.jobs.presence).
Streamlit's session state is lost on a reload; the session id in the URL (?session=) is not, so a reload
finds its training or sweep again, running or finished, with its Stop button."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

from aeviz.jobs.presence import PRESENCE
from ui.common import session_owner

KEPT_MOST = 128  # the most recent objects kept process-wide (each a small model or a sweep's state)


class KeptObjects:
    """{(session owner, key): object}, the most recent KEPT_MOST, safe across sessions' threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objects: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def put(self, owner: str, key: str, value: Any) -> None:
        with self.lock:
            self.objects[(owner, key)] = value
            self.objects.move_to_end((owner, key))
            while len(self.objects) > KEPT_MOST:
                self.objects.popitem(last=False)

    def get(self, owner: str, key: str) -> Any:
        with self.lock:
            return self.objects.get((owner, key))

    def forget_owner(self, owner: str) -> None:
        """Drop what `owner`'s session kept (its tabs have closed: aeviz.jobs.presence), but for work still
        running (a sweep, a page's training), which its session finds again if it comes back."""
        with self.lock:
            for entry in [entry for entry, value in self.objects.items()
                          if entry[0] == owner and not getattr(value, "running", False)]:
                del self.objects[entry]


@st.cache_resource(show_spinner=False)
def _kept() -> KeptObjects:
    kept_objects = KeptObjects()
    PRESENCE.on_forget(kept_objects.forget_owner)
    return kept_objects


def keep(key: str, value: Any) -> Any:
    """Keep `value` as this session's `key` (in session state and process-wide); returns it."""
    st.session_state[key] = value
    _kept().put(session_owner(), key, value)
    return value


def kept(key: str) -> Any:
    """This session's `key`: from session state, or after a reload from the process-wide record (None if
    never kept)."""
    value = st.session_state.get(key)
    if value is None:
        value = _kept().get(session_owner(), key)
        if value is not None:
            st.session_state[key] = value
    return value
