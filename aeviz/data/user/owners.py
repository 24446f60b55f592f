"""Who a user dataset belongs to. A dataset uploaded in the app belongs to the sessions that uploaded it
(`owners.json` in its folder: each owner under a key derived from its session id, with the file name it
uploaded): only they see it, under their own file name, and each may delete it (the folder goes when its
last owner lets go). A dataset added on the server's command line (`datasets --add`, `train --dataset
FILE`) has no owners file: it is the teacher's, shared with every session.

Quotas, per session and for the whole server (aeviz.server_settings): how many datasets a session may
own, and how many bytes its datasets, and all uploaded datasets together, may take on disk.

    owner = owner_key(session_id)
    check_room(owner)                                   # before converting an upload
    info = import_file(data, upload_name, size, owner=owner)   # a new dataset is written owned
    claim(info.name, owner, upload_name)                # one converted before by another session: shared with it
    check_bytes(info.name, owner)                       # over the quota: let go again
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

from aeviz.errors import AevizError, DatasetUnavailable
from aeviz.server_settings import user_data_limits
from aeviz.data.user.store import (PREFIX, folder_of, is_user_dataset, plain_file_name,
                                   read_info, user_root)

OWNERS_FILE = "owners.json"
_lock = threading.Lock()


class QuotaExceeded(AevizError):
    """A session, or the server, holds as many uploaded datasets (or bytes of them) as it may."""


def owner_key(session_id: str) -> str:
    """A session's key as an owner: stable, and revealing nothing of the id (which controls the session)."""
    return hashlib.sha256(f"aeviz-dataset-owner:{session_id}".encode()).hexdigest()[:24]


def _owners_path(name: str) -> Path:
    return folder_of(name) / OWNERS_FILE


def owners(name: str) -> dict[str, dict] | None:
    """A dataset's owners ({key: {"file_name", "added"}}), or None when it is shared (the teacher's)."""
    path = _owners_path(name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: owned by no one it can name, so shown to no one (never to everyone)
    found = data.get("owners") if isinstance(data, dict) else None
    return {str(k): v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def _write(name: str, table: dict[str, dict]) -> None:
    path = _owners_path(name)
    staging = path.with_name(f".{OWNERS_FILE}.{os.getpid()}.{threading.get_ident()}")
    staging.write_text(json.dumps({"owners": table}, indent=1))
    os.replace(staging, path)


def owners_record(owner: str, file_name: str) -> dict:
    """What a new dataset's owners.json holds (written with its files, before anyone can list it)."""
    return {"owners": {owner: {"file_name": plain_file_name(file_name), "added": time.time()}}}


def claim(name: str, owner: str, file_name: str) -> None:
    """After an upload: make `owner` an owner of dataset `name` (under `file_name`) when the dataset is owned,
    i.e. another session uploaded the same file first. A shared one (the teacher's) stays shared."""
    with _lock:
        table = owners(name)
        if table is None:
            return  # the teacher's, shared already
        table = dict(table)
        table[owner] = {"file_name": plain_file_name(file_name), "added": time.time()}
        _write(name, table)


def visible(name: str, owner: str, table: dict | None = ...) -> bool:
    """Whether the session `owner` sees dataset `name`: a built-in, a shared one, or one it owns."""
    if not is_user_dataset(name):
        return True
    try:
        table = owners(name) if table is ... else table
    except DatasetUnavailable:
        return False
    return table is None or owner in table


def owned(name: str, owner: str) -> bool:
    if not is_user_dataset(name):
        return False
    try:
        table = owners(name)
    except DatasetUnavailable:
        return False
    return table is not None and owner in table


def file_name_for(name: str, owner: str) -> str:
    """The file name `owner` uploaded `name` under, else the one it was first converted from."""
    table = owners(name) or {}
    entry = table.get(owner)
    if entry and entry.get("file_name"):
        return plain_file_name(entry["file_name"])
    return plain_file_name(read_info(name).file_name)


def release(name: str, owner: str) -> bool:
    """`owner` lets go of dataset `name`; the folder is deleted when no owner is left (runs trained on it keep
    their weights). A shared dataset is the teacher's: a session cannot delete it. Returns whether deleted."""
    with _lock:
        table = owners(name)
        if table is None or owner not in table:
            raise AevizError(f"dataset {name} is not yours to delete")
        del table[owner]
        if table:
            _write(name, table)
            return False
        try:
            shutil.rmtree(folder_of(name))
        except OSError as exc:
            raise AevizError(f"cannot delete {folder_of(name)} ({exc.strerror or exc})") from None
        return True


def _folders() -> list[Path]:
    root = user_root()
    if not root.is_dir():
        return []
    return [f for f in root.iterdir() if f.is_dir() and not f.name.startswith(".")]


def _bytes(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    except OSError:
        return 0


def usage(owner: str) -> dict[str, int]:
    """Datasets and bytes on disk: this owner's, and every uploaded (owned) dataset's together."""
    mine = mine_bytes = total = total_bytes = 0
    for folder in _folders():
        table = owners(PREFIX + folder.name)
        if table is None:
            continue  # the teacher's: not counted against uploads
        size = _bytes(folder)
        total, total_bytes = total + 1, total_bytes + size
        if owner in table:
            mine, mine_bytes = mine + 1, mine_bytes + size
    return {"datasets": mine, "bytes": mine_bytes, "server_datasets": total, "server_bytes": total_bytes}


def check_room(owner: str) -> None:
    """Before converting an upload: QuotaExceeded (saying what to delete) when the session or the server
    already holds as many datasets, or bytes, as it may."""
    limits, used = user_data_limits(), usage(owner)
    if used["datasets"] >= limits["datasets_per_session"]:
        raise QuotaExceeded(f"you have {used['datasets']} datasets of your own, the most this server allows a "
                            f"session: delete one (Delete this dataset, under the dataset list) to add another")
    if used["bytes"] >= limits["bytes_per_session"]:
        raise QuotaExceeded(f"your datasets take {used['bytes'] / 1e6:.0f} MB, the most this server allows a "
                            f"session ({limits['bytes_per_session'] / 1e6:.0f} MB): delete one to add another")
    if used["server_datasets"] >= limits["datasets_per_server"] or used["server_bytes"] >= limits["bytes_per_server"]:
        raise QuotaExceeded("this server holds as many uploaded datasets as it may; ask your teacher to remove "
                            "some (python -m aeviz datasets --remove NAME)")


def check_bytes(name: str, owner: str) -> None:
    """After converting: when the new dataset takes the session or the server over its bytes, `owner` lets go
    of it again (deleting it if no one else owns it) and QuotaExceeded says so."""
    limits, used = user_data_limits(), usage(owner)
    over = used["bytes"] > limits["bytes_per_session"] or used["server_bytes"] > limits["bytes_per_server"]
    if over and owned(name, owner):
        size = _bytes(folder_of(name))
        release(name, owner)
        raise QuotaExceeded(f"this dataset takes {size / 1e6:.1f} MB, more than is left of "
                            + ("your session's" if used["bytes"] > limits["bytes_per_session"] else "the server's")
                            + " room for uploaded datasets: it was not kept; delete one of yours, or upload fewer "
                              "or smaller images")

