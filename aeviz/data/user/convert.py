"""From the arrays a file holds to a dataset: grey values in [0, 1], square images of the chosen size,
class indices, and a reproducible (seeded, stratified where there are labels) train/test split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aeviz.data.user.limits import MAX_CLASSES, SPLIT_SEED, TEST_FRACTION, BadUserData

# ITU-R 601-2 luma, as PIL's convert("L") uses for image files, so every format greys the same way.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Converted:
    """Images (N, size, size) float32 in [0, 1], class indices (N,) or None, and what was done to them."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


CHUNK = 1024  # images converted at a time: float copies stay small whatever the input's size


def convert_images(images: np.ndarray, size: int, name: str) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) numbers -> (N, size, size) float32 grey in [0, 1], a chunk at a time.

    uint8 (and any values above 1, up to 255) are divided by 255; values already in [0, 1] are kept.
    Colour is turned to grey with the luma weights; the square is resized bilinearly (aspect not kept).
    """
    if images.ndim == 4 and images.shape[3] not in (1, 3, 4):
        raise BadUserData(f"{name}: images have {images.shape[3]} channels; use 1 (grey), 3 (RGB) or 4 (RGBA)")
    if images.dtype.kind == "f" and not all(np.isfinite(images[i:i + CHUNK]).all() for i in range(0, len(images), CHUNK)):
        raise BadUserData(f"{name}: images hold NaN or infinite values; use numbers in 0..255 or 0..1")
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 255:
        raise BadUserData(f"{name}: pixel values run from {low:g} to {high:g}; use 0..255 or 0..1")
    scale = np.float32(255) if images.dtype == np.uint8 or high > 1 else np.float32(1)
    out = np.empty((len(images), size, size), dtype=np.float32)
    for start in range(0, len(images), CHUNK):
        out[start:start + CHUNK] = resize_square(grey(images[start:start + CHUNK]) / scale, size)
    return out


def grey(images: np.ndarray) -> np.ndarray:
    """(n, H, W[, C]) -> (n, H, W) float32, with RGB(A) turned to luma (alpha dropped)."""
    if images.ndim == 4:
        if images.shape[3] == 1:
            images = images[..., 0]
        else:
            return images[..., :3].astype(np.float32) @ LUMA
    return images.astype(np.float32)


def resize_square(images: np.ndarray, size: int) -> np.ndarray:
    """(n, H, W) float32 -> (n, size, size), bilinear with PIL's antialiasing (aspect ratio not kept)."""
    if images.shape[1:] == (size, size):
        return images
    from PIL import Image

    out = np.empty((len(images), size, size), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(image), mode="F").resize(
            (size, size), Image.Resampling.BILINEAR))
    return np.clip(out, 0.0, 1.0)


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
