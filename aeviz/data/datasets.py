"""Datasets as in-memory tensors: MNIST and Fashion-MNIST (IDX files, torchvision's layout) and
scikit-learn's bundled 8x8 digits, the offline fallback.

Where MNIST-style files come from, in order: ``$AEVIZ_DATA_DIR/<Folder>/raw`` (``.gz`` or
extracted), the user cache folder, Debian's ``/usr/share/datasets/fashion-mnist``, then a
download through torchvision's mirrors into the cache (unless ``AEVIZ_OFFLINE=1``).
A loaded dataset is kept and shared, the most recently used within ``$AEVIZ_CACHE_DATASETS_MB`` (default
1024; aeviz.lru): past it the least recently used is dropped, and read again when asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# torch is imported inside the loaders: the app's sidebar asks dataset_status() on its first
# page, and importing torch there would add ~2 s to the app's cold start.
from aeviz.data.types import (DATASET_NAMES, EXPECTED_COUNTS, SPECS, USER_PREFIX, Dataset, DatasetSpec, DatasetStatus, cache_dir)
from aeviz.data.download import ProgressCallback, download_resources
from aeviz.errors import DatasetUnavailable, InvalidConfig
from aeviz.data.idx import IDX_FILES, read_idx_folder
from aeviz.data.user import list_infos, load_user_dataset, user_spec, user_status
from aeviz.lru import LRUCache
from aeviz.server_settings import cache_limits


# ---------------------------------------------------------------------------- sources

def data_dir() -> Path | None:
    value = os.environ.get("AEVIZ_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def offline() -> bool:
    return os.environ.get("AEVIZ_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def candidate_folders(spec: DatasetSpec) -> list[tuple[str, Path]]:
    """(label, folder) pairs to look in, in order."""
    folders: list[tuple[str, Path]] = []
    root = data_dir()
    if root is not None:
        folders.append(("AEVIZ_DATA_DIR", root / spec.folder / "raw"))
    folders.append(("user cache", cache_dir() / spec.folder / "raw"))
    if spec.debian_folder:
        folders.append(("Debian package", Path(spec.debian_folder)))
    return folders


def find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _folder_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    found, missing = {}, []
    for key, stem in IDX_FILES.items():
        path = find_file(folder, stem)
        if path is None:
            missing.append(stem + "[.gz]")
        else:
            found[key] = path
    return found, missing


def dataset_status(name: str) -> DatasetStatus:
    """Whether `name` can be loaded here without a download, and from where (cheap: no reading)."""
    if name.startswith(USER_PREFIX):
        return user_status(name)
    spec = get_spec(name)
    if name == "digits":
        return DatasetStatus(name, spec.title, True, "scikit-learn (bundled)", [])
    tried = []
    for label, folder in candidate_folders(spec):
        found, missing = _folder_files(folder)
        if not missing:
            return DatasetStatus(name, spec.title, True, f"{label}: {folder}", tried)
        if found:
            tried.append(f"{label}: {folder} (missing {', '.join(missing)})")
        else:
            tried.append(f"{label}: {folder} (not found)")
    hint = _fix_hint(spec)
    can_download = not offline()
    if can_download:
        tried.append("download from torchvision's mirrors (not tried yet)")
    return DatasetStatus(name, spec.title, False, None, tried, hint)


def _fix_hint(spec: DatasetSpec) -> str:
    hint = (f"set AEVIZ_DATA_DIR to a folder holding {spec.folder}/raw/ with the four *-ubyte(.gz) files")
    if spec.debian_folder:
        hint += " or run `apt-get install dataset-fashion-mnist`"
    return hint + ", or connect to the internet to download them; the bundled 'digits' set always works offline"


def all_dataset_names() -> tuple[str, ...]:
    """The built-in datasets, then the user datasets converted here (newest first)."""

    return DATASET_NAMES + tuple(info.name for info in list_infos())


def get_spec(name: str) -> DatasetSpec:
    if isinstance(name, str) and name.startswith(USER_PREFIX):  # your own images (aeviz.data.user)

        return user_spec(name)
    try:
        return SPECS[name]
    except KeyError:
        raise InvalidConfig(f"unknown dataset {name!r}; choose one of: {', '.join(SPECS)}, or your own "
                            f"(user:…, see `python -m aeviz datasets`)") from None


# ---------------------------------------------------------------------------- IDX files and download

def load_idx_folder(spec: DatasetSpec, files: dict[str, Path], source: str) -> Dataset:
    import torch

    arrays = read_idx_folder(files, len(spec.class_names))

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    notes = []
    for split, count in EXPECTED_COUNTS.items():
        if len(arrays[f"{split}_images"]) != count:
            notes.append(f"{split} split has {len(arrays[f'{split}_images'])} images (the canonical one has {count})")
    return Dataset(spec.name, spec.title, images(arrays["train_images"]), labels(arrays["train_labels"]),
                   images(arrays["test_images"]), labels(arrays["test_labels"]), spec.class_names, source, notes)


def download(spec: DatasetSpec, progress: ProgressCallback | None = None, timeout: float = 20.0) -> Path:
    """Download the dataset's four files into the cache (aeviz.data.download); returns the folder."""
    return download_resources(spec.torchvision_class, cache_dir() / spec.folder / "raw", progress, timeout)


