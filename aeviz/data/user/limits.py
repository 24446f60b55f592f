"""What a user dataset may hold, checked from file sizes and headers before any image is decoded.

The budget is MNIST's: 60,000 images of 28x28 fit (47 M pixels once converted), and so do Kaggle's
MNIST CSV files (76 MB).
"""

from __future__ import annotations

from aeviz.errors import AevizError
from aeviz.safe_io import UploadRefused, zip_member_count

MAX_FILE_BYTES = 128 * 2**20          # the file as uploaded or given
MAX_INFLATED_BYTES = 256 * 2**20      # what a zip or .npz unpacks to, counted as it inflates
MAX_IMAGES = 70_000
MAX_MEMBERS = 16                      # files in an .npz (images, labels and a few more are plenty)
MIN_IMAGES = 10                       # at least two for the test split and a batch to train on
MAX_SOURCE_PIXELS = 1024 * 1024       # one image before resizing (header dimensions)
MAX_CONVERTED_PIXELS = 50_000_000     # images x size x size after conversion (~200 MB as float32)
MAX_CLASSES = 100
MAX_LABEL_CHARS = 64                  # one label as text
MAX_CSV_COLUMNS = 64 * 64 + 1         # a label and up to 64x64 pixels per row, counted from the header line
MAX_CSV_CELLS = 60_000_000            # rows x columns (MNIST's 70,000 x 785 = 55 M fit): bounds parsing time
CHUNK_BYTES = 16 * 2**20              # working memory of one conversion step, whatever the images' size
MAX_CONVERSION_BYTES = 512 * 2**20    # what converting one file may hold at once (besides the file itself)
MIN_SIZE, MAX_SIZE = 4, 64            # side of the converted square images
DEFAULT_SIZE = 28
TEST_FRACTION = 0.2
SPLIT_SEED = 0


class BadUserData(AevizError):
    """A user's data file cannot be used; the message names the file (and row or member) and the fix."""


def check_file_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise BadUserData(f"{name} is {size / 2**20:.0f} MB; files up to {MAX_FILE_BYTES // 2**20} MB are "
                          f"accepted: use fewer or smaller images")
    if size == 0:
        raise BadUserData(f"{name} is empty")


def check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise BadUserData(f"image size must be a whole number from {MIN_SIZE} to {MAX_SIZE} (got {size!r})")
    return size


def check_counts(name: str, count: int, height: int, width: int, size: int) -> None:
    """Image count and pixels, from a header, before decoding."""
    if count < MIN_IMAGES:
        raise BadUserData(f"{name} holds {count} images; at least {MIN_IMAGES} are needed to train and test")
    if count > MAX_IMAGES:
        raise BadUserData(f"{name} holds {count:,} images; at most {MAX_IMAGES:,} are accepted: use a subset")
    check_source_pixels(name, height, width)
    if count * size * size > MAX_CONVERTED_PIXELS:
        fit = MAX_CONVERTED_PIXELS // (size * size)
        raise BadUserData(f"{name}: {count:,} images at {size}x{size} exceed the budget of "
                          f"{MAX_CONVERTED_PIXELS / 1e6:.0f} M pixels; use at most {fit:,} images at that size, "
                          f"or a smaller size")


def check_conversion_memory(name: str, count: int, size: int, held_bytes: int = 0) -> None:
    """Before anything is decoded: the converted images (float32, then uint8 and the split's copies), what
    the reader must hold of the source at once (`held_bytes`) and a few working chunks, against the budget."""
    needed = count * size * size * (4 + 1 + 1) + held_bytes + 3 * CHUNK_BYTES
    if needed > MAX_CONVERSION_BYTES:
        raise BadUserData(f"{name}: converting it needs about {needed / 2**20:,.0f} MB of memory, over the "
                          f"budget of {MAX_CONVERSION_BYTES // 2**20} MB; use fewer or smaller images")


def chunk_images(image_bytes: int) -> int:
    """How many images of `image_bytes` (as float32, channels included) one conversion step takes."""
    return max(1, CHUNK_BYTES // max(1, image_bytes))


def check_source_pixels(name: str, height: int, width: int) -> None:
    if height < 1 or width < 1:
        raise BadUserData(f"{name}: images of {height}x{width} pixels hold nothing")
    if height * width > MAX_SOURCE_PIXELS:
        raise BadUserData(f"{name}: images of {width}x{height} pixels are larger than the "
                          f"{MAX_SOURCE_PIXELS / 2**20:.0f} megapixel accepted; shrink them first")


def check_zip_members(data: bytes, name: str, most: int, advice: str) -> None:
    """The member count from the zip's end record, before its directory is parsed (a directory of millions
    of entries costs gigabytes as Python objects)."""
    try:
        count = zip_member_count(data)
    except UploadRefused as exc:
        raise BadUserData(f"{name}: {exc}") from None
    if count is not None and count > most:
        raise BadUserData(f"{name} holds {count:,} files; {advice}")
