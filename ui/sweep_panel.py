"""A sweep of the shared engine (aeviz.sweeps) running in the background for one page section:
start it, show the sweep's progress and the current point's, stop it, and redraw as points finish."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from aeviz.errors import AevizError
from ui.kept import keep, kept


def start_sweep(key: str, spec) -> None:
    """Start `spec` (a validated SweepSpec) on the local executor, kept for this session (ui.kept)."""
    from aeviz.sweeps.engine import SweepRunner

    old = kept(key)
    if old is not None and old.running:
        raise AevizError("a sweep is already running here; stop it first")
    keep(key, SweepRunner(spec, executor="local").start())


def sweep_section(key: str, draw: Callable) -> None:
    """Progress, a Stop button and `draw(sweep)` for the sweep under `key`; redrawn every second
    while it runs (a fragment), then once more in full when it ends."""
    runner = kept(key)
    if runner is None:
        return

    @st.fragment(run_every=1.0 if runner.running else None)
    def panel():
        sweep, current = runner.snapshot()
        total = max(len(sweep.points), 1)
        done = sum(p.done for p in sweep.points)
        fraction = done / total + (current.fraction / total if current is not None else 0.0)
        text = f"{done} of {total} points trained"
        if current is not None:
            text += f" · now {current.point.label}: {current.fraction:.0%}"
        if runner.running:
            st.progress(min(fraction, 1.0), text=text)
            st.button("Stop the sweep", key=f"{key}_stop", on_click=runner.stop, icon=":material/stop:",
                      disabled=runner.stopping)
        else:
            st.caption(f"Sweep {sweep.sweep_id}: {sweep.message or sweep.status}")
        if runner.error:
            st.error(runner.error)
        for point in sweep.points:
            if point.status in ("failed", "diverged") and point.error:
                st.warning(f"{point.label}: {point.error}")
        try:
            draw(sweep)
        except AevizError as exc:
            st.error(str(exc))
        if not runner.running and st.session_state.get(f"{key}_was_running"):
            st.session_state[f"{key}_was_running"] = False
            st.rerun()
        st.session_state[f"{key}_was_running"] = runner.running

    panel()


def completed_points(sweep) -> list:
    """Points of `sweep` trained and saved (they have a run id)."""
    return [p for p in sweep.points if p.status in ("completed", "diverged") and p.run_id]
