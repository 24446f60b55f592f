"""A run's test codes as tables: codes.npy + labels.npy + class_names.txt, or one codes.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aeviz.export.cells import write_table


def write_codes(data, folder: Path, result, fmt: str) -> None:
    """`fmt` is "npy" or "csv"; appends the files written to `result.files`."""
    names = [data.class_names[label] if data.labelled else "" for label in data.labels]
    if fmt == "npy":
        np.save(folder / "codes.npy", data.codes)
        np.save(folder / "labels.npy", data.labels if data.labelled else np.full(len(data.codes), -1))
        (folder / "class_names.txt").write_text("\n".join(data.class_names if data.labelled else []) + "\n")
        result.files += ["codes.npy", "labels.npy", "class_names.txt"]
        result.notes.append(f"codes.npy holds {data.codes.shape[0]} codes of {data.codes.shape[1]} numbers (float32); "
                            + ("labels.npy their class indices, class_names.txt the names, one a line"
                               if data.labelled else "the dataset has no labels, so labels.npy is all -1"))
        return
    k = data.codes.shape[1]
    rows = ([i, int(label) if data.labelled else "", name, *(f"{v:.7g}" for v in code)]
            for i, (code, label, name) in enumerate(zip(data.codes, data.labels, names)))
    with open(folder / "codes.csv", "w", newline="") as handle:  # class names are neutralised (export.cells)
        write_table(handle, [["test_index", "label", "class", *[f"z{j}" for j in range(k)]]], ",", "\r\n")
        write_table(handle, rows, ",", "\r\n")
    result.files.append("codes.csv")
    result.notes.append(f"codes.csv: {len(data.codes)} rows (test images) of index, label, class and z0..z{k - 1}")
