"""QR codes of the app's address, so a class joins by pointing phones at the projector or the terminal.

`aeviz serve` prints `terminal_text(url)`; the Class view shows `png(url, side)`. Both draw the same code
(`code(url)`: segno, error correction M, never a Micro QR, the standard quiet zone of 4 modules).
"""

from __future__ import annotations

import io

BORDER = 4  # modules of quiet zone on each side: what the standard asks, and what scanners rely on


def code(url: str):
    """The QR code (a segno.QRCode) of `url`."""
    import segno

    return segno.make(url, error="m", micro=False)


def modules(url: str) -> int:
    """Modules along one side of the code, quiet zone included."""
    return code(url).symbol_size(scale=1, border=BORDER)[0]


def pixels(url: str, side: int) -> int:
    """The side of `png(url, side)` in pixels: the most whole pixels per module that fit in `side` (at
    least 1), times the modules."""
    count = modules(url)
    return max(1, side // count) * count


def png(url: str, side: int = 400) -> bytes:
    """The code as a PNG of whole pixels per module (crisp, and sharp when shown at its own size), as large
    as fits in `side` pixels (`pixels(url, side)` wide)."""
    qr = code(url)
    scale = max(1, side // qr.symbol_size(scale=1, border=BORDER)[0])
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=BORDER, dark="black", light="white")
    return buffer.getvalue()


def terminal_text(url: str, encoding: str | None = "utf-8") -> str:
    """The code for a terminal: Unicode half blocks (two modules a line, so it fits a terminal's height) where
    `encoding` can write them, else ANSI reverse-video blocks."""
    qr = code(url)
    out = io.StringIO()
    compact = _can_encode("\u2580\u2584\u2588", encoding)
    qr.terminal(out=out, border=BORDER, compact=compact)
    return out.getvalue()


def _can_encode(text: str, encoding: str | None) -> bool:
    try:
        text.encode(encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True
