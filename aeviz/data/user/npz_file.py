"""An .npz of `images` (N, H, W) or (N, H, W, C) and optional `labels` (N,): each member's .npy header is
read and checked (shape, dtype, size) before its data, and the data is inflated in chunks, never past
what the header promised."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from aeviz.data.user.convert import Converted, class_indices, convert_images
from aeviz.data.user.limits import (DEFAULT_SIZE, MAX_INFLATED_BYTES, MAX_SIZE, MIN_SIZE, BadUserData, check_counts,
                                    check_size)

READ_CHUNK = 1 << 20
NUMERIC_KINDS = "biuf"
HOW_TO_SAVE = "save it with numpy.savez(path, images=images, labels=labels)"


def read_npz(data: bytes, name: str, size: int | None) -> Converted:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadUserData(f"{name} is not an .npz archive (not a zip file); {HOW_TO_SAVE}") from None
    members = {info.filename: info for info in archive.infolist()}
    if "images.npy" not in members:
        found = ", ".join(sorted(n.removesuffix(".npy") for n in members)[:8]) or "nothing"
        raise BadUserData(f"{name} has no array named 'images' (it holds: {found}); {HOW_TO_SAVE}")
    with archive.open(members["images.npy"]) as stream:
        shape, dtype, fortran = _header(stream, f"{name}: images")
        if len(shape) not in (3, 4) or dtype.kind not in NUMERIC_KINDS:
            raise BadUserData(f"{name}: images has shape {shape} and dtype {dtype}; expected numbers shaped "
                              f"(N, H, W) or (N, H, W, C)")
        count, height, width = shape[:3]
        if size is None:
            size = height if height == width and MIN_SIZE <= height <= MAX_SIZE else DEFAULT_SIZE
        check_counts(f"{name}: images", count, height, width, check_size(size))
        images = _data(stream, shape, dtype, fortran, f"{name}: images")
    labels, class_names = None, ("all images",)
    if "labels.npy" in members:
        with archive.open(members["labels.npy"]) as stream:
            shape, dtype, fortran = _header(stream, f"{name}: labels")
            if shape != (count,) or dtype.kind not in NUMERIC_KINDS + "US":
                raise BadUserData(f"{name}: labels has shape {shape} and dtype {dtype}; expected ({count},) whole "
                                  f"numbers or text, one per image")
            labels, class_names = class_indices(_data(stream, shape, dtype, fortran, f"{name}: labels"), f"{name}: labels")
    return Converted(convert_images(images, size, f"{name}: images"), labels, class_names)


def _header(stream, what: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npy.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise BadUserData(f"{what} is not a readable .npy array ({exc}); {HOW_TO_SAVE}") from None
    if dtype.hasobject:
        raise BadUserData(f"{what} holds Python objects, which are refused; store numbers or fixed-width text")
    return tuple(int(s) for s in shape), dtype, fortran


def _data(stream, shape: tuple[int, ...], dtype: np.dtype, fortran: bool, what: str) -> np.ndarray:
    """Exactly the bytes the header promised, inflated a chunk at a time (a member that unpacks to more or
    less is refused), as an array."""
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected > MAX_INFLATED_BYTES:
        raise BadUserData(f"{what} would unpack to {expected / 2**20:.0f} MB; at most "
                          f"{MAX_INFLATED_BYTES // 2**20} MB are accepted: use fewer or smaller images (uint8)")
    buffer = bytearray(expected)
    view, done = memoryview(buffer), 0
    try:
        while done < expected:
            chunk = stream.read(min(READ_CHUNK, expected - done))
            if not chunk:
                break
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        extra = stream.read(1)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadUserData(f"{what} is damaged ({exc}); save the file again") from None
    if done < expected or extra:
        raise BadUserData(f"{what}: its data does not match its header ({'truncated' if done < expected else 'too long'}); "
                          f"save the file again")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)