# ---------------------------------------------------------------------------- loading

# Read one at a time (the cache's lock is held while reading): two sessions asking for Fashion-MNIST at once
# read it once. A dataset dropped from here stays valid for whoever holds it (a running job).
LOADED = LRUCache(max_bytes=lambda: cache_limits()["dataset_bytes"])


def load_dataset(name: str, download_missing: bool = True, progress: ProgressCallback | None = None) -> Dataset:
    """The dataset `name`, kept and shared while it is among the most recently used (treat its tensors as
    read-only)."""
    spec = get_spec(name)
    return LOADED.get_or_make(_loaded_key(name),
                              lambda: read_dataset(spec, download_missing and not offline(), progress))


def _loaded_key(name: str) -> tuple[str, str, str]:
    """A loaded dataset is kept by its name and the folders it is looked for in (pointing AEVIZ_DATA_DIR or
    AEVIZ_CACHE_DIR elsewhere reads the images found there, never the ones kept from before)."""
    return name, str(data_dir()), str(cache_dir())


def dataset_loaded(name: str) -> bool:
    """Whether `name` is in memory now (load_dataset returns it at once)."""
    return _loaded_key(name) in LOADED


def clear_cache() -> None:
    LOADED.clear()


def read_dataset(spec: DatasetSpec, download_missing: bool, progress: ProgressCallback | None) -> Dataset:
    """The dataset read from its source, every time (load_dataset keeps one per process)."""
    if spec.name.startswith(USER_PREFIX):
        return load_user_dataset(spec.name)
    if spec.name == "digits":
        return load_digits()
    tried = []
    for label, folder in candidate_folders(spec):
        found, missing = _folder_files(folder)
        if not missing:
            return load_idx_folder(spec, found, f"{label}: {folder}")
        tried.append(f"{label}: {folder} ({'missing ' + ', '.join(missing) if found else 'not found'})")
    if download_missing:
        try:
            folder = download(spec, progress)
            found, _ = _folder_files(folder)
            return load_idx_folder(spec, found, f"downloaded to {folder}")
        except DatasetUnavailable as exc:
            tried.append(f"download: {exc}")
        except OSError as exc:
            tried.append(f"download: {exc}")
    else:
        tried.append("download: not attempted (offline)")
    raise DatasetUnavailable(f"{spec.title} is not available. Tried: " + "; ".join(tried) + ". To fix: " + _fix_hint(spec))


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images, values 0..16 scaled to [0, 1]) with a fixed stratified split."""
    import torch

    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    spec = SPECS["digits"]
    return Dataset("digits", spec.title, torch.from_numpy(train_x), torch.from_numpy(train_y),
                   torch.from_numpy(test_x), torch.from_numpy(test_y), spec.class_names, "scikit-learn (bundled)")
