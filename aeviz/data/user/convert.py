"""From the arrays a file holds to a dataset: grey values in [0, 1], square images of the chosen size,
class indices, and a reproducible (seeded, stratified where there are labels) train/test split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from aeviz.data.user.limits import MAX_CLASSES, SPLIT_SEED, TEST_FRACTION, BadUserData, chunk_images

# ITU-R 601-2 luma, as PIL's convert("L") uses for image files, so every format greys the same way.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# progress(images converted, images in all): a reader calls it as it goes; it may raise to stop the work.
Progress = Callable[[int, int], None]


@dataclass
class Converted:
    """Images (N, size, size) float32 in [0, 1], class indices (N,) or None, and what was done to them."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


class Converter:
    """Images converted a chunk at a time into one (count, size, size) float32 array, so that memory is the
    output plus one chunk whatever the source holds (a reader streams its file through `add`).

    Grey and the bilinear resize are linear, so each chunk is converted at its own scale; the scale (uint8,
    or any value above 1: /255; else kept) and the range check need every value, and come in `finish`.
    """

    def __init__(self, count: int, size: int, name: str, progress: Progress | None = None):
        self.name, self.size, self.done, self.progress = name, size, 0, progress
        self.images = np.empty((count, size, size), dtype=np.float32)
        self.low, self.high, self.all_uint8 = np.inf, -np.inf, True

    def add(self, images: np.ndarray) -> None:
        """The next (n, H, W) or (n, H, W, C) images (numbers of any kind)."""
        if images.ndim == 4 and images.shape[3] not in (1, 3, 4):
            raise BadUserData(f"{self.name}: images have {images.shape[3]} channels; use 1 (grey), 3 (RGB) or 4 (RGBA)")
        if len(images) == 0:
            return
        if images.dtype.kind == "f" and not np.isfinite(images).all():
            raise BadUserData(f"{self.name}: images hold NaN or infinite values; use numbers in 0..255 or 0..1")
        self.low, self.high = min(self.low, float(images.min())), max(self.high, float(images.max()))
        self.all_uint8 = self.all_uint8 and images.dtype == np.uint8
        self.images[self.done:self.done + len(images)] = resize_square(grey(images), self.size)
        self.done += len(images)
        if self.progress is not None:
            self.progress(self.done, len(self.images))

    def finish(self) -> np.ndarray:
        """(count, size, size) float32 in [0, 1]; a value outside 0..255 is refused."""
        if self.done != len(self.images):
            raise BadUserData(f"{self.name}: {self.done} images were read; its header promised {len(self.images)}")
        if self.low < 0 or self.high > 255:
            raise BadUserData(f"{self.name}: pixel values run from {self.low:g} to {self.high:g}; use 0..255 or 0..1")
        if self.all_uint8 or self.high > 1:
            np.divide(self.images, np.float32(255), out=self.images)
        np.clip(self.images, 0.0, 1.0, out=self.images)
        return self.images


def convert_images(images: np.ndarray, size: int, name: str) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) numbers -> (N, size, size) float32 grey in [0, 1], in chunks sized in bytes.

    uint8 (and any values above 1, up to 255) are divided by 255; values already in [0, 1] are kept.
    Colour is turned to grey with the luma weights; the square is resized bilinearly (aspect not kept).
    """
    converter = Converter(len(images), size, name)
    step = chunk_images(int(np.prod(images.shape[1:], dtype=np.int64)) * 4)
    for start in range(0, len(images), step):
        converter.add(images[start:start + step])
    return converter.finish()


def grey(images: np.ndarray) -> np.ndarray:
    """(n, H, W[, C]) -> (n, H, W) float32, with RGB(A) turned to luma (alpha dropped)."""
    if images.ndim == 4:
        if images.shape[3] == 1:
            images = images[..., 0]
        else:
            return images[..., :3].astype(np.float32) @ LUMA
    return images.astype(np.float32, copy=False)


def resize_square(images: np.ndarray, size: int) -> np.ndarray:
    """(n, H, W) float32 -> (n, size, size), bilinear with PIL's antialiasing (aspect ratio not kept); values
    keep their scale (Converter.finish scales and clips)."""
    if images.shape[1:] == (size, size):
        return images
    from PIL import Image

    out = np.empty((len(images), size, size), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(image), mode="F").resize(
            (size, size), Image.Resampling.BILINEAR))
    return out


def class_indices(raw: np.ndarray, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels of any kind (numbers or text) -> indices 0..C-1 in sorted order of the values, and their names."""
    raw = np.asarray(raw)
    if raw.dtype.kind == "f":
        if not np.isfinite(raw).all():
            raise BadUserData(f"{name}: labels hold NaN or infinite values")
        if not (raw == np.round(raw)).all():
            raise BadUserData(f"{name}: labels must be whole numbers or text (found {raw[raw != np.round(raw)][0]:g})")
        raw = raw.astype(np.int64)
    if raw.dtype.kind not in "iuUSb":
        raise BadUserData(f"{name}: labels must be whole numbers or text (found dtype {raw.dtype})")
    values, indices = np.unique(raw, return_inverse=True)
    if len(values) > MAX_CLASSES:
        raise BadUserData(f"{name}: {len(values)} different labels; at most {MAX_CLASSES} classes are accepted")
    names = tuple(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values.tolist())
    return indices.astype(np.int64), names


def split(converted: Converted, test_fraction: float = TEST_FRACTION,
          seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): seeded; stratified by class when every class has two images or more."""
    from sklearn.model_selection import train_test_split

    order = np.arange(len(converted.images))
    stratify = None
    if converted.labels is not None:
        counts = np.bincount(converted.labels)
        if counts.min() >= 2 and len(counts) <= test_fraction * len(order):
            stratify = converted.labels
        else:
            converted.notes.append("the split is not stratified: some class has fewer than two images, or "
                                   "there are more classes than test images")
    train, test = train_test_split(order, test_size=test_fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)
