"""Shared CLI output: the final JSON line on stdout and a progress bar on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """The machine-readable last line on stdout."""
    print(json.dumps(data, default=_default), flush=True)


def _default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


class ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal, a line per update otherwise)."""

    def __init__(self, label: str, stream=None, min_interval: float = 0.5):
        self.label = label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.min_interval = min_interval
        self._last = -1e9

    def update(self, fraction: float, detail: str = "", force: bool = False) -> None:
        import time

        now = time.monotonic()
        if not force and now - self._last < (self.min_interval if self.interactive else 5.0):
            return
        self._last = now
        width = 24
        filled = int(round(width * max(0.0, min(1.0, fraction))))
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% {detail}"
        if self.interactive:
            self.stream.write("\r" + line[:160].ljust(160))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, message: str = "") -> None:
        if self.interactive:
            self.stream.write("\n")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()
