"""On the Train page: what pressing Train will do for this session, given the server's queue: follow a run
already training the same configuration (no second training), or queue one more of its own within the
per-session limit (aeviz.jobs.manager: max_queued, AEVIZ_MAX_QUEUED_PER_SESSION), said on the button and
below it."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

START_ERROR_KEY = "train_start_error"


@dataclass(frozen=True)
class TrainButton:
    label: str
    disabled: bool    # its queue is full, or it has these settings on the way (following is never refused)
    caption: str      # "" when there is nothing to say


def train_button(manager, owner: str, valid, busy: bool) -> TrainButton:
    """The Train button for `valid` (None: the settings have a problem) in this session's state."""
    same = manager.active_job_for(valid) if valid is not None else None
    if same is not None and same.followed_by(owner):
        return TrainButton("Training these settings", True,
                           "This session's run of these settings is on its way; change a setting to train another.")
    if same is not None:
        others = len(same.followers)
        return TrainButton("Follow this run", False,
                           f"{others} other session(s) already {same.status} this exact configuration: pressing "
                           f"follows that run live, with no second training.")
    limit, waiting = manager.max_queued, manager.queued_count(owner)
    if limit is not None and waiting >= limit:
        return TrainButton("Queue full", True, f"You have {waiting} runs or tasks waiting in the queue, the most one session "
                                               f"may queue on this server: cancel one or wait for one to start.")
    caption = (f"You may have up to {limit} runs or tasks waiting in the queue ({waiting} now)."
               if busy and limit is not None else "")
    return TrainButton("Queue this run" if busy else "Train", False, caption)


def show_start_error() -> None:
    """Why the last press did not start anything (the queue was full by then), once."""
    error = st.session_state.pop(START_ERROR_KEY, None)
    if error:
        st.error(error)


def note_start_error(message: str) -> None:
    st.session_state[START_ERROR_KEY] = message
