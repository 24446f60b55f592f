"""On the Train page: when the chosen configuration is already trained on this server (same dataset,
variant, k, settings, budget and seed), offer that run at once instead of another training."""

from __future__ import annotations

import time

import streamlit as st

from ui.common import run_store

CHOSEN_KEY = "train_reused_run"


@st.cache_data(ttl=5, show_spinner=False, max_entries=256)
def reusable_run(fingerprint: str, config_json: dict, runs_root: str):
    """(run id, created, test MSE) of the newest saved run with this fingerprint in the runs folder
    `runs_root`, or None. Cached a few seconds: a class opening one link asks the same question many times."""
    from aeviz.runs.store import RunStore
    from aeviz.training.config import TrainConfig
    from aeviz.jobs.reuse import find_reusable

    info = find_reusable(RunStore(runs_root), TrainConfig.from_json(config_json))
    return None if info is None else (info.run_id, info.created, info.metrics.get("test_mse"))


def reuse_offer(config, manager=None, owner: str = "") -> str | None:
    """Says so when `config` was already trained here, with a button to open that run; returns the run
    id when the student chose it (kept for the session), else None. When it is being trained right now
    by another session, says that instead: it will be offered here once it finishes."""
    from aeviz.errors import AevizError
    from aeviz.training.fingerprint import config_fingerprint

    try:
        fingerprint = config_fingerprint(config)
        found = reusable_run(fingerprint, config.to_json(), str(run_store().root))
    except AevizError:
        return None
    if found is None:
        if manager is not None:
            training_elsewhere(manager, fingerprint, owner)
        return None
    run_id, created, mse = found
    if manager is not None and any(view.run_id == run_id for view in manager.jobs(owner=owner)):
        return None  # this session's own run: the page already shows it
    when = time.strftime("%H:%M", time.localtime(created))
    error = f", test MSE {mse:.4f}" if isinstance(mse, float) else ""
    st.info(f"This exact configuration was already trained on this server at {when}{error}. Open that run "
            f"at once, or press Train to train your own.", icon=":material/recycling:")
    if st.button(f"Open the run trained at {when}", key="train_reuse", icon=":material/folder_open:"):
        st.session_state[CHOSEN_KEY] = run_id
    if st.session_state.get(CHOSEN_KEY) == run_id:
        return run_id
    return None


def training_elsewhere(manager, fingerprint: str, owner: str) -> None:
    """A note when another session is training (or queuing) this very configuration."""
    from aeviz.training.fingerprint import config_fingerprint

    for view in manager.jobs():
        if view.active and not view.followed_by(owner) and config_fingerprint(view.config) == fingerprint:
            started = time.strftime("%H:%M", time.localtime(view.created))
            st.info(f"Another session started this exact configuration at {started} ({view.status}). Press "
                    f"**Follow this run** to watch it live, with no training of your own needed; once it "
                    f"finishes it is offered here too.", icon=":material/hourglass_top:")
            return


def show_reused_run(run_id: str) -> None:
    """Where to look at a reused run: the pages that compare and explain it, opened on it."""
    from ui.runs import page_link

    st.success(f"Opened run {run_id}: no training needed.", icon=":material/check_circle:")
    for page, label, icon in (("reconstructions.py", "Its reconstructions", ":material/compare:"),
                              ("latent_space.py", "Its latent space", ":material/scatter_plot:"),
                              ("lessons.py", "Check it against a lesson", ":material/school:")):
        page_link(page, label, icon, query_params={"runs": run_id})
