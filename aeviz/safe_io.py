"""Reading untrusted uploads with bounded memory (images and zip archives), and writing a file so that a
crash leaves either the old file or the new one, never half of one (write_atomically).

An upload can claim one size and cost another: a 28 KB PNG may decode to 4096x4096 RGBA, and a
zip member whose header says 1 KB may inflate to gigabytes. Both readers here decide from what is
*actually* decoded or inflated, against limits fixed before any of it is held in memory:

    image = read_image_bounded(data, "photo.jpg")          # a loaded PIL image, at most MAX_IMAGE_PIXELS
    files = read_zip_bounded(data, "run.zip", {"config.json", "weights.pt"})   # name -> bytes

Both raise UploadRefused (an AevizError: its message is shown to the user as it is).
"""

from __future__ import annotations

import io
import os
import struct
import threading
import zipfile
from pathlib import Path
from typing import Iterable

from PIL import Image, UnidentifiedImageError

from aeviz.errors import AevizError

MAX_IMAGE_BYTES = 5 * 1024 * 1024       # the encoded file
MAX_IMAGE_PIXELS = 2048 * 2048          # after decoding (a JPEG is decoded at a reduced scale to fit)
MAX_ZIP_MEMBERS = 64
MAX_MEMBER_BYTES = 50 * 1024 * 1024     # inflated bytes of one member
MAX_ZIP_BYTES = 60 * 1024 * 1024        # inflated bytes of all members read
READ_CHUNK = 1 << 16                    # zipfile inflates at most this much per read: memory stays bounded

# PIL's own decompression-bomb guard, for any image opened in this process (it raises beyond twice
# this); the readers below refuse earlier, from the header.
Image.MAX_IMAGE_PIXELS = 4 * MAX_IMAGE_PIXELS

_SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}


class UploadRefused(AevizError):
    """An uploaded file is too large (as stored or once decoded), damaged, or of the wrong kind."""


