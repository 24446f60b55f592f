"""Reading QR codes back with an independent decoder (OpenCV's QRCodeDetector, in the dev extra)."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (pip install -r requirements-dev.txt)")

# segno's compact terminal code: two modules per character, top and bottom; True = light
HALF_BLOCKS = {" ": (False, False), "\u2580": (True, False), "\u2584": (False, True), "\u2588": (True, True)}


def decode_image(image: np.ndarray) -> str:
    """The text of the one QR code in a greyscale or BGR image ("" when none is read)."""
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def decode_png(data: bytes) -> str:
    return decode_image(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE))


def decode_terminal(text: str, pixels_per_module: int = 8) -> str:
    """The text of a code drawn with segno's compact terminal output: each character is two modules, one
    above the other; a full block is two light ones and a space two dark ones."""
    rows = [line for line in text.splitlines() if line]
    width = max(len(line) for line in rows)
    light = np.ones((2 * len(rows), width), dtype=bool)
    for y, line in enumerate(rows):
        for x, char in enumerate(line.ljust(width, "\u2588")):
            light[2 * y, x], light[2 * y + 1, x] = HALF_BLOCKS[char]
    image = np.where(light, 255, 0).astype(np.uint8)
    image = np.kron(image, np.ones((pixels_per_module, pixels_per_module), dtype=np.uint8))
    return decode_image(image)
