"""One Trainer running in a background thread for a page section (the anomaly model, AutoRec):
start it, show its progress with a Stop button, and hand its result to the page when it ends.
Unlike the job manager's jobs these trainers use page-made datasets and are not saved to the run store;
they are kept per browser session (ui.kept), so a reload finds its training, running or finished."""

from __future__ import annotations

import threading
from typing import Callable

import streamlit as st

from ui.kept import keep, kept


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


def start_live(key: str, trainer, label: str) -> LiveTrainer:
    """Start `trainer` in the background as this session's trainer `key` (replacing any before it)."""
    return keep(key, LiveTrainer(trainer, label).start())


def live_section(key: str, describe: Callable[[object], str] | None = None) -> LiveTrainer | None:
    """Progress bar and Stop button for this session's LiveTrainer `key` (see start_live), refreshed every
    second while it runs; reruns the page once when it ends. Returns the LiveTrainer (or None)."""
    live = kept(key)
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
