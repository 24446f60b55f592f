"""One place where a page says that a run is far from converged (aeviz.analysis.health.run_health)."""

from __future__ import annotations

import streamlit as st

from aeviz.analysis.health import run_health


def show_run_health(run, pca_curve=None, where=None, label: str = "") -> None:
    """A note per message of run_health(run): what looks undertrained and what to change (each message
    headed by `label` when given, to say which of several runs it is about)."""
    where = where or st
    for message in run_health(run, pca_curve):
        where.info(f"**{label}**: {message}" if label else message, icon=":material/hourglass_top:")
