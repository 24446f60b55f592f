"""IDX files, the format of MNIST and Fashion-MNIST (LeCun's): a magic number that names the element type
and the number of dimensions, the dimensions as big-endian 32-bit integers, then the bytes. Read whole,
optionally gzipped, and checked against their headers so a truncated or wrong file says so."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from aeviz.errors import CorruptDataFile

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read an IDX file (optionally gzipped) as uint8, checking magic number and size."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise CorruptDataFile(f"{path} cannot be read ({exc.strerror or exc})") from None
    try:
        raw = gzip.decompress(blob) if path.suffix == ".gz" else blob
    except (EOFError, OSError, zlib.error) as exc:
        raise CorruptDataFile(f"{path} is truncated or not a valid gzip file ({exc}); delete it and "
                              f"download it again") from None
    if len(raw) < 8:
        raise CorruptDataFile(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expected_magic:
        raise CorruptDataFile(f"{path} has magic number {magic}, expected {expected_magic} "
                              f"({'images' if expected_magic == IDX_IMAGES_MAGIC else 'labels'} file): "
                              f"wrong or corrupt file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise CorruptDataFile(f"{path} holds {len(raw) - header} bytes of data, its header promises "
                              f"{expected} ({'x'.join(map(str, dims))}): the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_image_file(path: Path) -> np.ndarray:
    return read_idx(path, IDX_IMAGES_MAGIC)


def read_label_file(path: Path) -> np.ndarray:
    return read_idx(path, IDX_LABELS_MAGIC)


def read_idx_folder(files: dict[str, Path], class_count: int) -> dict[str, np.ndarray]:
    """The four arrays of a dataset's IDX files (keys of IDX_FILES), checked against each other."""
    arrays = {}
    for key, path in files.items():
        arrays[key] = read_image_file(path) if key.endswith("images") else read_label_file(path)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3:
            raise CorruptDataFile(f"{files[split + '_images']}: expected 3-D images, got shape {images.shape}")
        if len(images) != len(labels):
            raise CorruptDataFile(f"{files[split + '_images']} has {len(images)} images but "
                                  f"{files[split + '_labels']} has {len(labels)} labels")
        if labels.size and labels.max() >= class_count:
            raise CorruptDataFile(f"{files[split + '_labels']} has label {labels.max()}, "
                                  f"expected 0..{class_count - 1}")
    return arrays
