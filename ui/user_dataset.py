"""Your own images in the app: the dataset selector's "your own…" choice (an upload, converted and cached
by aeviz.user_data), and a note on pages that need labels when a dataset has none."""

from __future__ import annotations

import streamlit as st

from ui.plain_text import plain

OWN_CHOICE = "your own…"


def upload_limit_mb() -> int:
    """The smaller of the library's file limit and the server's upload limit (server.maxUploadSize)."""
    from aeviz.user_data.limits import MAX_FILE_BYTES

    return int(min(MAX_FILE_BYTES // 2**20, st.get_option("server.maxUploadSize")))


def user_dataset_uploader(where, key: str) -> str | None:
    """An uploader and an image-size choice; returns the new dataset's name once a file is converted."""
    from aeviz.errors import AevizError
    from aeviz.user_data import import_file
    from aeviz.user_data.limits import DEFAULT_SIZE, MAX_IMAGES, MAX_SIZE, MIN_SIZE

    where.caption(f"A .zip of one folder per class of PNG/JPEG images, an .npz with `images` (N, H, W[, C]) and "
                  f"optional `labels`, or a Kaggle-MNIST .csv (`label,pixel0,…`). Up to {upload_limit_mb()} MB here "
                  f"and {MAX_IMAGES:,} images; larger files with `python -m aeviz datasets --add FILE`. Converted to "
                  f"grey squares and split 80/20 (seeded).")
    upload = where.file_uploader("Your images", type=["zip", "npz", "csv"], key=f"{key}_file")
    size = where.number_input("Image size (pixels per side)", MIN_SIZE, MAX_SIZE, DEFAULT_SIZE, key=f"{key}_size")
    if upload is None or not where.button("Use this file", key=f"{key}_use"):
        return None
    try:
        with st.spinner(f"Converting {plain(upload.name)}…"):
            info = import_file(upload.getvalue(), upload.name, int(size))
    except AevizError as exc:
        where.error(str(exc))
        return None
    for note in info.notes:
        where.caption(note)
    return info.name


def note_if_unlabelled(dataset, what: str, stop: bool = False) -> None:
    """Say what a page cannot show on a dataset without labels (and stop the page when nothing is left)."""
    if getattr(dataset, "labelled", True):
        return
    st.info(f"{plain(dataset.title)} has no labels: {what}")
    if stop:
        st.stop()