def read_image_bounded(data: bytes, name: str = "upload", formats: Iterable[str] = ("PNG", "JPEG"),
                       max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """A decoded (loaded) PIL image of at most `max_pixels` pixels from the bytes of a PNG or JPEG.

    The dimensions are read from the header and checked before any pixel is decoded; a large JPEG
    is decoded at 1/2, 1/4 or 1/8 scale (its DCT allows that for free) when that brings it under
    the cap. Any decoder error is an UploadRefused saying so.
    """
    formats = tuple(formats)
    if len(data) > max_bytes:
        raise UploadRefused(f"{name} is {len(data) / 1e6:.1f} MB; images up to {max_bytes // 2**20} MB are accepted")
    expected = next((kind for kind in formats if data.startswith(_SIGNATURES.get(kind, b"\0\0\0\0"))), None)
    if expected is None:
        raise UploadRefused(f"{name} is not a {' or '.join(formats)} image; upload a "
                            f"{' or '.join('.' + kind.lower().replace('jpeg', 'jpg') for kind in formats)} file")
    try:
        image = Image.open(io.BytesIO(data), formats=[expected])
        width, height = image.size  # from the header: nothing decoded yet
        if expected == "JPEG" and width * height > max_pixels:
            scale = next((f for f in (2, 4, 8) if (width // f) * (height // f) <= max_pixels), 8)
            image.draft(image.mode, (width // scale, height // scale))
            width, height = image.size
        if width * height > max_pixels:
            raise UploadRefused(f"{name} is {width}x{height} pixels; images up to {max_pixels / 1e6:.1f} "
                                f"megapixels are accepted")
        image.load()
        return image
    except UploadRefused:
        raise
    except Image.DecompressionBombError:
        raise UploadRefused(f"{name} has far more pixels than the {max_pixels / 1e6:.1f} megapixels accepted") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            EOFError, MemoryError) as exc:
        raise UploadRefused(f"{name} could not be read as a {expected} image ({exc})") from None


def read_zip_bounded(data: bytes, name: str = "upload", wanted: Iterable[str] | None = None,
                     max_member_bytes: int = MAX_MEMBER_BYTES, max_total_bytes: int = MAX_ZIP_BYTES,
                     max_members: int = MAX_ZIP_MEMBERS) -> dict[str, bytes]:
    """The members of a zip archive (only those in `wanted`, when given) as name -> bytes.

    Each member is inflated in small chunks and counted as it goes, so a member whose header
    understates its size is refused once it passes `max_member_bytes` (or all of them together
    pass `max_total_bytes`), having held at most that much. Raises UploadRefused; a file that is
    not a zip archive raises zipfile.BadZipFile (callers say what they expected instead). To hold
    one member at a time instead of all of them, use ZipInflater.
    """
    count = zip_member_count(data)
    if count is not None and count > max_members:
        raise UploadRefused(f"{name} holds {count:,} files; at most {max_members} are accepted")
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > max_members:
        raise UploadRefused(f"{name} holds {len(infos)} files; at most {max_members} are accepted")
    wanted = set(wanted) if wanted is not None else None
    inflater = ZipInflater(archive, name, max_member_bytes, max_total_bytes)
    return {info.filename: inflater.read(info) for info in infos if wanted is None or info.filename in wanted}


class ZipInflater:
    """Members of an open zip archive inflated one at a time, each counted as it inflates: `read(member)`
    holds at most `max_member_bytes` of it (a member whose header understates its size is refused once it
    passes that), and all the members read together may inflate to at most `max_total_bytes` (which bounds
    the time spent). A caller that converts each member before reading the next holds one member at a time.

        inflater = ZipInflater(zipfile.ZipFile(io.BytesIO(data)), "photos.zip", 16 * 2**20, 256 * 2**20)
        for member in names:
            use(inflater.read(member))           # UploadRefused beyond a bound
    """

    def __init__(self, archive: zipfile.ZipFile, name: str, max_member_bytes: int, max_total_bytes: int):
        self.archive, self.name = archive, name
        self.max_member_bytes, self.max_total_bytes = max_member_bytes, max_total_bytes
        self.total = 0  # bytes inflated so far, all members together

    def read(self, member: str | zipfile.ZipInfo) -> bytes:
        info = member if isinstance(member, zipfile.ZipInfo) else self.archive.getinfo(member)
        if info.file_size > self.max_member_bytes:  # what its header says: refused before inflating a byte
            raise UploadRefused(f"{self.name}: {info.filename} unpacks to more than "
                                f"{self.max_member_bytes // 2**20} MB; refused")
        buffer = bytearray()
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(READ_CHUNK):
                    buffer += chunk
                    self.total += len(chunk)
                    if len(buffer) > self.max_member_bytes:
                        raise UploadRefused(f"{self.name}: {info.filename} unpacks to more than "
                                            f"{self.max_member_bytes // 2**20} MB; refused")
                    if self.total > self.max_total_bytes:
                        raise UploadRefused(f"{self.name} unpacks to more than {self.max_total_bytes // 2**20} MB; "
                                            f"refused")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                RuntimeError) as exc:  # a bad CRC, a lying size, encryption, an unknown compression
            raise UploadRefused(f"{self.name}: {info.filename} is damaged or cannot be unpacked ({exc})") from None
        return bytes(buffer)


_END_RECORD = struct.Struct("<4s4H2LH")          # the zip's end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


def zip_member_count(data: bytes) -> int | None:
    """How many files a zip archive says it holds, read from its end record alone (before zipfile parses a
    directory that could hold millions of entries); None when there is no end record (not a zip file)."""
    position = data.rfind(b"PK\x05\x06", max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if position < 0 or position + _END_RECORD.size > len(data):
        return None
    count = _END_RECORD.unpack_from(data, position)[4]
    if count != 0xFFFF:
        return count
    locator = position - _ZIP64_LOCATOR.size  # a zip64 archive: the count is in its own end record
    if locator < 0 or data[locator:locator + 4] != b"PK\x06\x07":
        raise UploadRefused("its zip directory is damaged (no zip64 end record)")
    offset = _ZIP64_LOCATOR.unpack_from(data, locator)[2]
    if offset + _ZIP64_END_RECORD.size > len(data) or data[offset:offset + 4] != b"PK\x06\x06":
        raise UploadRefused("its zip directory is damaged (the zip64 end record is not where it says)")
    return _ZIP64_END_RECORD.unpack_from(data, offset)[7]


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: written to a temporary file beside it, flushed to disk, then renamed over
    it (a rename is atomic), so a reader or a crash sees the old file or the new one. Raises OSError; the
    temporary file is removed then."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:  # the rename itself reaches the disk with the folder's entry
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass
