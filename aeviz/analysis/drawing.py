"""Your own drawing through a trained model: preprocess it the way the dataset was made, then
reconstruct it, place it among the test codes, and say how typical its reconstruction error is.

MNIST's recipe (LeCun et al.): the stroke's bounding box is scaled to fit a 20x20 box keeping the
aspect ratio (anti-aliased, hence grey levels), then placed in a 28x28 field so that the centre of
mass of its pixels lies at the field's centre. Fashion-MNIST's (Xiao et al. 2017, section 2): the
product photo is trimmed to the object, its longer side scaled to 28 pixels keeping the aspect
ratio, the shorter side padded to 28 with the object in the middle (no centre-of-mass shift), and
the intensities negated (the paper also sharpens; skipped here). scikit-learn's 8x8 digits fill
their whole box, so for them the stroke is scaled to fit 8x8 and centred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from aeviz.errors import AevizError
from aeviz.safe_io import UploadRefused, read_image_bounded

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_WORKING_SIDE = 1024  # pixels; larger uploads are shrunk before conversion to floats
UPLOAD_TYPES = ("png", "jpg", "jpeg")
STROKE_THRESHOLD = 0.1    # pixels above this share of the brightest one count as stroke
MNIST_BOX = 20
FASHION_TRIM = 0.05  # Fashion-MNIST trims edges within 5% of the background's intensity
NEAREST = 5


class UnsupportedImage(AevizError):
    """An uploaded file is not a PNG or JPEG image, is too large, or holds no stroke."""


# ---------------------------------------------------------------------------- reading
def read_upload(data: bytes, name: str = "upload") -> np.ndarray:
    """A greyscale image (H, W) float32 in [0, 1] from the bytes of a PNG or JPEG file.

    Anything else (another format, a file over 5 MB, more pixels than safe_io allows once decoded,
    a damaged file) raises UnsupportedImage with a message saying why. Images larger than
    MAX_WORKING_SIDE on a side are shrunk first: preprocessing scales the stroke to 20x20 anyway.
    """
    try:
        with read_image_bounded(data, name, max_bytes=MAX_UPLOAD_BYTES) as image:
            image.thumbnail((MAX_WORKING_SIDE, MAX_WORKING_SIDE))
            return to_grey(np.asarray(image.convert("RGBA")))
    except UploadRefused as exc:
        raise UnsupportedImage(str(exc)) from None


def to_grey(pixels: np.ndarray, clear: float = 1.0) -> np.ndarray:
    """Greyscale (H, W) in [0, 1] from an array (H, W), (H, W, 3) or (H, W, 4) of 0…255 values;
    transparent pixels count as `clear`: white paper for an uploaded image, black for the app's drawing
    canvas (white strokes on black, as the datasets' images are; it returns RGBA on a clear background)."""
    array = np.asarray(pixels, np.float32)
    if array.max(initial=0) > 1.0:
        array = array / 255.0
    if array.ndim == 2:
        return np.clip(array, 0, 1)
    rgb, alpha = array[..., :3], (array[..., 3:4] if array.shape[-1] == 4 else np.ones_like(array[..., :1]))
    rgb = rgb * alpha + clear * (1 - alpha)  # composite over the background
    # ITU-R 601 luma, as PIL's "L" conversion
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(grey, 0, 1)


# ---------------------------------------------------------------------------- preprocessing
def strokes_bright(grey: np.ndarray) -> np.ndarray:
    """The image with strokes bright on a dark background: inverted when the background (the median
    of the border pixels) is bright, as for ink on paper."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > 0.5 else grey


def bounding_box(image: np.ndarray, threshold: float = STROKE_THRESHOLD) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom and right exclusive, of pixels above threshold x the maximum."""
    peak = float(image.max(initial=0))
    mask = image > threshold * peak if peak > 0 else np.zeros(image.shape, bool)
    if not mask.any():
        raise UnsupportedImage("the image is empty: draw a digit (or upload a picture of one) first")
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def fit_in_box(image: np.ndarray, box: int) -> np.ndarray:
    """The image scaled (area-averaged) so its longer side is `box` pixels, aspect ratio kept."""
    height, width = image.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX)
    return np.clip(np.asarray(resized, np.float32), 0, None)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position."""
    total = float(image.sum())
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def paste(field: np.ndarray, patch: np.ndarray, top: int, left: int) -> np.ndarray:
    """`patch` placed at (top, left) in `field`, clipped where it runs over an edge."""
    h, w = patch.shape
    ft, fl = max(top, 0), max(left, 0)
    fb, fr = min(top + h, field.shape[0]), min(left + w, field.shape[1])
    if fb > ft and fr > fl:
        field[ft:fb, fl:fr] = patch[ft - top:fb - top, fl - left:fr - left]
    return field


def preprocess_for(dataset: str, grey: np.ndarray) -> np.ndarray:
    """A greyscale drawing or photo (H, W) in [0, 1] made into an image of `dataset`, the way that
    dataset's images were made (see the module docstring)."""
    if dataset == "fashion-mnist":
        return preprocess_fashion(grey)
    return preprocess(grey, 8 if dataset == "digits" else 28)


