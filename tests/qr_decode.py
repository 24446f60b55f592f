"""Reading QR codes back with an independent decoder (OpenCV's QRCodeDetector, in the dev extra)."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (pip install -r requirements-dev.txt)")

# segno's compact terminal code: two modules per character, top and bottom; True = light
HALF_BLOCKS = {" ": (False, False), "\u2580": (True, False), "\u2584": (False, True), "\u2588": (True, True)}


def decode_image(image: np.ndarray) -> str:
    """The text of the one QR code in a greyscale or BGR image ("" when none is read). OpenCV's detector
    misses some codes at one scale that it reads at another (a full-page screenshot whose code it could not
    find at 1x read at 0.5x), so a few scales are tried, then OpenCV's second detector where it has one."""
    detectors = [cv2.QRCodeDetector()] + ([cv2.QRCodeDetectorAruco()] if hasattr(cv2, "QRCodeDetectorAruco") else [])
    for detector in detectors:
        for scale in (1.0, 0.5, 0.75, 1.5):
            scaled = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale,
                                                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
            text, _, _ = detector.detectAndDecode(scaled)
            if text:
                return text
    return ""


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
