"""An .npz of `images` (N, H, W) or (N, H, W, C) and optional `labels` (N,): the zip's directory (member
count, unpacked sizes) and each member's .npy header (shape, dtype, size) are checked before any data, and
the data is inflated and converted in chunks sized in bytes, never past what the header promised."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from aeviz.data.user.convert import Converted, Converter, Progress, class_indices
from aeviz.data.user.limits import (DEFAULT_SIZE, MAX_INFLATED_BYTES, MAX_LABEL_CHARS, MAX_MEMBERS, MAX_SIZE, MIN_SIZE,
                                    BadUserData, check_conversion_memory, check_counts, check_size, check_zip_members,
                                    chunk_images)

READ_CHUNK = 1 << 20
NUMERIC_KINDS = "biuf"
HOW_TO_SAVE = "save it with numpy.savez(path, images=images, labels=labels)"


def read_npz(data: bytes, name: str, size: int | None, progress: Progress | None = None) -> Converted:
    """Checked from the zip's directory and each .npy header before any data is inflated; the images are
    then inflated and converted a chunk (sized in bytes) at a time, so memory is the converted images plus
    one chunk, never what the file unpacks to. `progress(done, total)` follows the images converted."""
    check_zip_members(data, name, MAX_MEMBERS, f"an .npz holds at most {MAX_MEMBERS} arrays; {HOW_TO_SAVE}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadUserData(f"{name} is not an .npz archive (not a zip file); {HOW_TO_SAVE}") from None
    members = {info.filename: info for info in archive.infolist()}
    if "images.npy" not in members:
        found = ", ".join(sorted(n.removesuffix(".npy") for n in members)[:8]) or "nothing"
        raise BadUserData(f"{name} has no array named 'images' (it holds: {found}); {HOW_TO_SAVE}")
    for member in ("images.npy", "labels.npy"):
        if member in members and members[member].file_size > MAX_INFLATED_BYTES + READ_CHUNK:
            raise BadUserData(f"{name}: {member.removesuffix('.npy')} unpacks to "
                              f"{members[member].file_size / 2**20:,.0f} MB (its zip header says so); at most "
                              f"{MAX_INFLATED_BYTES // 2**20} MB are accepted: use fewer or smaller images (uint8)")
    what = f"{name}: images"
    with archive.open(members["images.npy"]) as stream:
        shape, dtype, fortran = _header(stream, what)
        if len(shape) not in (3, 4) or dtype.kind not in NUMERIC_KINDS:
            raise BadUserData(f"{name}: images has shape {shape} and dtype {dtype}; expected numbers shaped "
                              f"(N, H, W) or (N, H, W, C)")
        count, height, width = shape[:3]
        if size is None:
            size = height if height == width and MIN_SIZE <= height <= MAX_SIZE else DEFAULT_SIZE
        check_counts(what, count, height, width, check_size(size))
        _check_unpacked_size(shape, dtype, what)
        image_values = int(np.prod(shape[1:], dtype=np.int64))
        one_image = image_values * (dtype.itemsize + 4 * 2)  # as stored, as float32, and its grey
        # An array stored in Fortran order has its images interleaved: it is held whole (within the budget).
        held = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if fortran else one_image
        check_conversion_memory(what, count, size, held)
        converter = Converter(count, size, what, progress)
        if fortran:
            images = _data(stream, shape, dtype, fortran, what)
            step = chunk_images(image_values * 4)
            for start in range(0, count, step):
                converter.add(images[start:start + step])
            del images
        else:
            step = chunk_images(one_image)
            for start in range(0, count, step):
                n = min(step, count - start)
                converter.add(_data(stream, (n, *shape[1:]), dtype, False, what, last=start + n == count))
        images = converter.finish()
    labels, class_names = None, ("all images",)
    if "labels.npy" in members:
        with archive.open(members["labels.npy"]) as stream:
            shape, dtype, fortran = _header(stream, f"{name}: labels")
            if shape != (count,) or dtype.kind not in NUMERIC_KINDS + "US":
                raise BadUserData(f"{name}: labels has shape {shape} and dtype {dtype}; expected ({count},) whole "
                                  f"numbers or text, one per image")
            if dtype.kind in "US" and dtype.itemsize > MAX_LABEL_CHARS * (4 if dtype.kind == "U" else 1):
                raise BadUserData(f"{name}: labels are text of up to {dtype.itemsize // (4 if dtype.kind == 'U' else 1):,} "
                                  f"characters; at most {MAX_LABEL_CHARS} are accepted")
            labels, class_names = class_indices(_data(stream, shape, dtype, fortran, f"{name}: labels"), f"{name}: labels")
    return Converted(images, labels, class_names)


def _check_unpacked_size(shape: tuple[int, ...], dtype: np.dtype, what: str) -> None:
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected > MAX_INFLATED_BYTES:
        raise BadUserData(f"{what} would unpack to {expected / 2**20:.0f} MB; at most "
                          f"{MAX_INFLATED_BYTES // 2**20} MB are accepted: use fewer or smaller images (uint8)")


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


def _data(stream, shape: tuple[int, ...], dtype: np.dtype, fortran: bool, what: str, last: bool = True) -> np.ndarray:
    """Exactly the bytes `shape` needs, inflated a chunk at a time, as an array. `last`: nothing may follow
    (a member that unpacks to more or less than its header promised is refused)."""
    _check_unpacked_size(shape, dtype, what)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = bytearray(expected)
    view, done = memoryview(buffer), 0
    try:
        while done < expected:
            chunk = stream.read(min(READ_CHUNK, expected - done))
            if not chunk:
                break
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        extra = stream.read(1) if last else b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadUserData(f"{what} is damaged ({exc}); save the file again") from None
    if done < expected or extra:
        raise BadUserData(f"{what}: its data does not match its header ({'truncated' if done < expected else 'too long'}); "
                          f"save the file again")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)

