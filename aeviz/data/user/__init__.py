"""Your own images as a dataset: a zip in ImageFolder layout, an .npz of `images` (and `labels`), or a
CSV laid out like Kaggle's MNIST files. Converted once to grey squares of a chosen size (up to 64x64),
split 80/20 reproducibly (seeded, stratified by class where there are labels), and cached by content:

    info = import_file("letters.zip", size=28)      # -> UserDatasetInfo, info.name == "user:3fa2b9c1d0e4-28"
    dataset = load_dataset(info.name)               # (aeviz.data.datasets) like any other dataset

Limits (aeviz.data.user.limits) are checked from sizes and headers before anything is decoded; a bad
file raises BadUserData naming the file, the row or member, and what to change. `progress(fraction, text)`,
if given, hears how far a conversion has come (images converted of all, then saving); it may raise to stop
it. The app converts uploads in the background, a few at a time (aeviz.jobs.conversions).
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from aeviz.data.user.convert import split
from aeviz.data.user.limits import BadUserData, check_file_size
from aeviz.data.user.store import (PREFIX, UserDatasetInfo, dataset_name, folder_of, is_user_dataset, list_infos,
                                   load_arrays, plain_file_name, read_info, save)
from aeviz.data.types import Dataset, DatasetSpec, DatasetStatus, SPECS
from aeviz.data.user.csv_file import read_csv
from aeviz.data.user.image_folder import read_image_folder
from aeviz.data.user.npz_file import read_npz
from aeviz.data.user.owners import OWNERS_FILE, owners_record
from aeviz.errors import AevizError

FORMATS = {".zip": "image folder zip", ".npz": "npz", ".csv": "csv"}
ACCEPTED = "a .zip of class folders of images, an .npz with 'images' (and 'labels'), or a Kaggle-MNIST .csv"

__all__ = ["BadUserData", "PREFIX", "UserDatasetInfo", "import_file", "is_user_dataset", "list_infos",
           "load_user_dataset", "read_info", "remove", "resolve_dataset", "user_spec", "user_status"]


def import_file(source: Path | str | bytes, file_name: str | None = None, size: int | None = None,
                owner: str | None = None, progress: Callable[[float, str], None] | None = None) -> UserDatasetInfo:
    """Convert a file (a path, or the bytes of an upload named `file_name`) into a cached user dataset.

    `size`: side of the square images (4..64); None: the images' own size where square and at most 64
    (npz, CSV), else 28 (or an earlier import of the same file). `owner`: the uploading session's key
    (aeviz.data.user.owners): a dataset it converts is its own; None (the command line): shared with all.
    `progress(fraction 0..1, text)`: told as the work goes (it may raise to stop it). Returns the dataset's info.
    """
    data, file_name = _read_source(source, file_name)
    file_name = plain_file_name(file_name)  # kept and shown to others: never Markdown, HTML or a path
    suffix = Path(file_name).suffix.lower()
    if suffix not in FORMATS:
        raise BadUserData(f"{file_name}: unknown kind of file; use {ACCEPTED}")
    steps = _Steps(file_name, progress)
    steps.tell(0.0, "checking it")
    content_hash = hashlib.sha256(data).hexdigest()
    cached = _cached(content_hash, size)
    if cached is not None:
        return cached
    return _convert_and_save(data, file_name, suffix, content_hash, size, owner, steps)


class _Steps:
    """A conversion's progress as one fraction: checking, converting the images (most of it), saving."""

    CONVERTING, SAVING = 0.05, 0.9  # where each step starts

    def __init__(self, file_name: str, progress: Callable[[float, str], None] | None):
        self.file_name, self.progress = file_name, progress

    def tell(self, fraction: float, text: str) -> None:
        if self.progress is not None:
            self.progress(fraction, f"{self.file_name}: {text}")

    def images(self, done: int, total: int) -> None:
        """A reader's progress (images converted of all)."""
        share = done / total if total else 1.0
        self.tell(self.CONVERTING + (self.SAVING - self.CONVERTING) * share, f"{done:,} of {total:,} images converted")


