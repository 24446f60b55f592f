"""Bounded reading of uploads: the refusals, and that a bomb cannot spend memory (checked in a child
process whose address space is capped, so a regression fails the test instead of the machine)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aeviz.safe_io import MAX_IMAGE_PIXELS, UploadRefused, read_image_bounded, read_zip_bounded

ROOT = Path(__file__).resolve().parents[1]
CHILD_MEMORY_CAP = 512 * 2**20  # address space of the child: python + PIL need ~100 MB


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def zip_with_zeros(member: str, size: int, claimed_size: int | None = None) -> bytes:
    """A zip archive whose one member inflates to `size` zero bytes; its headers say `claimed_size`.

    Built from a deflate block that is repeated (a full flush makes blocks independent), so a large
    bomb costs milliseconds to make."""
    chunk = 1 << 20
    assert size % chunk == 0
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = block.compress(bytes(chunk)) + block.flush(zlib.Z_FULL_FLUSH)
    compressed = piece * (size // chunk) + b"\x03\x00"  # an empty final block ends the stream
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(bytes(chunk), crc)
    claimed = size if claimed_size is None else claimed_size
    name = member.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(compressed), claimed, len(name), 0)
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(compressed), claimed,
                          len(name), 0, 0, 0, 0, 0, 0)
    directory_at = len(local) + len(name) + len(compressed)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), directory_at, 0)
    return local + name + compressed + central + name + end


def test_small_png_and_jpeg_are_read():
    pixels = (np.random.default_rng(0).random((30, 40)) * 255).astype(np.uint8)
    assert read_image_bounded(png_bytes(Image.fromarray(pixels)), "a.png").size == (40, 30)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    assert read_image_bounded(buffer.getvalue(), "a.jpg").size == (40, 30)


def test_a_huge_png_is_refused_from_its_header():
    data = png_bytes(Image.new("1", (4096, 4096)))  # ~ a few KB on disk
    assert len(data) < 100_000
    with pytest.raises(UploadRefused, match="4096x4096 pixels"):
        read_image_bounded(data, "bomb.png")


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    buffer = io.BytesIO()
    Image.fromarray(np.full((3000, 4000), 200, np.uint8)).save(buffer, format="JPEG")
    image = read_image_bounded(buffer.getvalue(), "photo.jpg")
    assert image.width * image.height <= MAX_IMAGE_PIXELS
    assert image.width < 4000


@pytest.mark.parametrize("payload, message", [
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "could not be read"),
    (b"GIF89a" + bytes(50), "not a PNG or JPEG"),
])
def test_damaged_or_foreign_images_are_refused(payload, message):
    with pytest.raises(UploadRefused, match=message):
        read_image_bounded(payload, "x")


def test_zip_members_are_read_and_filtered():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "hello")
        archive.writestr("b.txt", "world")
    assert read_zip_bounded(buffer.getvalue(), "x.zip", wanted={"a.txt"}) == {"a.txt": b"hello"}


@pytest.mark.parametrize("claimed", [None, 1000], ids=["honest header", "lying header"])
def test_a_zip_bomb_is_refused_within_its_limit(claimed):
    data = zip_with_zeros("config.json", 64 * 2**20, claimed)
    with pytest.raises(UploadRefused, match="unpacks to more than|damaged"):
        read_zip_bounded(data, "bomb.zip", max_member_bytes=8 * 2**20)


def run_capped(code: str, cap: int = CHILD_MEMORY_CAP) -> subprocess.CompletedProcess:
    """Run python `code` in a child process limited to `cap` bytes of address space."""
    prelude = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    """)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("claimed", [None, 1000], ids=["honest header", "lying header"])
def test_a_768mb_zip_bomb_is_refused_in_a_memory_capped_process(tmp_path, claimed):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zip_with_zeros("weights.pt", 768 * 2**20, claimed))
    result = run_capped(f"""
        from aeviz.safe_io import UploadRefused, read_zip_bounded
        try:
            read_zip_bounded(open({str(bomb)!r}, "rb").read(), "bomb.zip")
        except UploadRefused as exc:
            print("refused:", exc)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout
    # the same bytes inflated the naive way do not fit under the cap: the test can fail
    naive = run_capped(f"""
        import zipfile
        zipfile.ZipFile({str(bomb)!r}).read("weights.pt")
    """)
    assert naive.returncode != 0


def test_image_bombs_are_refused_in_a_memory_capped_process(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bytes(Image.new("1", (16384, 16384))))
    result = run_capped(f"""
        from aeviz.safe_io import UploadRefused, read_image_bounded
        try:
            read_image_bounded(open({str(bomb)!r}, "rb").read(), "bomb.png")
        except UploadRefused as exc:
            print("refused:", exc)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: bomb.png has far more pixels than" in result.stdout
