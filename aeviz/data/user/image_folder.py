"""A zip of images in torchvision's ImageFolder layout: one folder per class (`cat/001.png`, `dog/7.jpg`),
optionally inside one top folder; images directly at the top (no class folders) make an unlabelled set.
PNG and JPEG only. The archive's directory is checked (image count, layout) before anything is
inflated; then one member at a time is inflated (with a bound on the bytes it actually produces, and on
all of them together), decoded (its pixel count checked from its header first) and converted into the
output array before the next is read, so memory is the output and one image, whatever the zip unpacks to."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

import numpy as np

from aeviz.data.user.convert import Converted, Progress
from aeviz.data.user.limits import (DEFAULT_SIZE, MAX_CLASSES, MAX_IMAGES, MAX_INFLATED_BYTES, MAX_SOURCE_PIXELS,
                                    BadUserData, check_conversion_memory, check_counts, check_size, check_zip_members)
from aeviz.safe_io import UploadRefused, ZipInflater, read_image_bounded

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
LAYOUT = "expected one folder per class holding .png or .jpg images (torchvision's ImageFolder layout)"
# One image file as it unpacks: a 1-megapixel (MAX_SOURCE_PIXELS) RGBA PNG saved without compression is 4 MB,
# 16-bit 8 MB; beyond this a member holds more than an image of the accepted size needs.
MAX_IMAGE_FILE_BYTES = 16 * 2**20
# What converting one image holds besides the output: its file as inflated (and the copy handed on), and
# the decoded pixels (up to 16-bit RGBA) with their grey copy.
ONE_IMAGE_BYTES = 2 * MAX_IMAGE_FILE_BYTES + 10 * MAX_SOURCE_PIXELS


def image_members(archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[str] | None]:
    """(member names of the images, their class folder names or None when unlabelled), from the directory."""
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if info.is_dir() or any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
            continue  # folders, hidden files and macOS resource forks
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise BadUserData(f"{name}: {info.filename} is not a PNG or JPEG image; convert it or remove it "
                              f"({LAYOUT})")
        members.append(info.filename)
    if not members:
        raise BadUserData(f"{name} holds no .png or .jpg images; {LAYOUT}")
    parts = [PurePosixPath(member).parts for member in members]
    while all(len(p) > 2 for p in parts) and len({p[0] for p in parts}) == 1:  # one wrapping top folder
        parts = [p[1:] for p in parts]
    depths = {len(p) for p in parts}
    if depths == {1}:
        return members, None
    if depths != {2}:
        odd = next(m for m, p in zip(members, parts) if len(p) != 2)
        raise BadUserData(f"{name}: {odd} is not directly inside a class folder; {LAYOUT}")
    return members, [p[0] for p in parts]


def read_image_folder(data: bytes, name: str, size: int | None, progress: Progress | None = None) -> Converted:
    """`progress(done, total)` is called after each image is converted (it may raise to stop the work)."""
    size = check_size(DEFAULT_SIZE if size is None else size)
    check_zip_members(data, name, MAX_IMAGES + MAX_CLASSES + 16, f"at most {MAX_IMAGES:,} images are accepted: use a subset")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadUserData(f"{name} is not a zip archive; {LAYOUT}") from None
    members, folders = image_members(archive, name)
    # Counts before decoding; each image's own dimensions are checked from its header below.
    check_counts(name, len(members), 1, 1, size)
    check_conversion_memory(name, len(members), size, ONE_IMAGE_BYTES)
    inflater = ZipInflater(archive, name, MAX_IMAGE_FILE_BYTES, MAX_INFLATED_BYTES)
    images = np.empty((len(members), size, size), dtype=np.float32)
    for i, member in enumerate(members):
        images[i] = _converted(inflater, member, name, size)
        if progress is not None:
            progress(i + 1, len(members))
    if folders is None:
        return Converted(images, None, ("all images",))
    class_names = tuple(sorted(set(folders)))  # ImageFolder's order: sorted folder names
    if len(class_names) > MAX_CLASSES:
        raise BadUserData(f"{name} has {len(class_names)} class folders; at most {MAX_CLASSES} are accepted")
    index = {folder: c for c, folder in enumerate(class_names)}
    return Converted(images, np.array([index[f] for f in folders], dtype=np.int64), class_names)


def _converted(inflater: ZipInflater, member: str, name: str, size: int) -> np.ndarray:
    """One member, inflated and decoded within bounds, as a (size, size) grey float32 image in [0, 1]."""
    try:
        data = inflater.read(member)
    except UploadRefused as exc:
        raise BadUserData(f"{exc}; use fewer or smaller images") from None
    try:
        image = read_image_bounded(data, f"{name}: {member}", max_bytes=MAX_IMAGE_FILE_BYTES,
                                   max_pixels=MAX_SOURCE_PIXELS)
    except UploadRefused as exc:
        raise BadUserData(f"{exc}; fix or remove that image") from None
    grey = image.convert("L").resize((size, size), resample=_bilinear())
    return np.asarray(grey, dtype=np.float32) / 255.0


def _bilinear():
    from PIL import Image

    return Image.Resampling.BILINEAR


