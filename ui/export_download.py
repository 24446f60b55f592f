"""A run's exports as downloads: choose a format, build it (on request: ONNX takes seconds), download a zip."""

from __future__ import annotations

import streamlit as st

_BUILT_KEY = "export_download_built"


def export_downloads(info, dataset_name: str, key: str) -> None:
    """An expander to download `info`'s run (a RunInfo) in any export format, as a zip."""
    from aeviz.export import FORMATS

    with st.expander("Export this run (Embedding Projector, codes, ONNX model)"):
        fmt = st.selectbox("Format", list(FORMATS), format_func=lambda name: f"{name}: {FORMATS[name]}",
                           key=f"{key}_format")
        wanted = (info.run_id, info.created, dataset_name, fmt)
        built = st.session_state.get(_BUILT_KEY)
        if built is None or built[0] != wanted:
            if not st.button("Prepare the download", key=f"{key}_prepare"):
                st.caption("Builds the files from the run's test codes; ONNX and TorchScript models are run "
                           "back on the test images to check that they reproduce the codes.")
                return
            built = _build(info, dataset_name, fmt, wanted)
            if built is None:
                return
        _, payload, result = built
        for note in result.notes:
            st.caption(note)
        failed = [name for name, check in result.checks.items() if isinstance(check, dict) and not check["passed"]]
        if failed:
            st.warning(f"The exported {' and '.join(failed)} did not reproduce the library's outputs: see the notes.")
        st.download_button(f"Download {fmt} export (.zip, {len(payload) / 1e6:.1f} MB)", payload,
                           file_name=f"{info.run_id}-{fmt}.zip", mime="application/zip", key=f"{key}_download")


def _build(info, dataset_name: str, fmt: str, wanted: tuple):
    from aeviz.errors import AevizError
    from aeviz.export import export_zip
    from ui.common import cached_dataset, cached_run

    try:
        with st.spinner(f"Exporting {fmt}…"):
            payload, result = export_zip(cached_run(info.run_id, info.created), cached_dataset(dataset_name), fmt)
    except AevizError as exc:
        st.error(str(exc))
        return None
    built = (wanted, payload, result)
    st.session_state[_BUILT_KEY] = built  # one export kept per session: the latest
    return built
