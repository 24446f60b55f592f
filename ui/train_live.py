"""The live view of one training job, in two parts that the Train page redraws in two auto-refreshing
fragments: the status often, the figures less often."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis.comparison import pca_comparison_k, pca_comparison_words
from aeviz.facts import pca_verdict
from aeviz.jobs.executors import ON_RAY
from aeviz.jobs.queue_estimate import queue_starts
from aeviz.figures.training import (format_duration, loss_curves_figure, progress_text, snapshot_figure,
                                    test_mse_figure)
from ui.common import SESSION_KEY
from ui.formation import show_live_formation
from ui.theme import chart_columns, themed


def compared_k(view) -> int:
    """The number of PCA components the run is compared with (aeviz.facts: k, or a k-sparse run's active units)."""
    return pca_comparison_k(view.config.variant, view.config.k, view.config.params)


def pca_mse_at_k(view, pca_curve: np.ndarray) -> float:
    return float(pca_curve[min(compared_k(view), len(pca_curve) - 1)])


def show_status(view, manager, pca_curve: np.ndarray) -> None:
    """Header, Stop, progress bar or outcome, and the metrics: cheap enough to redraw every second or two."""
    k = view.config.k
    pca_mse = pca_mse_at_k(view, pca_curve)
    head, stop_col = st.columns([5, 1])
    head.subheader(view.label)
    me = st.session_state.get(SESSION_KEY)
    others = view.followers_besides(me) if view.active else 0
    if others:
        st.caption(f"{others} other session{'s' if others > 1 else ''} follow{'' if others > 1 else 's'} this run: "
                   f"it trains once for all of you.")
    if view.status == "queued":
        start = queue_starts(manager.jobs(), manager.max_running, manager.held_slots()).get(view.job_id)
        when = f", starts in about {format_duration(start)}" if start is not None else ""
        runs = "1 run" if manager.max_running == 1 else f"{manager.max_running} runs"
        head.info(f"Queued: position {view.queue_position}{when} (this server trains at most {runs} at once; "
                  f"the teacher sets that with AEVIZ_MAX_JOBS).")
        stop_col.button("Leave" if others else "Cancel", key=f"cancel.{view.job_id}", on_click=manager.stop,
                        args=(view.job_id, me), icon=":material/close:",
                        help="It stays queued for the other sessions that follow it." if others else None)
        return
    if view.active and view.where:  # on a Ray worker, or here because the cluster is out of reach
        (st.caption if view.where.startswith(ON_RAY) else st.info)(f"Training {view.where}.")
    if view.active:
        stop_col.button("Leave" if others else "Stop", key=f"stop.{view.job_id}", on_click=manager.stop,
                        args=(view.job_id, me), icon=":material/logout:" if others else ":material/stop:",
                        help="It goes on for the other sessions that follow it; its run is saved for all."
                        if others else "Stops within a second; the weights learned so far are kept and saved.")
        fraction = view.progress.fraction if view.progress is not None else 0.0
        st.progress(min(max(fraction, 0.0), 1.0), text=progress_text(view.progress) if view.status == "running"
                    else view.message)
    else:
        show_outcome(view, pca_mse)
    if view.started is not None:
        for warning in view.started.warnings:
            st.warning(warning)

    snapshot = view.snapshot
    current_mse = view.metrics.get("test_mse") if not view.active else (snapshot.test_mse if snapshot else None)
    m1, m2, m3 = st.columns(3)
    m1.metric("Test MSE" + (" (subset, live)" if view.active else ""),
              f"{current_mse:.4f}" if current_mse is not None else "…",
              delta=f"{current_mse - pca_mse:+.4f} vs PCA" if current_mse is not None else None,
              delta_color="inverse")
    m2.metric(f"PCA at k = {compared_k(view)}", f"{pca_mse:.4f}",
              help=pca_comparison_words(view.config.variant, k, view.config.params))
    if view.progress is not None:
        m3.metric("Samples per second", f"{view.progress.samples_per_second:,.0f}",  # fits a projector's third
                  help=f"{view.started.device_name if view.started else ''}; "
                       f"{format_duration(view.progress.elapsed)} of training")


def show_figures(view, pca_curve: np.ndarray) -> None:
    """Reconstructions, loss curves and the codes forming: the costly part of a redraw (several figures and
    their serialisation), so the Train page redraws it less often than the status."""
    if view.status == "queued":
        return
    pca_mse = pca_mse_at_k(view, pca_curve)
    words = pca_comparison_words(view.config.variant, view.config.k, view.config.params).split(" (")[0]
    snapshot = view.snapshot
    if snapshot is not None:
        st.plotly_chart(themed(snapshot_figure(snapshot.originals, snapshot.reconstructions,
                                        title=f"Test images and their reconstructions at step {snapshot.step}")),
                        key=f"snap.{view.job_id}", width="content")
    loss_col, mse_col = chart_columns(2)  # one after the other in projector mode
    if view.history:
        loss_col.plotly_chart(themed(loss_curves_figure(thin(view.history))), key=f"loss.{view.job_id}")
    if view.test_history:
        mse_col.plotly_chart(themed(test_mse_figure(view.test_history, pca_mse, title=f"Test MSE against {words}")),
                             key=f"testmse.{view.job_id}")
    show_live_formation(view)  # the codes forming (Explore's "watch it form"), live


def show_outcome(view, pca_mse: float) -> None:
    mse = view.metrics.get("test_mse")
    if view.status in ("completed", "stopped"):
        verdict = ""
        if mse is not None:
            verdict = (f" Test MSE {mse:.4f} {pca_verdict(mse, pca_mse)} PCA's {pca_mse:.4f}, "
                       f"{pca_comparison_words(view.config.variant, view.config.k, view.config.params)[4:]}.")
        saved = f" Saved as **{view.run_id}**." if view.run_id else ""
        box = st.success if view.status == "completed" else st.info
        if view.error:  # trained but not saved (e.g. a full disk): the model is kept; offer to save or download it
            box, saved = st.warning, (" The trained model stays in this app's memory: save it again once "
                                      "there is room, or download it (import it later on the Reconstructions page).")
        box(f"{'Finished' if view.status == 'completed' else 'Stopped'}: {view.message}.{verdict}{saved}")
        if view.error:
            offer_unsaved_result(view)
        if view.metrics:
            from ui.health import show_run_health

            show_run_health(view)
    elif view.status == "cancelled":
        st.info("Cancelled before it started.")
    else:
        st.error(view.message or view.error)


def offer_unsaved_result(view) -> None:
    """'Save again' and 'Download' for a trained run the run store could not write."""
    from aeviz.runs.archive import result_archive
    from aeviz.errors import AevizError
    from ui.common import job_manager, session_owner

    manager = job_manager()
    save_col, download_col = st.columns(2)
    if save_col.button("Save again", icon=":material/save:", key=f"save_again.{view.job_id}"):
        try:
            manager.save_again(view.job_id, owner=session_owner())
            st.rerun()
        except AevizError as exc:
            st.error(str(exc))
    result = manager.result(view.job_id)
    if result is not None:
        download_col.download_button("Download this run (.zip)", result_archive(result), f"{view.job_id}.zip",
                                     mime="application/zip", icon=":material/download:",
                                     key=f"download_unsaved.{view.job_id}")


def thin(rows: list, most: int = 400) -> list:
    """At most `most` rows, evenly spaced, the last one kept (plotting cost stays flat on long runs)."""
    if len(rows) <= most:
        return rows
    step = len(rows) / most
    return [rows[int(i * step)] for i in range(most - 1)] + [rows[-1]]
