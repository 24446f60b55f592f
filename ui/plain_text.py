"""Text that came from a user (an uploaded file's name, say), shown inside Streamlit's Markdown (captions,
info boxes, spinners) as the plain characters it is: never a link, an image the browser fetches, HTML,
a colour directive or LaTeX."""

from __future__ import annotations

import re

# Each character that can start Markdown, HTML or Streamlit's own syntax inside a line: links and images ([ ] !),
# tags and autolinks (< > : @ .: `http:`, `www.`, `a@b.co`), code, emphasis, strikethrough (` * _ ~), LaTeX ($),
# entities (&), directives (:red[…]), tables (|), headings (#), braces and escapes themselves.
_PUNCTUATION = re.compile(r"([\\`*_\[\]<>!~$:&@.#|{}^])")
_SPACE = re.compile(r"\s+")


def plain(text) -> str:
    """`text` on one line, each of those characters backslash-escaped (CommonMark's escape for any ASCII
    punctuation): rendered, it reads exactly as `text`."""
    return _PUNCTUATION.sub(r"\\\1", _SPACE.sub(" ", str(text)).strip())