def _convert_and_save(data: bytes, file_name: str, suffix: str, content_hash: str, size: int | None,
                      owner: str | None, steps: _Steps) -> UserDatasetInfo:
    try:
        converted = reader_for(suffix)(data, file_name, size, steps.images)
    except (ValueError, UnicodeError, csv.Error, zipfile.BadZipFile, EOFError) as exc:  # what no check foresaw
        raise BadUserData(f"{file_name} could not be read ({type(exc).__name__}: {str(exc)[:200]}); use "
                          f"{ACCEPTED}") from None
    size = converted.images.shape[1]
    name = dataset_name(content_hash, size)
    if (folder_of(name)).is_dir():
        return read_info(name)
    steps.tell(steps.SAVING, "saving the converted images")
    train, test = split(converted)
    labels = converted.labels if converted.labels is not None else np.zeros(len(converted.images), dtype=np.int64)
    pixels = _quantised(converted)
    info = UserDatasetInfo(name, file_name, FORMATS[suffix], size, converted.class_names,
                           converted.labels is not None, len(train), len(test), tuple(converted.notes))
    owned = None
    if owner is not None:
        owned = {OWNERS_FILE: json.dumps(owners_record(owner, file_name))}
    save(info, {"train_images": pixels[train], "train_labels": labels[train],
                "test_images": pixels[test], "test_labels": labels[test]}, owned)
    steps.tell(1.0, "converted")
    return read_info(name)


def _quantised(converted) -> np.ndarray:
    """The converted images as uint8, rounded in place (no float copies); the float array is let go."""
    images, converted.images = converted.images, None
    np.multiply(images, np.float32(255), out=images)
    np.rint(images, out=images)
    return images.astype(np.uint8)


def resolve_dataset(text: str, size: int | None = None) -> str:
    """A dataset name for a CLI's --dataset: a known name as it is, or a path to a file, imported."""

    if text in SPECS or is_user_dataset(text):
        return text
    if Path(text).expanduser().is_file():
        return import_file(Path(text).expanduser(), size=size).name
    raise BadUserData(f"unknown dataset {text!r}: use one of {', '.join(SPECS)}, a user dataset (user:…, see "
                      f"`python -m aeviz datasets`), or the path of {ACCEPTED}")


def user_spec(name: str):
    """The DatasetSpec of a user dataset (shape and classes, without loading its images)."""

    info = read_info(name)
    return DatasetSpec(name, info.title, "", info.class_names, image_shape=(1, info.size, info.size))


def user_status(name: str):
    """A DatasetStatus: available when the converted copy is in the cache (cheap: reads its meta.json)."""

    try:
        info = read_info(name)
    except AevizError as exc:
        return DatasetStatus(name, name, False, None, [str(folder_of(name)) if name[len(PREFIX):] else name],
                             f"import the file again ({exc})")
    labels = f"{len(info.class_names)} classes" if info.labelled else "no labels"
    return DatasetStatus(name, info.title, True, f"your file {plain_file_name(info.file_name)}: {info.train_count} train / "
                         f"{info.test_count} test images, {labels}", [])


def load_user_dataset(name: str):
    """The user dataset as an aeviz.data.datasets.Dataset (images (N, 1, S, S) float32 in [0, 1])."""
    import torch


    info = read_info(name)
    arrays = load_arrays(info)

    def images(key: str) -> torch.Tensor:
        return torch.from_numpy(arrays[key].astype(np.float32) / 255.0).unsqueeze(1)

    notes = list(info.notes) + ([] if info.labelled else ["this dataset has no labels"])
    return Dataset(name, info.title, images("train_images"), torch.from_numpy(arrays["train_labels"].astype(np.int64)),
                   images("test_images"), torch.from_numpy(arrays["test_labels"].astype(np.int64)), info.class_names,
                   f"your file {plain_file_name(info.file_name)} ({info.file_format}), converted in {folder_of(name)}", notes,
                   labelled=info.labelled)


def remove(name: str) -> None:
    """Delete a converted user dataset from the cache (runs trained on it keep their weights)."""
    import shutil


    folder = folder_of(name)
    read_info(name)  # raises, naming the cache folder, when there is no such dataset
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise AevizError(f"cannot delete {folder} ({exc.strerror or exc})") from None


def _read_source(source: Path | str | bytes, file_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        name = file_name or "upload"
        check_file_size(name, len(source))
        return bytes(source), name
    path = Path(source)
    name = file_name or path.name
    try:
        check_file_size(name, path.stat().st_size)  # before reading a byte of it
        return path.read_bytes(), name
    except OSError as exc:
        raise BadUserData(f"{path} cannot be read ({exc.strerror or exc})") from None


def _cached(content_hash: str, size: int | None) -> UserDatasetInfo | None:
    if size is not None:
        name = dataset_name(content_hash, size)
        return read_info(name) if folder_of(name).is_dir() else None
    earlier = [info for info in list_infos() if info.name.startswith(dataset_name(content_hash, 0)[:-1])]
    return earlier[0] if len(earlier) == 1 else None


def reader_for(suffix: str):
    if suffix == ".npz":
        return read_npz
    if suffix == ".csv":
        return read_csv

    return read_image_folder


