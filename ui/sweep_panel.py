"""A sweep of the shared engine (aeviz.sweeps) running in the background for one page section: start it,
and show it with the task panel (progress, Stop) and the page's own drawing of the sweep.

A section's sweep is kept per dataset: after the dataset is switched the section shows that dataset's
sweep (or none), never one whose runs were trained on other images (drawing those against this
dataset's test images failed with `mat1 and mat2 shapes cannot be multiplied`)."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from aeviz.errors import AevizError
from aeviz.jobs.sweep_executors import make_executor
from aeviz.sweeps.runner import SweepRunner
from ui.common import job_manager, session_owner
from ui.kept import keep, kept
from ui.task_panel import start_task, task_panel


def dataset_key(key: str, dataset: str) -> str:
    """Where a section's sweep on `dataset` is kept."""
    return f"{key}.{dataset}"


def current_sweep(key: str, dataset: str):
    """This session's sweep of section `key` on `dataset` (a SweepRunner), or None."""
    return kept(dataset_key(key, dataset))


def start_sweep(key: str, spec) -> None:
    """Start `spec` (a validated SweepSpec) on the local executor, kept for this session (ui.kept) as
    section `key`'s sweep on the spec's dataset. One sweep per section runs at a time, on any dataset; its
    points take turns with the server's other trainings (aeviz.jobs.sweep_executors.QueuedExecutor)."""
    old = kept(f"{key}.latest")
    if old is not None and old.running:
        raise AevizError(f"a sweep is already running here (on {old.sweep.spec.dataset}); stop it first")
    executor = make_executor("local", manager=job_manager(), owner=session_owner())
    runner = start_task(dataset_key(key, spec.dataset), SweepRunner(spec, executor))
    keep(f"{key}.latest", runner)


def sweep_section(key: str, draw: Callable, dataset: str) -> None:
    """Progress, a Stop button and `draw(sweep)` for section `key`'s sweep on `dataset`; redrawn every
    second while it runs (a fragment), then once more in full when it ends. A sweep of this section on
    another dataset is only named, not drawn."""
    runner = current_sweep(key, dataset)
    if runner is None:
        latest = kept(f"{key}.latest")
        if latest is not None and latest.sweep.spec.dataset != dataset:
            st.caption(f"The sweep started here was on {latest.sweep.spec.dataset}; switch the dataset back to "
                       f"{latest.sweep.spec.dataset} to see it{' (it is still running)' if latest.running else ''}.")
        return
    key = dataset_key(key, dataset)

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
        if not runner.running:
            undertrained_note(sweep)

    task_panel(key, runner, draw_sweep, stop_label="Stop the sweep", note_unfinished=False)


def undertrained_points(sweep) -> list:
    """Completed points whose run is far from converged by the one rule of aeviz.facts."""
    from aeviz.facts import far_from_converged
    from ui.common import pca_curve

    points = [p for p in completed_points(sweep) if isinstance(p.metrics.get("test_mse"), (int, float))
              and p.metrics.get("pca_test_mse") is not None]
    if not points:
        return []
    curve = pca_curve(sweep.spec.dataset)
    return [p for p in points if far_from_converged(p.metrics["test_mse"], curve)]


def undertrained_note(sweep) -> None:
    """A word beside the sweep's picture when some of its runs are too short to show anything."""
    from aeviz.facts import undertrained_words
    from ui.common import pca_curve

    late = undertrained_points(sweep)
    if not late:
        return
    budget = f"{sweep.spec.epochs:g} epochs" if sweep.spec.epochs else f"{sweep.spec.max_seconds:g} s"
    worst = max(late, key=lambda p: p.metrics["test_mse"])
    st.warning(f"{len(late)} of the {len(completed_points(sweep))} runs of this sweep are far from converged after "
               f"{budget} each ({worst.label}: {undertrained_words(worst.metrics['test_mse'], pca_curve(sweep.spec.dataset))}), "
               f"so what they show is an unfinished model. Give each run more epochs and run the sweep again.",
               icon=":material/hourglass_top:")


def completed_points(sweep) -> list:
    """Points of `sweep` trained and saved (they have a run id)."""
    return [p for p in sweep.points if p.status in ("completed", "diverged") and p.run_id]
