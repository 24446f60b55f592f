"""Your own images in the app: the dataset selector's "your own…" choice (an upload, converted and cached
by aeviz.data.user), and a note on pages that need labels when a dataset has none. An upload belongs to
the session that made it (aeviz.data.user.owners): only it lists it, under its own file name, within the
server's quotas, and it can delete it."""

from __future__ import annotations

import streamlit as st

from ui.plain_text import plain

OWN_CHOICE = "your own…"


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
def dataset_owners(names: tuple[str, ...]) -> dict:
    """{user dataset name: its owners table, or None when shared}: read once for every session's selector."""
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
    """An uploader and an image-size choice; returns the new dataset's name once a file is converted (and
    made this session's, within the server's quotas)."""
    from aeviz.errors import AevizError
    from aeviz.data.user import import_file
    from aeviz.data.user.limits import DEFAULT_SIZE, MAX_IMAGES, MAX_SIZE, MIN_SIZE
    from aeviz.data.user.owners import check_bytes, check_room, claim

    where.caption(f"A .zip of one folder per class of PNG/JPEG images, an .npz with `images` (N, H, W[, C]) and "
                  f"optional `labels`, or a Kaggle-MNIST .csv (`label,pixel0,…`, up to 64x64 pixels a row). Up to {upload_limit_mb()} MB here "
                  f"and {MAX_IMAGES:,} images; larger files with `python -m aeviz datasets --add FILE`. Converted to "
                  f"grey squares and split 80/20 (seeded).")
    upload = where.file_uploader("Your images", type=["zip", "npz", "csv"], key=f"{key}_file")
    size = where.number_input("Image size (pixels per side)", MIN_SIZE, MAX_SIZE, DEFAULT_SIZE, key=f"{key}_size")
    if upload is None or not where.button("Use this file", key=f"{key}_use"):
        return None
    owner = session_key()
    try:
        check_room(owner)
        with st.spinner(f"Converting {plain(upload.name)}…"):
            info = import_file(upload.getvalue(), upload.name, int(size), owner=owner)
        claim(info.name, owner, upload.name)  # converted before by another session: theirs and now yours too
        check_bytes(info.name, owner)
    except AevizError as exc:
        where.error(str(exc))
        return None
    finally:
        dataset_owners.clear()
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
