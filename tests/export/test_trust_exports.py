"""Issue 34, item 7: class names come from users' files (a zip's folder names, an npz's or a CSV's text
labels); in every CSV and TSV aeviz writes, a text cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is neutralised as OWASP advises (a leading single quote, the cell quoted), while numbers,
including negative ones, are left as numbers."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from aeviz.export.cells import safe_text, table_line

HOSTILE = ['=HYPERLINK("http://evil.example/?x","click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd", "@SUM(1+1)*cmd",
           "\rx", "plain"]


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-2+3", "@A1", "\tx", "\rx", "-", "=", "-inf x"])
def test_formula_like_text_gets_a_quote_and_is_quoted(text):
    assert safe_text(text) == ("'" + text, True)
    line = table_line([text, 1], ",")
    assert next(csv.reader([line])) == ["'" + text, "1"]
    assert line.startswith('"\'')


@pytest.mark.parametrize("value", [-0.5, "-0.5", "+3", "-1e-07", "1.5E+3", -3, 0, "-inf", "nan", "cat", "a=b", ""])
def test_numbers_and_harmless_text_are_written_as_they_are(value):
    assert table_line([value], ",") == str(value)
    assert table_line([value], "\t") == str(value)


def test_quotes_delimiters_and_line_breaks_inside_a_cell_stay_one_cell():
    line = table_line(['a "b", c', "x\ty", "=a,b"], ",")
    assert next(csv.reader([line])) == ['a "b", c', "x\ty", "'=a,b"]
    assert next(csv.reader([table_line(["x\ty", "=z"], "\t")], delimiter="\t")) == ["x\ty", "'=z"]


@pytest.fixture
def hostile_run(tmp_path, monkeypatch, capsys):
    """A run trained (1 epoch) on an npz whose text labels are formulas."""
    from aeviz.cli import main

    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    labels = np.repeat(np.array(HOSTILE), 6)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=rng.integers(0, 256, size=(len(labels), 8, 8), dtype=np.uint8), labels=labels)
    path = tmp_path / "hostile.npz"
    path.write_bytes(buffer.getvalue())
    assert main(["train", "--dataset", str(path), "--variant", "plain", "--k", "2", "--epochs", "1",
                 "--set", "hidden=8"]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]


def _check_class_cells(cells: list[str], extra: tuple[str, ...] = ()) -> None:
    assert cells, "no rows"
    for cell in cells:
        assert cell in ["'" + text for text in HOSTILE[:-1]] + ["plain", *extra], cell
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "plain" in cells and any(cell.startswith("'=") for cell in cells)


def test_exported_csv_and_projector_tsv_neutralise_hostile_class_names(hostile_run, tmp_path, capsys):
    from aeviz.cli import main

    assert main(["export", hostile_run, "--format", "csv", "--output", str(tmp_path / "csv")]) == 0
    text = (tmp_path / "csv" / "codes.csv").read_bytes().decode()  # as written: a "\r" in a cell stays
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["test_index", "label", "class", "z0", "z1"]
    _check_class_cells([row[2] for row in rows[1:]])
    for line in text.split("\r\n")[1:-1]:  # the neutralised cell is quoted in the file itself
        assert '"\'' in line or ",plain," in line
    codes = np.array([[float(v) for v in row[3:]] for row in rows[1:]])
    assert np.isfinite(codes).all() and (codes < 0).any()  # negative codes are still plain numbers
    assert all(not row[3].startswith("'") for row in rows[1:])

    assert main(["export", hostile_run, "--format", "projector", "--output", str(tmp_path / "proj")]) == 0
    lines = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    assert lines[0] == "class\ttest_index"
    rows = list(csv.reader(lines[1:], delimiter="\t"))
    _check_class_cells([row[0] for row in rows], ("x",))  # the Projector's cells are one line: "\rx" is "x"
    assert all(row[1].isdigit() for row in rows)


def test_tables_on_pages_neutralise_formula_like_text_before_the_grids_csv_download():
    """Streamlit's grid downloads a table as CSV quoting cells but not neutralising them: data_table does it."""
    import pandas as pd

    from ui.theme import spreadsheet_safe

    rows = [{"class": "=HYPERLINK(1)", "x": -0.5, "label": "-0.5", "hidden": [16, 8]},
            {"class": "cat", "x": 1.0, "label": "@cmd", "hidden": [8]}]
    safe = spreadsheet_safe(rows)
    assert safe["class"].tolist() == ["'=HYPERLINK(1)", "cat"] and safe["label"].tolist() == ["-0.5", "'@cmd"]
    assert safe["x"].tolist() == [-0.5, 1.0] and safe["hidden"].tolist() == [[16, 8], [8]]
    assert spreadsheet_safe({"=x": [1]}).columns.tolist() == ["'=x"]
    plain = pd.DataFrame({"k": [2, 4], "variant": ["plain", "vae"]})
    assert spreadsheet_safe(plain) is plain  # nothing to change: the same frame
