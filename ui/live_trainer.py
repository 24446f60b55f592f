"""One Trainer running in a background thread for a page section (the anomaly model, AutoRec):
start it, show its progress with a Stop button, and hand its result to the page when it ends.
Unlike the job manager's jobs these trainers use page-made datasets and are not saved to the run store;
they are kept per browser session (the ?session= id in the URL) for the life of the server, so a reload
finds its training, running or finished."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import streamlit as st

from ui.common import session_owner

KEPT_TRAINERS = 64  # the most recent live trainers kept process-wide (each holds one small model)


class LiveTrainer:
    """Runs `trainer.run()` in a daemon thread, keeping the latest events (thread-safe reads)."""

    def __init__(self, trainer, label: str = "training"):
        self.trainer = trainer
        self.label = label
        self.progress = None
        self.snapshots: list = []
        self.finished = None
        self.error = ""
        self._thread = threading.Thread(target=self._work, daemon=True, name=f"aeviz-live-{label}")

    def start(self) -> "LiveTrainer":
        self._thread.start()
        return self

    def _work(self) -> None:
        from aeviz.errors import AevizError
        from aeviz.events import Finished, Progress, Snapshot

        try:
            for event in self.trainer.run():
                if isinstance(event, Progress):
                    self.progress = event
                elif isinstance(event, Snapshot):
                    self.snapshots.append(event)
                elif isinstance(event, Finished):
                    self.finished = event
        except AevizError as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug: keep the page alive and say what happened
            self.error = f"training failed unexpectedly ({type(exc).__name__}: {exc})"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self.trainer.stop()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def result(self):
        return self.finished.result if self.finished is not None else None


class _Kept:
    """Process-wide {(session owner, key): LiveTrainer}, the most recent KEPT_TRAINERS."""

    def __init__(self):
        self.lock = threading.Lock()
        self.trainers: OrderedDict[tuple[str, str], LiveTrainer] = OrderedDict()

    def put(self, owner: str, key: str, live: LiveTrainer) -> None:
        with self.lock:
            self.trainers[(owner, key)] = live
            self.trainers.move_to_end((owner, key))
            while len(self.trainers) > KEPT_TRAINERS:
                self.trainers.popitem(last=False)

    def get(self, owner: str, key: str) -> LiveTrainer | None:
        with self.lock:
            return self.trainers.get((owner, key))


@st.cache_resource(show_spinner=False)
def _kept() -> _Kept:
    return _Kept()


def start_live(key: str, trainer, label: str) -> LiveTrainer:
    """Start `trainer` in the background as this session's trainer `key` (replacing any before it)."""
    live = LiveTrainer(trainer, label).start()
    st.session_state[key] = live
    _kept().put(session_owner(), key, live)
    return live


def current_live(key: str) -> LiveTrainer | None:
    """This session's trainer `key`: from the session, or after a reload from the process-wide record."""
    live = st.session_state.get(key)
    if live is None:
        live = _kept().get(session_owner(), key)
        if live is not None:
            st.session_state[key] = live
    return live


def live_section(key: str, describe: Callable[[object], str] | None = None) -> LiveTrainer | None:
    """Progress bar and Stop button for this session's LiveTrainer `key` (see start_live), refreshed every
    second while it runs; reruns the page once when it ends. Returns the LiveTrainer (or None)."""
    live = current_live(key)
    if live is None:
        return None

    @st.fragment(run_every=1.0 if live.running else None)
    def panel():
        if live.running:
            progress = live.progress
            fraction = progress.fraction if progress is not None else 0.0
            text = f"{live.label}: starting…"
            if progress is not None:
                eta = f", about {progress.eta_seconds:.0f}s left" if progress.eta_seconds is not None else ""
                text = f"{live.label}: {fraction:.0%} (epoch {progress.epoch:.1f}{eta})"
                if describe is not None:
                    text += " · " + describe(progress)
            st.progress(min(max(fraction, 0.0), 1.0), text=text)
            st.button("Stop", key=f"{key}_stop", on_click=live.stop, icon=":material/stop:",
                      help="Stops after the current step; what was learned so far is kept.")
        elif live.error:
            st.error(live.error)
        elif live.finished is not None and live.finished.status != "completed":
            st.info(f"{live.label}: {live.finished.message}")
        if not live.running and st.session_state.get(f"{key}_was_running"):
            st.session_state[f"{key}_was_running"] = False
            st.rerun()
        st.session_state[f"{key}_was_running"] = live.running

    panel()
    return live
