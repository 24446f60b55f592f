"""Interrupted runs (the server stopped while they trained): the Train page tells the session that started
one and offers Resume / Keep; run pickers name them, since they are not in the lists until then."""

from __future__ import annotations

import streamlit as st

from ui.common import run_store

OUTCOME_KEY = "interrupted_outcome"


def _interrupted(dataset: str | None = None) -> list:
    from aeviz.runs.interrupted import interrupted_runs

    runs = interrupted_runs(run_store())
    return [r for r in runs if dataset is None or r.config.get("dataset") == dataset]


def interrupted_runs_note(dataset: str) -> None:
    """A line naming the interrupted runs on `dataset`, which the run lists leave out until kept or resumed."""
    runs = _interrupted(dataset)
    if runs:
        st.caption(f"Interrupted, not listed until resumed or kept on the Train page by the session that "
                   f"started it: {'; '.join(run.label for run in runs[:5])}{' …' if len(runs) > 5 else ''}")


def interrupted_notice(owner: str, manager, on_resume) -> None:
    """For each run of this session that the server's stop interrupted: what happened, Resume and Keep.
    `on_resume(view)`: what the page does with the resumed job's view (shows it)."""
    from aeviz.runs.checkpoints import owner_tag

    outcome = st.session_state.pop(OUTCOME_KEY, None)
    if outcome is not None:
        (st.error if outcome[0] == "error" else st.success)(outcome[1])
    tag = owner_tag(owner)
    resuming = {view.save_as for view in manager.jobs(owner=owner) if view.active}
    mine = [run for run in _interrupted() if run.owner_tag == tag and run.run_id not in resuming]
    for run in mine:
        with st.container(border=True):
            if run.damaged:
                st.warning(f"Your run **{run.run_id}** was interrupted when the server stopped, and its checkpoint "
                           f"cannot be used: {run.problem}")
                continue
            st.warning(f"Your run **{run.run_id}** was interrupted at epoch {run.epochs:.1f} when the server "
                       f"stopped. Its last checkpoint was kept: **Resume** goes on training from there to the "
                       f"run's budget; **Keep** saves it as it is, as a stopped run every page can use.",
                       icon=":material/warning:")
            resume_col, keep_col = st.columns(2)
            if resume_col.button("Resume", key=f"resume.{run.run_id}", icon=":material/play_arrow:"):
                _resume(run, owner, manager, on_resume)
            if keep_col.button("Keep", key=f"keep.{run.run_id}", icon=":material/save:"):
                _keep(run)


def _resume(run, owner: str, manager, on_resume) -> None:
    from aeviz.training.config import TrainConfig
    from aeviz.errors import AevizError

    try:
        view = manager.submit(TrainConfig.from_json(run.config), owner=owner, resume=run.run_id)
    except (AevizError, TypeError, ValueError) as exc:
        st.session_state[OUTCOME_KEY] = ("error", f"Cannot resume {run.run_id}: {exc}")
        st.rerun()
    on_resume(view)


def _keep(run) -> None:
    from aeviz.errors import AevizError
    from aeviz.runs.interrupted import keep_interrupted

    try:
        with st.spinner("Measuring it on the test set and saving it…"):
            keep_interrupted(run_store(), run.run_id)
    except AevizError as exc:
        st.session_state[OUTCOME_KEY] = ("error", f"Cannot keep {run.run_id}: {exc}")
    else:
        st.session_state[OUTCOME_KEY] = ("success", f"Kept **{run.run_id}** as a stopped run at epoch "
                                                    f"{run.epochs:.1f}: it is in every page's run list now.")
    st.rerun()
