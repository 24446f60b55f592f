"""Which sessions have a browser tab open now: how many the server serves at once, and when a session is
gone (its bookkeeping with it).

A tab (the app's connection: Streamlit's session) joins under its session id (aeviz.jobs.sessions) as the
app shell runs. Every tab of a session, or its reload, shares one place; a newcomer is admitted while fewer
than `limit` sessions hold one (AEVIZ_MAX_SESSIONS). `sweep(connected)` asks which tabs are still
connected: a tab disconnected for `grace_seconds` (SESSION_GRACE_SECONDS, 2 minutes: a reload, a dropped
network or a sleeping laptop come back well within it) is dropped, and a session without tabs is gone:
it is forgotten here, and each `on_forget` callback (the job manager, the pages' kept objects) forgets it
too. Nothing here imports Streamlit: the app passes its tabs' ids and how to tell a connected one.

    PRESENCE.join(session_id, tab_id, limit=200)   # False: the server is full for this newcomer
    PRESENCE.sweep(lambda tab: runtime.is_active_session(tab))
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from aeviz.server_settings import SESSION_GRACE_SECONDS
from aeviz.serving.allocator import give_back_free_memory


class Presence:
    """The sessions with a tab open (or closed for less than `grace_seconds`), and their tabs. Thread-safe."""

    def __init__(self, grace_seconds: float = SESSION_GRACE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.grace_seconds = grace_seconds
        self.clock = clock
        self._lock = threading.RLock()
        self._tab_session: dict[str, str] = {}          # tab -> its session
        self._session_tabs: dict[str, set[str]] = {}    # session -> its tabs
        self._disconnected: dict[str, float] = {}       # tab -> when a sweep first found it disconnected
        self._on_forget: list[Callable[[str], None]] = []

    def on_forget(self, callback: Callable[[str], None]) -> None:
        """Call `callback(session)` for each session the sweep forgets (outside the lock)."""
        with self._lock:
            self._on_forget.append(callback)

    def join(self, session: str, tab: str, limit: int | None = None) -> bool:
        """Tab `tab` shows session `session`: True, and it holds the session's place, if the session already
        has one (another tab, a reload) or fewer than `limit` sessions have one; False otherwise (nothing is
        recorded: the newcomer holds no place)."""
        forgotten = []
        with self._lock:
            if self._tab_session.get(tab) == session:
                self._disconnected.pop(tab, None)
                return True
            if session not in self._session_tabs and limit is not None and len(self._session_tabs) >= limit:
                return False
            previous = self._tab_session.get(tab)
            if previous is not None:  # the tab shows another session now: it leaves the one it showed
                forgotten = self._drop_tab(tab)
            self._tab_session[tab] = session
            self._session_tabs.setdefault(session, set()).add(tab)
        self._tell(forgotten)
        return True

    def knows(self, session: str) -> bool:
        """Whether `session` holds a place: a tab of it is open, or closed for less than the grace."""
        with self._lock:
            return session in self._session_tabs

    def count(self) -> int:
        """The sessions holding a place."""
        with self._lock:
            return len(self._session_tabs)

    def tabs(self) -> int:
        """The tabs known (open, or disconnected for less than the grace)."""
        with self._lock:
            return len(self._tab_session)

    def sweep(self, connected: Callable[[str], bool]) -> list[str]:
        """Ask `connected(tab)` of every tab: a tab disconnected for longer than the grace is dropped, and a
        session left without tabs is forgotten (returned; each on_forget callback is told)."""
        now = self.clock()
        forgotten = []
        with self._lock:
            for tab in list(self._tab_session):
                if connected(tab):
                    self._disconnected.pop(tab, None)
                elif now - self._disconnected.setdefault(tab, now) > self.grace_seconds:
                    forgotten += self._drop_tab(tab)
        self._tell(forgotten)
        return forgotten

    def forget(self) -> None:
        """Forget every tab and session (what a new server process starts with); callbacks stay."""
        with self._lock:
            self._tab_session.clear()
            self._session_tabs.clear()
            self._disconnected.clear()

    def _drop_tab(self, tab: str) -> list[str]:
        """Drop `tab`; its session if that leaves it without tabs (returned). Called with the lock held."""
        session = self._tab_session.pop(tab)
        self._disconnected.pop(tab, None)
        tabs = self._session_tabs[session]
        tabs.discard(tab)
        if tabs:
            return []
        del self._session_tabs[session]
        return [session]

    def _tell(self, forgotten: list[str]) -> None:
        with self._lock:
            callbacks = list(self._on_forget)
        for session in forgotten:
            for callback in callbacks:
                callback(session)
        if forgotten:  # what they kept is freed now: its pages go back to the system
            give_back_free_memory()


PRESENCE = Presence()  # the process's one record (the app's sessions)
