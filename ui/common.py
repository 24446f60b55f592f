"""Cached resources and small widgets every page uses."""

from __future__ import annotations

import streamlit as st

DATASET_KEY = "dataset"


@st.cache_resource(show_spinner="Loading dataset…")
def cached_dataset(name: str):
    from aeviz.data import load_dataset

    return load_dataset(name)


def run_store():
    from aeviz.runs import RunStore

    return RunStore()


def current_dataset_name() -> str:
    return st.session_state.get(DATASET_KEY, "digits")


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_run(run_id: str, created: float):
    """A saved run with its model (keyed by creation time so a re-saved id reloads)."""
    return run_store().load(run_id)
