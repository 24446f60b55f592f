"""Downloading a dataset's files through torchvision's mirrors (its resource list: file name and md5),
each mirror tried in order; a file is kept only once its checksum matches."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from aeviz.errors import CorruptDataFile, DatasetUnavailable

ProgressCallback = Callable[[int, int, str], None]  # (bytes done, bytes total or 0, message)


def download_resources(torchvision_class: str, folder: Path, progress: ProgressCallback | None = None,
                       timeout: float = 20.0) -> Path:
    """Download the files of torchvision's dataset class `torchvision_class` into `folder`, checking md5.

    Returns the folder. Raises DatasetUnavailable naming each mirror tried.
    """
    from torchvision import datasets as tv_datasets

    tv_class = getattr(tv_datasets, torchvision_class)
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for filename, md5 in tv_class.resources:
        target = folder / filename
        if target.is_file() and _md5(target) == md5:
            continue
        for mirror in tv_class.mirrors:
            url = f"{mirror}{filename}"
            try:
                _fetch(url, target, md5, progress, timeout)
                break
            except Exception as exc:  # network errors of every kind: try the next mirror
                errors.append(f"{url}: {exc}")
        else:
            raise DatasetUnavailable(f"could not download {filename}: " + "; ".join(errors))
    return folder


def _fetch(url: str, target: Path, md5: str, progress: ProgressCallback | None, timeout: float) -> None:
    import urllib.request

    partial = target.with_suffix(target.suffix + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": "aeviz"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total, f"downloading {target.name}")
        if _md5(partial) != md5:
            raise CorruptDataFile(f"{url}: checksum mismatch")
        partial.replace(target)
    finally:  # a failed or interrupted download leaves nothing half-written behind
        partial.unlink(missing_ok=True)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()
