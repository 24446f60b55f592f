"""Uploads that would cost far more than their size (#34): a small compressed .npz that unpacks to 256 MB,
a CSV with very many columns, and malformed CSVs. Memory and time are measured in child processes (peak
resident memory from getrusage, a timeout on each); every malformed file ends in one clear line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aeviz.data.user import BadUserData, import_file
from aeviz.data.user import limits

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, resource, sys, time
from aeviz.data.user import BadUserData, import_file
import numpy, pandas, PIL.Image, sklearn.model_selection  # what a conversion loads, loaded before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    info = import_file(sys.argv[1], size=28)
    outcome = f"converted {info.train_count + info.test_count} images"
except BadUserData as exc:
    outcome = f"refused: {exc}"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_mb": (after - before) / 1024, "seconds": time.monotonic() - start, "outcome": outcome}))
"""


def convert_in_child(path: Path, cache: Path, timeout: float = 240) -> dict:
    env = {**os.environ, "AEVIZ_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_small_npz_that_unpacks_to_256_mb_converts_in_bounded_memory(tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, images=np.zeros((256, 1024, 1024), dtype=np.uint8))  # 256 MB as 0.26 MB
    assert path.stat().st_size < 400_000
    result = convert_in_child(path, tmp_path / "cache")
    assert result["outcome"] == "converted 256 images"
    # Before: the whole array as float32 and a scaled copy (1.3 GB over the baseline); now one 16 MB chunk
    # at a time besides the 256 MB it inflates to, which is read a chunk at a time too.
    assert result["grew_mb"] < 150, result


def test_a_wide_csv_is_refused_from_its_header_in_seconds(tmp_path):
    columns = 160_000  # 5 MB: a header of 160,000 names and ten rows (before: minutes of one core)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"pixel{i}" for i in range(columns)) + "\n" + ("0," * (columns - 1) + "0\n") * 10)
    started = time.monotonic()
    result = convert_in_child(path, tmp_path / "cache", timeout=120)
    assert result["outcome"].startswith("refused: wide.csv: line 1 is longer than"), result
    assert "at most 4,097 columns" in result["outcome"]
    assert result["seconds"] < 5 and time.monotonic() - started < 60 and result["grew_mb"] < 50, result


def test_csv_columns_and_cells_are_bounded_before_parsing(cache, monkeypatch):
    import aeviz.data.user.csv_file as csv_file

    monkeypatch.setattr(csv_file, "parse_rows", lambda *a: pytest.fail("parsed before the bound"))
    header = ",".join(f"pixel{i}" for i in range(limits.MAX_CSV_COLUMNS + 1))
    with pytest.raises(BadUserData, match=r"wide.csv: line 1 has 4,098 columns; at most 4,097 are accepted"):
        import_file((header + "\n" + "0\n" * 20).encode(), "wide.csv")
    monkeypatch.setattr(csv_file, "MAX_CSV_CELLS", 30 * 17 - 1)
    with pytest.raises(BadUserData, match=r"cells.csv: 30 rows of 17 values are 510 values; at most"):
        import_file(csv_text(), "cells.csv")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def csv_rows(n: int = 30) -> list[str]:
    header = "label," + ",".join(f"pixel{i}" for i in range(16))
    return [header] + [f"{i % 3}," + ",".join(str((i * 7 + j) % 256) for j in range(16)) for i in range(n)]


def csv_text(rows: list[str] | None = None, newline: str = "\n") -> bytes:
    return (newline.join(csv_rows() if rows is None else rows) + newline).encode()


def edited(index: int, edit) -> bytes:
    rows = csv_rows()
    rows[index] = edit(rows[index])
    return csv_text(rows)


@pytest.mark.parametrize("data", [
    csv_text(newline="\r"), csv_text(newline="\r\n"), b"\xef\xbb\xbf" + csv_text(),
    csv_text([row.replace(",", ";") for row in csv_rows()]), csv_text([row.replace(",", "\t") for row in csv_rows()]),
], ids=["old-mac-cr", "crlf", "utf8-bom", "semicolons", "tabs"])
def test_line_endings_a_bom_and_other_separators_are_read(cache, data):
    info = import_file(data, "scan.csv")
    assert (info.train_count + info.test_count, info.class_names) == (30, ("0", "1", "2"))


@pytest.mark.parametrize("data, message", [
    (b"", "bad.csv is empty"),
    (b"\n \n", "bad.csv holds no rows"),
    (csv_text(csv_rows(0)), "bad.csv holds 0 images; at least 10"),
    (edited(6, lambda row: row.replace(",", ";")), "bad.csv: line 7 separates its values with ';', line 1 with ','"),
    (edited(4, lambda row: row + ",9"), "bad.csv: line 5 has 18 values; the header has 17"),
    (edited(4, lambda row: row.rsplit(",", 1)[0]), "bad.csv: line 5, column pixel15: the value is missing"),
    (edited(9, lambda row: row.rsplit(",", 1)[0] + ",zero"), "bad.csv: line 10, column pixel15: 'zero' is not a number"),
    (edited(5, lambda row: row.rsplit(",", 1)[0] + ",nan"), "bad.csv: line 6, column pixel15: 'nan' is not a number"),
    (edited(5, lambda row: row.rsplit(",", 1)[0] + ",1e999"), "bad.csv: images hold NaN or infinite values"),
    (edited(3, lambda row: "x" * 200 + row[1:]), "bad.csv: line 4, column label: 200 characters"),
    (csv_text().decode().encode("utf-16"), "bad.csv is saved as UTF-16 text"),
    (b"\x00\x01" * 50, "bad.csv is not a text file"),
    (csv_text().replace(b"label", b"lab\xe9l"), "bad.csv: line 1 is not UTF-8 text (byte 0xe9 at position 3)"),
    ((csv_rows()[0] + "\r\n" + "\r".join(csv_rows()[1:])).encode(), "bad.csv mixes line endings"),
], ids=["empty", "blank", "header-only", "mixed-separators", "long-row", "short-row", "text-cell", "nan-cell",
        "overflow", "long-label", "utf16", "binary", "latin1-header", "mixed-line-endings"])
def test_every_malformed_csv_gets_one_clear_line_from_the_cli(tmp_path, monkeypatch, capsys, data, message):
    from aeviz.cli import main

    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    assert main(["datasets", "--add", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err


def test_the_cli_converts_an_old_mac_csv(tmp_path, monkeypatch, capsys):
    from aeviz.cli import main

    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "mac.csv"
    path.write_bytes(csv_text(newline="\r"))
    assert main(["datasets", "--add", str(path)]) == 0  # before: _csv.Error and a traceback
    assert "mac.csv" in capsys.readouterr().out


def test_npz_members_are_counted_and_sized_from_the_zip_directory(cache, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(limits.MAX_MEMBERS + 1):
            archive.writestr(f"extra{i}.npy", b"")
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("directory parsed before the count"))
    with pytest.raises(BadUserData, match="many.npz holds 17 files; an .npz holds at most 16 arrays"):
        import_file(buffer.getvalue(), "many.npz")


def test_npz_labels_and_conversion_memory_are_bounded_from_headers(cache, monkeypatch):
    images = np.zeros((20, 8, 8), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=np.array(["a" * 100] * 20))
    with pytest.raises(BadUserData, match="labels are text of up to 100 characters; at most 64"):
        import_file(buffer.getvalue(), "labels.npz")
    monkeypatch.setattr(limits, "MAX_CONVERSION_BYTES", 10 * 2**20)
    buffer = io.BytesIO()
    np.savez(buffer, images=images)
    with pytest.raises(BadUserData, match=r"budget.npz: images: converting it needs about \d+ MB of memory, over the "
                                          r"budget of 10 MB"):
        import_file(buffer.getvalue(), "budget.npz")


def test_chunked_conversion_gives_what_one_pass_gives(cache, monkeypatch):
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, size=(40, 12, 12, 3), dtype=np.uint8)
    monkeypatch.setattr(limits, "CHUNK_BYTES", 12 * 12 * 3 * 4 * 3)  # a few images per step
    buffer = io.BytesIO()
    np.savez(buffer, images=np.asfortranarray(colour))  # stored in Fortran order: held whole, then chunked
    from aeviz.data.datasets import load_dataset

    dataset = load_dataset(import_file(buffer.getvalue(), "colour.npz", size=12).name)
    grey = np.round(colour.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.uint8)
    got = np.concatenate([dataset.train_images.numpy(), dataset.test_images.numpy()])[:, 0]
    assert sorted(np.round(got * 255).astype(np.uint8).tobytes()[i:i + 144] for i in range(0, 40 * 144, 144)) == \
        sorted(grey.tobytes()[i:i + 144] for i in range(0, 40 * 144, 144))


CAPPED_CHILD = r"""
import json, resource, sys
from aeviz.data.user import BadUserData, import_file
import numpy, pandas, PIL.Image, PIL.PngImagePlugin, sklearn.model_selection  # loaded before the baseline

def address_space() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))

baseline = address_space()
cap = baseline + int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
try:
    info = import_file(sys.argv[1], size=28)
    outcome = f"converted {info.train_count + info.test_count} images"
except BadUserData as exc:
    outcome = f"refused: {exc}"
except MemoryError:
    outcome = "out of memory"
print(json.dumps({"baseline_mb": baseline / 2**20, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "outcome": outcome}))
"""


def test_an_image_folder_zip_converts_a_member_at_a_time_under_an_address_space_cap(tmp_path):
    """A 0.4 MB zip of 50 PNGs that unpack to 200 MB (each a 1-megapixel RGBA image saved uncompressed) converts
    in a child whose address space is capped at its baseline (imports done) plus 160 MB: less than what the
    members unpack to, so holding them all at once (as before: every member inflated, then decoded) fails."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (1024, 1024), (200, 30, 60, 255)).save(buffer, format="PNG", compress_level=0)
    png = buffer.getvalue()
    path, count, margin = tmp_path / "photos.zip", 50, 160 * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            archive.writestr(f"photos/{'ab'[i % 2]}/{i}.png", png)
    assert count * len(png) > margin + 40 * 2**20 and path.stat().st_size < 2 * 2**20
    env = {**os.environ, "AEVIZ_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CAPPED_CHILD, str(path), str(margin)], capture_output=True,
                          text=True, env=env, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == f"converted {count} images", result
