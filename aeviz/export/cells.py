"""Cells of every CSV and TSV aeviz writes, safe to open in a spreadsheet.

Text that came from a user (a class name is a folder name in an uploaded zip, or a label in an uploaded
CSV) could start a formula: `=HYPERLINK(...)`, `+cmd|...`, `-2+3`, `@SUM(...)`. Following OWASP's advice on
CSV injection, a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote
in front and is quoted (with its own double quotes doubled). Numbers, and text that is a plain number
(`-0.5`, `1e-07`), are written as they are: a spreadsheet reads them as numbers, never as formulas.

`table_line(cells, delimiter)` is the one way a row is written; `safe_text(value)` is its rule for one cell.
"""

from __future__ import annotations

import numbers
import re
from typing import Iterable, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def safe_text(value) -> tuple[str, bool]:
    """A cell's text, and whether it must be quoted: a formula-like text cell is neutralised (a leading `'`)."""
    if is_number(value):
        return str(value), False
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text, True
    return text, False


def neutralised(value):
    """A cell's value as a table shows it where the viewer can download it as CSV (Streamlit's grid quotes
    but does not neutralise): formula-like text with its leading quote; anything else as it is."""
    return safe_text(value)[0] if isinstance(value, str) else value


def table_cell(value, delimiter: str = ",") -> str:
    """One cell as written: numbers as they are; text neutralised, and quoted when neutralised or when it
    holds the delimiter, a quote or a line break."""
    text, quote = safe_text(value)
    if quote or any(c in text for c in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def table_line(cells: Iterable, delimiter: str = ",") -> str:
    """One row (no line ending) of a CSV (`,`) or TSV (`\\t`)."""
    return delimiter.join(table_cell(cell, delimiter) for cell in cells)


def write_table(handle: TextIO, rows: Iterable[Iterable], delimiter: str = ",", line_end: str = "\n") -> None:
    """Rows written one a line into an open text file (opened with newline="" where `line_end` is "\\r\\n")."""
    for row in rows:
        handle.write(table_line(row, delimiter) + line_end)