def recipe_text(dataset: str) -> str:
    """How preprocess_for treats an input for `dataset`, in a few words (for a caption)."""
    if dataset == "fashion-mnist":
        return ("object bright on black, trimmed to its edges, longer side scaled to 28 keeping the aspect "
                "ratio, centred in 28x28 (Fashion-MNIST's recipe)")
    if dataset == "digits":
        return "strokes bright, cropped, scaled to fit 8x8 and centred"
    return "strokes bright, cropped, scaled to fit 20x20 and centred by centre of mass in 28x28 (MNIST's recipe)"


def preprocess_fashion(grey: np.ndarray, size: int = 28) -> np.ndarray:
    """Fashion-MNIST's recipe: object bright, trimmed to the pixels more than 5% from the background,
    longer side scaled to `size` (aspect kept), placed in the middle of a size x size field.
    Intensities are kept as they are (a dark garment stays dark)."""
    image = strokes_bright(np.asarray(grey, np.float32))
    peak = float(image.max(initial=0))
    if peak <= FASHION_TRIM:
        raise UnsupportedImage("the image is empty: draw a piece of clothing (or upload a picture of one) first")
    top, bottom, left, right = bounding_box(image, FASHION_TRIM / peak)
    image = image[top:bottom, left:right]
    patch = image if max(image.shape) == size else fit_in_box(image, size)
    field = np.zeros((size, size), np.float32)
    # an odd margin puts the extra pixel above and left, as in the dataset's own images
    paste(field, patch, (size - patch.shape[0] + 1) // 2, (size - patch.shape[1] + 1) // 2)
    return np.clip(field, 0, 1)


def preprocess(grey: np.ndarray, size: int = 28) -> np.ndarray:
    """A greyscale drawing (H, W) in [0, 1] made into a dataset image (size, size) in [0, 1].

    size 28 (MNIST, Fashion-MNIST): strokes bright, cropped to their bounding box, scaled to fit
    20x20, placed so the centre of mass is at (14, 14). size 8 (digits): scaled to fit 8x8, centred.
    """
    image = strokes_bright(np.asarray(grey, np.float32))
    top, bottom, left, right = bounding_box(image)
    image = image[top:bottom, left:right]
    image = image / image.max()
    field = np.zeros((size, size), np.float32)
    if size == 28:
        patch = fit_in_box(image, MNIST_BOX)
        row, col = centre_of_mass(patch)
        paste(field, patch, int(round(size / 2 - row)), int(round(size / 2 - col)))
    else:
        # The 8x8 digits were made by counting ink in 4x4 blocks of 32x32 bitmaps, so their strokes are
        # about a pixel and a half wide; a pen stroke scaled down this far would be a faint hairline.
        from scipy.ndimage import grey_dilation

        thicken = max(1, round(max(image.shape) / (2 * size)))
        patch = fit_in_box(grey_dilation(image, size=(thicken, thicken)), size)
        paste(field, patch, (size - patch.shape[0]) // 2, (size - patch.shape[1]) // 2)
    return np.clip(field / max(float(field.max()), 1e-8), 0, 1)


# ---------------------------------------------------------------------------- through a model
def error_percentile(error: float, test_errors: np.ndarray) -> float:
    """Percent of test images whose reconstruction error is at most `error` (0 … 100)."""
    test_errors = np.asarray(test_errors)
    return 100.0 * float((test_errors <= error).sum()) / max(len(test_errors), 1)


def nearest_codes(code: np.ndarray, codes: np.ndarray, count: int = NEAREST) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the `count` rows of `codes` nearest to `code` (Euclidean), nearest first, and distances."""
    distances = np.linalg.norm(np.asarray(codes, np.float64) - np.asarray(code, np.float64).reshape(1, -1), axis=1)
    order = np.argsort(distances, kind="stable")[:count]
    return order, distances[order]


@dataclass
class TestReference:
    """A model's view of its test set, computed once and reused for every drawing."""

    codes: np.ndarray     # (N, k)
    errors: np.ndarray    # (N,) reconstruction MSE per pixel


def test_reference(model, test_images) -> TestReference:
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.latent import encode_images, reconstruction_errors

    return TestReference(encode_images(model, test_images), reconstruction_errors(model, test_images))


@dataclass
class DrawingResult:
    image: np.ndarray            # (H, W) the preprocessed input
    code: np.ndarray             # (k,)
    reconstruction: np.ndarray   # (H, W)
    error: float                 # MSE per pixel
    percentile: float            # of the test set's errors at or below this one
    neighbours: np.ndarray       # test-set indices of the nearest codes
    distances: np.ndarray


def analyse_drawing(model, image: np.ndarray, reference: TestReference, count: int = NEAREST) -> DrawingResult:
    """What a model makes of one preprocessed image (H, W), against its test set."""
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.latent import decode_codes, encode_images, greyscale, per_image_mse

    expected = model.input_shape[1:]
    if tuple(image.shape) != tuple(expected):
        raise AevizError(f"this model takes {expected[0]}x{expected[1]} images; the input is "
                         f"{image.shape[0]}x{image.shape[1]}")
    code = encode_images(model, np.asarray(image, np.float32).reshape(1, *model.input_shape))[0]
    recon = greyscale(decode_codes(model, code[None]))[0]
    error = float(per_image_mse(image[None], recon[None])[0])  # as the test set's errors are measured
    neighbours, distances = nearest_codes(code, reference.codes, count)
    return DrawingResult(np.asarray(image, np.float32), code, recon, error,
                         error_percentile(error, reference.errors), neighbours, distances)
