"""A CSV in the layout of Kaggle's MNIST files: a header row `label,pixel0,pixel1,…` (the label column
optional, as in Kaggle's test.csv), then one image per row, its pixels row by row. Rows and columns
are counted from the header and the line breaks before any number is parsed."""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np

from aeviz.data.user.convert import Converted, class_indices, convert_images
from aeviz.data.user.limits import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, BadUserData, check_counts, check_size

LAYOUT = "expected a header row like Kaggle's MNIST CSV: label,pixel0,pixel1,… (label optional)"
PIXEL_COLUMN = re.compile(r"pixel(\d+)$")


def read_csv(data: bytes, name: str, size: int | None) -> Converted:
    header_end = data.find(b"\n")
    header_line = (data if header_end < 0 else data[:header_end]).decode("utf-8-sig", errors="replace").strip()
    header = [cell.strip().lower() for cell in next(csv.reader([header_line]), [])]
    label_column = header.index("label") if "label" in header else None
    pixels = [i for i, cell in enumerate(header) if PIXEL_COLUMN.match(cell)]
    others = [cell for i, cell in enumerate(header) if i != label_column and i not in pixels]
    if not pixels or others:
        shown = ", ".join(others[:3]) if others else header_line[:40]
        raise BadUserData(f"{name}: line 1 has columns {shown!r}; {LAYOUT}")
    side = math.isqrt(len(pixels))
    if side * side != len(pixels):
        raise BadUserData(f"{name}: {len(pixels)} pixel columns do not make a square image; use H*W columns "
                          f"with H = W (e.g. 784 for 28x28)")
    rows = len(_data_lines(data))
    if size is None:
        size = side if MIN_SIZE <= side <= MAX_SIZE else DEFAULT_SIZE
    check_counts(name, rows, side, side, check_size(size))
    images, raw_labels = parse_rows(data, name, header, pixels, label_column)
    labels, class_names = None, ("all images",)
    if raw_labels is not None:
        labels, class_names = class_indices(raw_labels, f"{name}: column label")
    return Converted(convert_images(images.reshape(-1, side, side), size, name), labels, class_names)


def parse_rows(data: bytes, name: str, header: list[str], pixels: list[int],
           label_column: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Pixels as float32 (rows, H*W) and the label column (numbers, or text if any label is not a number).
    A short, long or non-numeric row is named by its line."""
    import pandas as pd

    dtypes = {i: np.float32 for i in pixels}
    if label_column is not None:
        dtypes[label_column] = str
    try:
        frame = pd.read_csv(io.BytesIO(data), header=0, names=list(range(len(header))), dtype=dtypes,
                            skip_blank_lines=True, engine="c", keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:  # e.g. "Expected 785 fields in line 7, saw 786"
        raise BadUserData(f"{name}: {str(exc).strip().splitlines()[-1]}; every row needs {len(header)} values") from None
    except (ValueError, TypeError):  # a cell that is not a number: find it (slow, only on failure)
        raise _first_bad_cell(data, name, header, pixels) from None
    values = frame[pixels].to_numpy(dtype=np.float32)
    missing = np.argwhere(np.isnan(values))
    if len(missing):
        row, column = map(int, missing[0])
        raise BadUserData(f"{name}: line {_data_lines(data)[row]}, column {header[pixels[column]]}: the value "
                          f"is missing; every row needs {len(header)} values")
    if label_column is None:
        return values, None
    empty = np.flatnonzero(frame[label_column].isna().to_numpy())
    if len(empty):
        raise BadUserData(f"{name}: line {_data_lines(data)[int(empty[0])]}, column label: the label is missing")
    labels = frame[label_column].to_numpy(dtype=str)
    numeric = pd.to_numeric(frame[label_column], errors="coerce")
    return values, (numeric.to_numpy() if not numeric.isna().any() else labels)


def _data_lines(data: bytes) -> list[int]:
    """File line numbers (from 1) of the non-blank lines after the header: row i of the table is on line [i]."""
    return [number for number, line in enumerate(data.split(b"\n")[1:], start=2) if line.strip()]


def _first_bad_cell(data: bytes, name: str, header: list[str], pixels: list[int]) -> BadUserData:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    next(reader, None)
    for line, row in enumerate(reader, start=2):
        for i in pixels:
            if i < len(row):
                try:
                    float(row[i])
                except ValueError:
                    return BadUserData(f"{name}: line {line}, column {header[i]}: {row[i]!r} is not a number; "
                                       f"every pixel must be a number (0..255 or 0..1)")
    return BadUserData(f"{name} could not be read as a CSV of numbers; {LAYOUT}")
