"""User datasets once converted: kept in the cache folder, one folder per (file content, image size),
so the same file imported twice is converted once, and runs name their dataset `user:<hash>-<size>`."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeviz.data.types import USER_PREFIX as PREFIX
from aeviz.errors import CorruptDataFile, DatasetUnavailable
from aeviz.data.types import cache_dir

ARRAYS_FILE = "data.npz"
META_FILE = "meta.json"
HASH_CHARS = 12
MAX_FILE_NAME_CHARS = 80
# Characters that make Markdown or HTML of a name (a link, an image, a tag, a directive, LaTeX): an uploaded
# file's name is shown to its uploader and listed for others, so it keeps none of them.
_MARKUP_CHARACTERS = re.compile(r"[\[\]<>`!$|{}\\:*#^~]")


def plain_file_name(name: str) -> str:
    """An uploaded file's name as it is kept and shown: its last path part, one line without control
    characters, Markdown's and HTML's special characters replaced by `_`, at most MAX_FILE_NAME_CHARS."""
    base = re.split(r"[/\\]", str(name))[-1]
    base = " ".join("".join(c if unicodedata.category(c)[0] != "C" else " " for c in base).split())
    base = _MARKUP_CHARACTERS.sub("_", base)
    if len(base) > MAX_FILE_NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        suffix = dot + suffix if dot and len(suffix) <= 8 else ""
        base = base[:MAX_FILE_NAME_CHARS - len(suffix) - 1] + "…" + suffix
    return base or "upload"


@dataclass(frozen=True)
class UserDatasetInfo:
    """What is known of a converted user dataset without loading its images."""

    name: str                 # user:<content hash>-<size>
    file_name: str            # the file it came from, as uploaded or given
    file_format: str          # npz, csv or image folder zip
    size: int
    class_names: tuple[str, ...]
    labelled: bool
    train_count: int
    test_count: int
    notes: tuple[str, ...] = ()
    created: float = 0.0

    @property
    def title(self) -> str:
        return f"{plain_file_name(self.file_name)} ({self.size}x{self.size}, yours)"

    def to_json(self) -> dict:
        return {**self.__dict__, "class_names": list(self.class_names), "notes": list(self.notes)}


def user_root() -> Path:
    return cache_dir() / "user"


def dataset_name(content_hash: str, size: int) -> str:
    return f"{PREFIX}{content_hash[:HASH_CHARS]}-{size}"


def is_user_dataset(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def folder_of(name: str) -> Path:
    key = name[len(PREFIX):]
    if not key or not all(c.isalnum() or c == "-" for c in key):
        raise DatasetUnavailable(f"{name!r} is not a user dataset name (user:<hash>-<size>)")
    return user_root() / key


def read_info(name: str) -> UserDatasetInfo:
    path = folder_of(name) / META_FILE
    if not path.is_file():
        raise DatasetUnavailable(f"your dataset {name} is not in {user_root()} (deleted, or imported on another "
                                 f"machine); import its file again: python -m aeviz datasets --add FILE")
    try:
        meta = json.loads(path.read_text())
        return UserDatasetInfo(**{**meta, "class_names": tuple(meta["class_names"]), "notes": tuple(meta["notes"])})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise CorruptDataFile(f"{path} is damaged ({exc}); delete {path.parent} and import the file again") from None


def list_infos() -> list[UserDatasetInfo]:
    """Every converted user dataset here, newest first; damaged folders are skipped."""
    root = user_root()
    if not root.is_dir():
        return []
    infos = []
    for folder in root.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                infos.append(read_info(PREFIX + folder.name))
            except (DatasetUnavailable, CorruptDataFile):
                continue
    return sorted(infos, key=lambda info: info.created, reverse=True)


def save(info: UserDatasetInfo, arrays: dict[str, np.ndarray], extra_files: dict[str, str] | None = None) -> None:
    """Write atomically: a half-written dataset is never listed. `extra_files` (name -> text) are written
    with it (an upload's owners, aeviz.data.user.owners)."""
    target = folder_of(info.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        np.savez_compressed(staging / ARRAYS_FILE, **arrays)
        (staging / META_FILE).write_text(json.dumps({**info.to_json(), "created": time.time()}, indent=1))
        for file_name, text in (extra_files or {}).items():
            (staging / file_name).write_text(text)
        if target.exists():  # converted meanwhile by another session: the same content, keep theirs
            return
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_arrays(info: UserDatasetInfo) -> dict[str, np.ndarray]:
    path = folder_of(info.name) / ARRAYS_FILE
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("train_images", "train_labels", "test_images", "test_labels")}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise CorruptDataFile(f"{path} is damaged ({exc}); delete {path.parent} and import the file again") from None
    expected = {"train_images": (info.train_count, info.size, info.size), "test_images": (info.test_count, info.size, info.size),
                "train_labels": (info.train_count,), "test_labels": (info.test_count,)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise CorruptDataFile(f"{path}: {key} has shape {arrays[key].shape}, expected {shape}; delete "
                                  f"{path.parent} and import the file again")
    return arrays
