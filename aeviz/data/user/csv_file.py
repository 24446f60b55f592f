"""A CSV in the layout of Kaggle's MNIST files: a header row `label,pixel0,pixel1,…` (the label column
optional, as in Kaggle's test.csv), then one image per row, its pixels row by row.

Everything that bounds the cost is read before any number is parsed: the columns from the header line
(at most MAX_CSV_COLUMNS), the rows from the line breaks, and rows x columns (at most MAX_CSV_CELLS). Rows
are then parsed and converted a chunk (sized in bytes) at a time. Line endings may be `\\n`, `\\r\\n` or an
old Mac's `\\r`; a UTF-8 byte-order mark is skipped; values may be separated by `,`, `;` or tabs (found
from the header). Every malformed file is refused in one line naming the line and what to change."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Iterator

import numpy as np

from aeviz.data.user.convert import Converted, Converter, Progress, class_indices
from aeviz.data.user.limits import (DEFAULT_SIZE, MAX_CSV_CELLS, MAX_CSV_COLUMNS, MAX_IMAGES, MAX_LABEL_CHARS,
                                    MAX_SIZE, MIN_SIZE, BadUserData, check_conversion_memory, check_counts,
                                    check_size, chunk_images)

LAYOUT = "expected a header row like Kaggle's MNIST CSV: label,pixel0,pixel1,… (label optional)"
PIXEL_COLUMN = re.compile(r"pixel(\d+)$")
DELIMITERS = (b",", b";", b"\t")
MAX_HEADER_BYTES = 16 * MAX_CSV_COLUMNS        # "pixel4095," is 10 characters
MAX_CELL_BYTES = 32                            # a number, generously written, in a row's length bound
BOM = b"\xef\xbb\xbf"


def read_csv(data: bytes, name: str, size: int | None, progress: Progress | None = None) -> Converted:
    """`progress(done, total)` follows the rows converted."""
    data = _plain_text(data, name)
    newline = b"\n" if b"\n" in data else b"\r"  # `\r` alone: an old Mac's line endings
    if newline == b"\n" and data.count(b"\r") > data.count(b"\r\n"):
        raise BadUserData(f"{name} mixes line endings (some lines end in \\r alone, others in \\n); save it again "
                          f"as a CSV")
    header_line = _first_line(data, newline, name)
    delimiter = next((d for d in DELIMITERS if d in header_line), b",")
    columns = header_line.count(delimiter) + 1
    if columns > MAX_CSV_COLUMNS:
        raise BadUserData(f"{name}: line 1 has {columns:,} columns; at most {MAX_CSV_COLUMNS:,} are accepted "
                          f"(a label and up to {math.isqrt(MAX_CSV_COLUMNS - 1)}x{math.isqrt(MAX_CSV_COLUMNS - 1)} pixels)")
    header = _header(header_line, delimiter, name)
    label_column = header.index("label") if "label" in header else None
    pixels = [i for i, cell in enumerate(header) if PIXEL_COLUMN.match(cell)]
    others = [cell for i, cell in enumerate(header) if i != label_column and i not in pixels]
    if not pixels or others:
        shown = ", ".join(others[:3]) if others else header_line[:40].decode(errors="replace")
        raise BadUserData(f"{name}: line 1 has columns {shown!r}; {LAYOUT}")
    side = math.isqrt(len(pixels))
    if side * side != len(pixels):
        raise BadUserData(f"{name}: {len(pixels)} pixel columns do not make a square image; use H*W columns "
                          f"with H = W (e.g. 784 for 28x28)")
    breaks = data.count(newline)
    if breaks > 2 * MAX_IMAGES + 2:  # far more lines than images may be, blank ones allowed: not counted one by one
        raise BadUserData(f"{name} has {breaks:,} lines; at most {MAX_IMAGES:,} images are accepted: use a subset")
    rows = sum(1 for _ in _rows(data, newline))
    if rows * len(header) > MAX_CSV_CELLS:
        raise BadUserData(f"{name}: {rows:,} rows of {len(header):,} values are {rows * len(header):,} values; at "
                          f"most {MAX_CSV_CELLS / 1e6:.0f} million are accepted: use fewer rows or smaller images")
    if size is None:
        size = side if MIN_SIZE <= side <= MAX_SIZE else DEFAULT_SIZE
    check_counts(name, rows, side, side, check_size(size))
    check_conversion_memory(name, rows, size)
    converter = Converter(rows, size, name, progress)
    raw_labels = parse_rows(data, name, newline, delimiter, header, pixels, label_column, converter)
    labels, class_names = None, ("all images",)
    if raw_labels is not None:
        labels, class_names = class_indices(raw_labels, f"{name}: column label")
    return Converted(converter.finish(), labels, class_names)


def parse_rows(data: bytes, name: str, newline: bytes, delimiter: bytes, header: list[str], pixels: list[int],
               label_column: int | None, converter: Converter) -> np.ndarray | None:
    """Every row's pixels into `converter`, a chunk of rows (sized in bytes) at a time; returns the label
    column (numbers, or text if any label is not a number). A short, long or non-numeric row is named by
    its line."""
    import pandas as pd

    side = math.isqrt(len(pixels))
    step = chunk_images(len(header) * 4 * 3)  # the parsed frame, its pixels as an array, their grey
    labels: list[np.ndarray] = []
    chunk: list[tuple[int, bytes]] = []
    for number, line in _rows(data, newline):
        _check_line(number, line, name, delimiter, len(header))
        chunk.append((number, line))
        last = len(chunk) + converter.done == len(converter.images)
        if len(chunk) >= step or last:
            values, text_labels = _parse_chunk(chunk, name, delimiter, header, pixels, label_column)
            converter.add(values.reshape(-1, side, side))
            if text_labels is not None:
                labels.append(text_labels)
            chunk.clear()
    if label_column is None:
        return None
    text = np.concatenate(labels)
    numeric = pd.to_numeric(pd.Series(text), errors="coerce")
    return numeric.to_numpy() if not numeric.isna().any() else text


def _check_line(number: int, line: bytes, name: str, delimiter: bytes, columns: int) -> None:
    if len(line) > columns * MAX_CELL_BYTES + MAX_LABEL_CHARS:
        raise BadUserData(f"{name}: line {number} is {len(line):,} characters long, more than {columns} values "
                          f"need; every row holds one image")
    found = line.count(delimiter) + 1
    if found == columns:
        return
    other = next((d for d in DELIMITERS if d != delimiter and line.count(d) + 1 == columns), None)
    if other is not None:
        raise BadUserData(f"{name}: line {number} separates its values with {other.decode()!r}, line 1 "
                          f"with {delimiter.decode()!r}; use one separator throughout")
    if found > columns:  # a short row is named when parsed, with the column whose value is missing
        raise BadUserData(f"{name}: line {number} has {found} values; the header has {columns}, and every "
                          f"row needs {columns} values")


def _parse_chunk(chunk: list[tuple[int, bytes]], name: str, delimiter: bytes, header: list[str], pixels: list[int],
                 label_column: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(pixels as float32 (rows, H*W), the labels as text or None) of a chunk of (line number, line). The
    label is cut from each line first, so the rest parses as one block of numbers (far faster than a type
    per column when rows are wide)."""
    import pandas as pd

    labels, lines = None, [line for _, line in chunk]
    if label_column is not None:
        labels, lines = _cut_labels(chunk, name, delimiter, label_column)
    try:
        frame = pd.read_csv(io.BytesIO(b"\n".join(lines)), header=None, names=list(range(len(pixels))),
                            dtype=np.float32, sep=delimiter.decode(), engine="c", keep_default_na=False,
                            na_values=[""], skip_blank_lines=False, encoding_errors="replace")
    except pd.errors.ParserError:  # the field counts were checked: quotes that do not pair up
        raise BadUserData(f"{name}: lines {chunk[0][0]} to {chunk[-1][0]} hold quotes that do not pair up; "
                          f"write the values without quotes") from None
    except (ValueError, TypeError):  # a cell that is not a number: find it (slow, only on failure)
        raise _first_bad_cell(chunk, name, delimiter, header, pixels) from None
    if len(frame) != len(chunk):  # quotes that join lines
        raise BadUserData(f"{name}: lines {chunk[0][0]} to {chunk[-1][0]} hold quotes that do not pair up; "
                          f"write the values without quotes")
    values = frame.to_numpy(dtype=np.float32)
    missing = np.argwhere(np.isnan(values))
    if len(missing):
        row, column = map(int, missing[0])
        raise BadUserData(f"{name}: line {chunk[row][0]}, column {header[pixels[column]]}: the value "
                          f"is missing; every row needs {len(header)} values")
    return values, labels


