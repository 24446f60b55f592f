"""A sweep of the shared engine (aeviz.sweeps) running in the background for one page section: start it,
and show it with the task panel (progress, Stop) and the page's own drawing of the sweep."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from aeviz.errors import AevizError
from ui.common import job_manager, session_owner
from ui.kept import kept
from ui.task_panel import start_task, task_panel


def start_sweep(key: str, spec) -> None:
    """Start `spec` (a validated SweepSpec) on the local executor, kept for this session (ui.kept); its points
    take turns with the server's other trainings (aeviz.jobs.sweep_executors.QueuedExecutor)."""
    from aeviz.jobs.sweep_executors import make_executor
    from aeviz.sweeps.runner import SweepRunner

    old = kept(key)
    if old is not None and old.running:
        raise AevizError("a sweep is already running here; stop it first")
    start_task(key, SweepRunner(spec, make_executor("local", manager=job_manager(), owner=session_owner())))


def sweep_section(key: str, draw: Callable) -> None:
    """Progress, a Stop button and `draw(sweep)` for the sweep under `key`; redrawn every second
    while it runs (a fragment), then once more in full when it ends."""
    runner = kept(key)
    if runner is None:
        return

    def draw_sweep(runner) -> None:
        sweep, _ = runner.snapshot()
        if not runner.running:
            st.caption(f"Sweep {sweep.sweep_id}: {sweep.message or sweep.status}")
        for point in sweep.points:
            if point.status in ("failed", "diverged") and point.error:
                st.warning(f"{point.label}: {point.error}")
        try:
            draw(sweep)
        except AevizError as exc:
            st.error(str(exc))

    task_panel(key, runner, draw_sweep, stop_label="Stop the sweep", note_unfinished=False)


def completed_points(sweep) -> list:
    """Points of `sweep` trained and saved (they have a run id)."""
    return [p for p in sweep.points if p.status in ("completed", "diverged") and p.run_id]
