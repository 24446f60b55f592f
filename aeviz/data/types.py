"""What a dataset is, apart from where it is read from: the built-in datasets' specs, a loaded dataset
in memory, a dataset's availability, and the cache folder. aeviz.data.datasets (the built-in sources) and
aeviz.data.user (your own files) both build on this module, so neither needs the other's internals."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    import torch

EXPECTED_COUNTS = {"train": 60000, "test": 10000}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    folder: str  # torchvision's folder name (root/<folder>/raw)
    class_names: tuple[str, ...]
    torchvision_class: str = ""
    debian_folder: str = ""
    image_shape: tuple[int, int, int] = (1, 28, 28)

    @property
    def input_size(self) -> int:
        """Pixels per image, known without loading the data (to check settings early)."""
        c, h, w = self.image_shape
        return c * h * w


MNIST_CLASSES = tuple(str(d) for d in range(10))
SPECS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("mnist", "MNIST", "MNIST", MNIST_CLASSES, "MNIST"),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST", "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "FashionMNIST", "/usr/share/datasets/fashion-mnist"),
    "digits": DatasetSpec("digits", "Digits 8x8", "", MNIST_CLASSES, image_shape=(1, 8, 8)),
}
DATASET_NAMES = tuple(SPECS)
USER_PREFIX = "user:"  # names of datasets made from your own files: user:<content hash>-<size>


@dataclass
class Dataset:
    """Images (N, 1, H, W) float32 in [0, 1], labels int64, and where they came from."""

    name: str
    title: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    class_names: tuple[str, ...]
    source: str
    notes: list[str] = field(default_factory=list)
    labelled: bool = True  # False for a user dataset without labels (labels all 0, one class)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    @property
    def input_size(self) -> int:
        c, h, w = self.image_shape
        return c * h * w

    def nbytes(self) -> int:
        return sum(t.element_size() * t.nelement() for t in
                   (self.train_images, self.train_labels, self.test_images, self.test_labels))


@dataclass
class DatasetStatus:
    name: str
    title: str
    available: bool
    source: str | None
    tried: list[str]
    hint: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "available": self.available,
                "source": self.source, "tried": self.tried, "hint": self.hint}


def cache_dir() -> Path:
    explicit = os.environ.get("AEVIZ_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "aeviz"
