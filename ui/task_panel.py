"""One panel for any background task (aeviz.training.tasks: a page's trainer, a sweep): its progress and a Stop
button while it runs, then how it ended. The task is kept per browser session (ui.kept), so a reload
finds it again, running or ended, with its Stop button."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from aeviz.training.tasks import COMPLETED, FAILED, TrainerTask
from ui.common import job_manager, session_owner
from ui.kept import keep, kept

REFRESH_SECONDS = 1.0


def start_task(key: str, task) -> Any:
    """Start `task` as this session's task `key` (replacing any before it); returns it. A page's trainer
    (a TrainerTask) first waits for one of the server's training slots, as the Train page's jobs do (a
    sweep's points each wait for theirs: aeviz.jobs.sweep_executors)."""
    if isinstance(task, TrainerTask):
        task.take_turns(job_manager().slot_gate(session_owner(), task.label, queued_at=task.queued_at))
    return keep(key, task.start())


def task_section(key: str, draw: Callable[[Any], None] | None = None, *, stop_label: str = "Stop",
                 stop_help: str | None = "Stops after the current step; what was learned so far is kept.",
                 note_unfinished: bool = True, on_stop: Callable[[Any], Any] | None = None) -> Any:
    """The panel for this session's task `key` (see start_task), or nothing; returns the task (or None)."""
    task = kept(key)
    if task is not None:
        task_panel(key, task, draw, stop_label=stop_label, stop_help=stop_help, note_unfinished=note_unfinished,
                   on_stop=on_stop)
    return task


def task_panel(key: str, task, draw: Callable[[Any], None] | None = None, *, stop_label: str = "Stop",
               stop_help: str | None = None, note_unfinished: bool = True,
               on_stop: Callable[[Any], Any] | None = None) -> None:
    """Progress and Stop while `task` runs, its failure (or, with `note_unfinished`, why it ended early)
    after, then `draw(task)`: redrawn every second while it runs (a fragment), and the whole page once
    more when it ends, so what depends on the result (buttons, figures) redraws with it. Stop calls
    `on_stop(task)` if given (a task several sessions share: this session leaves it), else `task.stop()`."""
    stop = task.stop if on_stop is None else (lambda: on_stop(task))

    @st.fragment(run_every=REFRESH_SECONDS if task.running else None)
    def panel():
        running = task.running
        if running:
            job_manager().touch(session_owner())  # a sign the tab is open: its work is not abandoned
            progress = task.progress
            st.progress(min(max(progress.fraction, 0.0), 1.0), text=progress.text)
            st.button(stop_label, key=f"{key}_stop", on_click=stop, icon=":material/stop:",
                      disabled=task.stopping, help=stop_help)
        elif task.status == FAILED:
            st.error(task.message)
        elif note_unfinished and task.status != COMPLETED:
            st.info(f"{task.label}: {task.message}")
        if draw is not None:
            draw(task)
        rerun_when_ended(key, running)

    panel()


def rerun_when_ended(key: str, running: bool) -> None:
    """Inside a fragment (which redraws only itself): rerun the whole page once when the task under `key`
    was running at the last redraw and is not now."""
    flag = f"{key}_was_running"
    if not running and st.session_state.get(flag):
        st.session_state[flag] = False
        st.rerun()
    st.session_state[flag] = running