def _cut_labels(chunk: list[tuple[int, bytes]], name: str, delimiter: bytes,
                label_column: int) -> tuple[np.ndarray, list[bytes]]:
    """(the label of each line as text, each line without it)."""
    labels, lines = [], []
    for number, line in chunk:
        cells = line.split(delimiter, label_column + 1)
        label = cells[label_column].strip().strip(b'"').strip() if len(cells) > label_column else b""
        if not label:
            raise BadUserData(f"{name}: line {number}, column label: the label is missing")
        if len(label) > MAX_LABEL_CHARS:
            raise BadUserData(f"{name}: line {number}, column label: {len(label):,} characters; labels of at most "
                              f"{MAX_LABEL_CHARS} characters are accepted")
        labels.append(label.decode("utf-8", errors="replace"))
        lines.append(delimiter.join(cells[:label_column] + cells[label_column + 1:]))
    return np.array(labels, dtype=str), lines


def _plain_text(data: bytes, name: str) -> bytes:
    """The file's bytes without a UTF-8 byte-order mark; UTF-16/32 and binary files are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadUserData(f"{name} is saved as UTF-16 text; save it as a UTF-8 (or plain) CSV")
    if data.startswith(BOM):
        data = data[len(BOM):]
    if b"\0" in data[:MAX_HEADER_BYTES]:
        raise BadUserData(f"{name} is not a text file (it holds zero bytes); {LAYOUT}")
    if not data.strip():
        raise BadUserData(f"{name} holds no rows; {LAYOUT}")
    return data


def _first_line(data: bytes, newline: bytes, name: str) -> bytes:
    end = data.find(newline, 0, MAX_HEADER_BYTES + 1)
    if end < 0 and len(data) > MAX_HEADER_BYTES:
        raise BadUserData(f"{name}: line 1 is longer than {MAX_HEADER_BYTES // 1024} KB, more than "
                          f"{MAX_CSV_COLUMNS:,} column names need; at most {MAX_CSV_COLUMNS:,} columns are accepted")
    return (data if end < 0 else data[:end]).rstrip(b"\r").strip()


def _header(line: bytes, delimiter: bytes, name: str) -> list[str]:
    try:
        text = line.decode("utf-8")
        cells = next(csv.reader([text], delimiter=delimiter.decode(), strict=True), [])
    except UnicodeDecodeError as exc:
        raise BadUserData(f"{name}: line 1 is not UTF-8 text (byte {line[exc.start]:#04x} at position {exc.start}); "
                          f"save the file as a UTF-8 CSV") from None
    except csv.Error as exc:
        raise BadUserData(f"{name}: line 1 cannot be read ({exc}); {LAYOUT}") from None
    return [cell.strip().lower() for cell in cells]


def _rows(data: bytes, newline: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, the line without its line break) of each non-blank line after the header."""
    number, start = 1, data.find(newline) + 1 if newline in data else len(data)
    while start < len(data):
        end = data.find(newline, start)
        end = len(data) if end < 0 else end
        number += 1
        line = data[start:end].rstrip(b"\r")
        if line.strip():
            yield number, line
        start = end + 1


def _first_bad_cell(chunk: list[tuple[int, bytes]], name: str, delimiter: bytes, header: list[str],
                    pixels: list[int]) -> BadUserData:
    for number, line in chunk:
        row = line.decode("utf-8", errors="replace").split(delimiter.decode())
        for i in pixels:
            if i < len(row):
                try:
                    if not math.isfinite(float(row[i])):
                        raise ValueError(row[i])
                except ValueError:
                    return BadUserData(f"{name}: line {number}, column {header[i]}: {row[i][:40]!r} is not a "
                                       f"number; every pixel must be a number (0..255 or 0..1)")
    return BadUserData(f"{name} could not be read as a CSV of numbers; {LAYOUT}")
