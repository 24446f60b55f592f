"""Your own images in the app: the dataset selector's "your own…" choice (an upload, converted in the
background with a progress bar, and cached, by aeviz.jobs.conversions and aeviz.data.user), and a note on
pages that need labels when a dataset has none. An upload belongs to
the session that made it (aeviz.data.user.owners): only it lists it, under its own file name, within the
server's quotas, and it can delete it."""

from __future__ import annotations

import streamlit as st

from ui.kept import keep, kept
from ui.plain_text import plain
from ui.task_panel import rerun_when_ended

OWN_CHOICE = "your own…"
CONVERSION_KEY = "user_dataset_conversion"  # this session's conversion of an upload (ui.kept: found after a reload)
CONVERSION_REFRESH_SECONDS = 1.0


def upload_limit_mb() -> int:
    """The smaller of the library's file limit and the server's upload limit (server.maxUploadSize)."""
    from aeviz.data.user.limits import MAX_FILE_BYTES

    return int(min(MAX_FILE_BYTES // 2**20, st.get_option("server.maxUploadSize")))


def session_key() -> str:
    """This session's key as the owner of datasets (never its id)."""
    from aeviz.data.user.owners import owner_key
    from ui.common import session_owner

    return owner_key(session_owner())


@st.cache_data(ttl=5, show_spinner=False)
def dataset_owners(names: tuple[str, ...], root: str) -> dict:
    """{user dataset name: its owners table, or None when shared}: read once for every session's selector.
    `root`: the user datasets' folder (aeviz.data.user.store.user_root), part of the cache's key."""
    from aeviz.errors import AevizError
    from aeviz.data.user import is_user_dataset
    from aeviz.data.user.owners import owners

    table = {}
    for name in names:
        if is_user_dataset(name):
            try:
                table[name] = owners(name)
            except AevizError:
                table[name] = {}
    return table


def user_dataset_label(name: str, title: str, table: dict | None, owner: str) -> str:
    """A user dataset in the selector: the file name this session uploaded it under (a shared one's own),
    its size, and whose it is."""
    from aeviz.data.user.store import plain_file_name

    own = (table or {}).get(owner) or {}
    file_name = own.get("file_name") or title.rsplit(" (", 1)[0]
    size = name.rsplit("-", 1)[-1]
    return f"{plain_file_name(file_name)} ({size}x{size}, {'shared' if table is None else 'yours'})"


def delete_dataset_button(where, key: str, name: str, owner: str) -> bool:
    """A Delete button under a dataset this session owns; True once it is deleted (or let go of)."""
    from aeviz.errors import AevizError
    from aeviz.data.user.owners import release

    if not where.button("Delete this dataset", key=f"{key}_delete", icon=":material/delete:",
                        help="Only you see your datasets; this removes it (runs trained on it keep their weights)."):
        return False
    try:
        release(name, owner)
    except AevizError as exc:
        where.error(str(exc))
        return False
    dataset_owners.clear()
    return True


def user_dataset_uploader(where, key: str) -> str | None:
    """An uploader and an image-size choice. A file is converted in the background (aeviz.jobs.conversions):
    the script run returns at once and a progress bar follows the conversion; returns the new dataset's
    name (made this session's, within the server's quotas) on the run after it has finished."""
    from aeviz.errors import AevizError
    from aeviz.jobs.conversions import default_conversions
    from aeviz.data.user.limits import DEFAULT_SIZE, MAX_IMAGES, MAX_SIZE, MIN_SIZE

    where.caption(f"A .zip of one folder per class of PNG/JPEG images, an .npz with `images` (N, H, W[, C]) and "
                  f"optional `labels`, or a Kaggle-MNIST .csv (`label,pixel0,…`, up to 64x64 pixels a row). Up to {upload_limit_mb()} MB here "
                  f"and {MAX_IMAGES:,} images; larger files with `python -m aeviz datasets --add FILE`. Converted to "
                  f"grey squares and split 80/20 (seeded).")
    upload = where.file_uploader("Your images", type=["zip", "npz", "csv"], key=f"{key}_file")
    size = where.number_input("Image size (pixels per side)", MIN_SIZE, MAX_SIZE, DEFAULT_SIZE, key=f"{key}_size")
    if upload is not None and where.button("Use this file", key=f"{key}_use"):
        try:  # refused at once while this session converts another file, or holds all it may
            keep(CONVERSION_KEY, default_conversions().start(session_key(), upload.getvalue(), upload.name,
                                                             int(size)))
        except AevizError as exc:
            where.error(plain(str(exc)))
    conversion = kept(CONVERSION_KEY)
    return conversion_panel(where, key, conversion) if conversion is not None else None


def conversion_panel(where, key: str, conversion) -> str | None:
    """This session's conversion: its progress and a Stop button while it runs (redrawn every second, and
    the whole page once when it ends); then the new dataset's name (once: the conversion is let go), or
    why it failed."""
    from aeviz.training.tasks import CANCELLED, COMPLETED, FAILED, STOPPED

    @st.fragment(run_every=None if conversion.done else CONVERSION_REFRESH_SECONDS)
    def panel():
        running = not conversion.done
        if running:
            progress = conversion.progress
            st.progress(min(max(progress.fraction, 0.0), 1.0), text=plain(progress.text))
            st.button("Stop converting", key=f"{key}_conversion_stop", on_click=conversion.stop,
                      icon=":material/stop:", disabled=conversion.stopping)
        rerun_when_ended(f"{key}_conversion", running)

    with where.container():
        panel()
    status = conversion.status
    if status == COMPLETED and conversion.result is not None:
        keep(CONVERSION_KEY, None)
        dataset_owners.clear()
        for note in conversion.result.notes:
            where.caption(plain(note))
        return conversion.result.name
    if status == FAILED:
        where.error(plain(conversion.message))
    elif status in (STOPPED, CANCELLED):
        where.info(plain(f"{conversion.file_name} was not converted: {conversion.message}"))
    return None


def note_if_unlabelled(dataset, what: str, stop: bool = False) -> None:
    """Say what a page cannot show on a dataset without labels (and stop the page when nothing is left)."""
    if getattr(dataset, "labelled", True):
        return
    st.info(f"{plain(dataset.title)} has no labels: {what}")
    if stop:
        st.stop()
