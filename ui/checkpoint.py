"""Import a run archive (.zip) as a saved run, or download a saved run as one (Reconstructions page)."""

from __future__ import annotations

import streamlit as st

from ui.common import run_store


@st.cache_data(show_spinner=False, max_entries=8)
def _archive(run_id: str, created: float) -> bytes:
    from aeviz.runs.archive import export_run

    return export_run(run_store(), run_id)


def checkpoint_panel(infos: list, key: str = "checkpoint") -> None:
    """An expander with an uploader (checked, then saved as a new run) and a download of a chosen run."""
    from aeviz.errors import AevizError

    # open after an import, so its outcome (what was measured, or why it was refused) is seen
    with st.expander("Import or download a run", icon=":material/upload_file:",
                     expanded=st.session_state.get(f"{key}_outcome") is not None):
        upload = st.file_uploader("A run archive (.zip from “Download this run”), up to 5 MB", type=["zip", "pt"],
                                  key=f"{key}_upload",
                                  help="Weights are read as plain tensors only: a file holding pickled code "
                                       "is refused and nothing in it runs.")
        if upload is not None and st.button("Import as a new run", key=f"{key}_import",
                                            icon=":material/upload:"):
            from aeviz.runs.archive import import_run

            try:
                run_id = import_run(upload.getvalue(), run_store(), upload.name)
            except AevizError as exc:
                st.session_state[f"{key}_outcome"] = ("error", str(exc))
            else:
                metrics = run_store().info(run_id).metrics
                st.session_state[f"{key}_outcome"] = (
                    "success", f"Imported as **{run_id}**, labelled “imported” in the run lists of every page. "
                               f"Measured here: test MSE {metrics['test_mse']:.4f}; {metrics['status']} after "
                               f"{metrics['epochs']:.2f} epochs by the history it holds. An imported run is never "
                               f"offered as already trained, nor used as a lesson's reference.")
            st.rerun()
        outcome = st.session_state.get(f"{key}_outcome")
        if outcome is not None:
            (st.error if outcome[0] == "error" else st.success)(outcome[1])
        if infos:
            by_id = {info.run_id: info for info in infos}
            run_id = st.selectbox("Run to download", list(by_id), key=f"{key}_pick",
                                  format_func=lambda r: by_id[r].label)
            try:
                data = _archive(run_id, by_id[run_id].created)
            except AevizError as exc:
                st.error(str(exc))
            else:
                st.download_button("Download this run", data, file_name=f"{run_id}.zip", mime="application/zip",
                                   key=f"{key}_download", icon=":material/download:")
