"""The dataset loader: IDX files the tests write themselves (.gz and extracted), the order of the
places it looks in, corrupt and missing files, the download path (network faked), and the real
Fashion-MNIST / MNIST files when AEVIZ_DATA_DIR is set."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from aeviz.data import datasets as data

from aeviz.data import idx
from aeviz.errors import AevizError, CorruptDataFile, DatasetUnavailable
from tests.conftest import real_data_dir, requires_real_data

N_TRAIN, N_TEST, SIDE = 30, 12, 28


# ---------------------------------------------------------------------------- helpers

def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file as bytes: magic (0x08 = unsigned byte, then the number of dimensions), sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 + array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def fake_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (N_TRAIN, SIDE, SIDE), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, SIDE, SIDE), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, stem in data.IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        path = folder / (stem + ".gz" if gz else stem)
        path.write_bytes(gzip.compress(raw) if gz else raw)
        paths[key] = path
    return paths


@pytest.fixture
def fresh_env(tmp_path, monkeypatch, fresh_dataset_cache):
    """No data dir, an empty cache dir, no Debian folder, an empty per-process cache (restored after)."""
    monkeypatch.delenv("AEVIZ_DATA_DIR", raising=False)
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_OFFLINE", "1")
    spec = data.SPECS["fashion-mnist"]
    no_debian = dataclasses.replace(spec, debian_folder=str(tmp_path / "usr-share-datasets-fashion-mnist"))
    monkeypatch.setitem(data.SPECS, "fashion-mnist", no_debian)
    return tmp_path


# ---------------------------------------------------------------------------- reading

@pytest.mark.parametrize("gz", [True, False], ids=["gz", "extracted"])
def test_loads_idx_files_from_data_dir(fresh_env, monkeypatch, gz):
    arrays = fake_arrays()
    folder = fresh_env / "data" / "FashionMNIST" / "raw"
    write_idx_folder(folder, arrays, gz=gz)
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))

    ds = data.load_dataset("fashion-mnist")

    assert ds.train_images.shape == (N_TRAIN, 1, SIDE, SIDE) and ds.test_images.shape == (N_TEST, 1, SIDE, SIDE)
    assert ds.train_images.dtype == torch.float32 and ds.train_labels.dtype == torch.int64
    np.testing.assert_allclose(ds.train_images[:, 0].numpy(), arrays["train_images"] / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(ds.test_labels.numpy(), arrays["test_labels"])
    assert float(ds.train_images.min()) >= 0.0 and float(ds.train_images.max()) <= 1.0
    assert ds.image_shape == (1, SIDE, SIDE) and ds.input_size == SIDE * SIDE
    assert ds.source.startswith("AEVIZ_DATA_DIR") and str(folder) in ds.source
    assert ds.class_names[0] == "T-shirt/top" and len(ds.class_names) == 10
    # small files load, but the counts that differ from the canonical 60,000 / 10,000 are noted
    assert any("60000" in note for note in ds.notes) and any("10000" in note for note in ds.notes)
    # loaded once per process: the same object comes back
    assert data.load_dataset("fashion-mnist") is ds


def test_another_data_folder_is_read_not_answered_from_memory(fresh_env, monkeypatch):
    """Loaded datasets and their PCA are kept by name and by where they were read from: pointing
    AEVIZ_DATA_DIR elsewhere in the same process gives the images there and their own PCA."""
    from aeviz.analysis.pca import dataset_pca

    for seed in (1, 2):
        write_idx_folder(fresh_env / f"data{seed}" / "FashionMNIST" / "raw", fake_arrays(seed=seed))
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data1"))
    first = data.load_dataset("fashion-mnist")
    first_mean = dataset_pca(first).mean
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data2"))
    assert not data.dataset_loaded("fashion-mnist")
    second = data.load_dataset("fashion-mnist")
    np.testing.assert_allclose(second.train_images[:, 0].numpy(), fake_arrays(seed=2)["train_images"] / 255.0,
                               rtol=0, atol=1e-7)
    assert not np.allclose(dataset_pca(second).mean, first_mean)
    np.testing.assert_allclose(dataset_pca(second).mean, second.train_images.reshape(N_TRAIN, -1).mean(0).numpy(),
                               atol=1e-6)


def test_user_cache_is_used_when_no_data_dir(fresh_env):
    arrays = fake_arrays(seed=1)
    write_idx_folder(fresh_env / "cache" / "FashionMNIST" / "raw", arrays, gz=False)
    status = data.dataset_status("fashion-mnist")
    assert status.available and status.source.startswith("user cache")
    ds = data.load_dataset("fashion-mnist")
    assert ds.source.startswith("user cache")
    np.testing.assert_array_equal(ds.train_labels.numpy(), arrays["train_labels"])


def test_data_dir_comes_before_user_cache(fresh_env, monkeypatch):
    write_idx_folder(fresh_env / "cache" / "FashionMNIST" / "raw", fake_arrays(seed=1))
    preferred = fake_arrays(seed=2)
    write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", preferred)
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    ds = data.load_dataset("fashion-mnist")
    assert ds.source.startswith("AEVIZ_DATA_DIR")
    np.testing.assert_array_equal(ds.test_labels.numpy(), preferred["test_labels"])


def test_read_idx_checks_magic_and_reads_dims(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(idx.read_image_file(path), images)
    assert int.from_bytes(path.read_bytes()[:4], "big") == idx.IDX_IMAGES_MAGIC == 2051
    with pytest.raises(CorruptDataFile, match="magic number 2051, expected 2049"):
        idx.read_label_file(path)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    path.write_bytes(idx_bytes(labels))
    assert idx.IDX_LABELS_MAGIC == 2049
    np.testing.assert_array_equal(idx.read_label_file(path), labels)


def test_truncated_gz_is_reported_with_its_name(fresh_env, monkeypatch):
    paths = write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", fake_arrays())
    whole = paths["train_images"].read_bytes()
    paths["train_images"].write_bytes(whole[: len(whole) // 2])
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile) as caught:
        data.load_dataset("fashion-mnist")
    message = str(caught.value)
    assert str(paths["train_images"]) in message and "truncated" in message


def test_truncated_extracted_file_is_reported(fresh_env, monkeypatch):
    paths = write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", fake_arrays(), gz=False)
    whole = paths["test_images"].read_bytes()
    paths["test_images"].write_bytes(whole[:-100])
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile, match="header promises") as caught:
        data.load_dataset("fashion-mnist")
    assert paths["test_images"].name in str(caught.value)


def test_wrong_magic_number_is_reported(fresh_env, monkeypatch):
    arrays = fake_arrays()
    paths = write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", arrays)
    # a labels file where the test images should be
    paths["test_images"].write_bytes(gzip.compress(idx_bytes(arrays["test_labels"])))
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile, match="magic number 2049, expected 2051") as caught:
        data.load_dataset("fashion-mnist")
    assert paths["test_images"].name in str(caught.value)


def test_file_that_is_not_gzip_at_all(fresh_env, monkeypatch):
    paths = write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", fake_arrays())
    paths["train_labels"].write_text("<html>404 not found</html>")
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile, match="not a valid gzip") as caught:
        data.load_dataset("fashion-mnist")
    assert paths["train_labels"].name in str(caught.value)


def test_label_and_image_count_mismatch(fresh_env, monkeypatch):
    arrays = fake_arrays()
    arrays["train_labels"] = arrays["train_labels"][:-1]
    write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", arrays)
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile, match=f"{N_TRAIN} images but .* {N_TRAIN - 1} labels"):
        data.load_dataset("fashion-mnist")


def test_label_out_of_range(fresh_env, monkeypatch):
    arrays = fake_arrays()
    arrays["test_labels"][0] = 10
    write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", arrays)
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(CorruptDataFile, match="label 10"):
        data.load_dataset("fashion-mnist")


def test_missing_everywhere_names_every_place_and_the_fix(fresh_env, monkeypatch):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "nowhere"))
    spec = data.SPECS["fashion-mnist"]
    with pytest.raises(DatasetUnavailable) as caught:
        data.load_dataset("fashion-mnist")
    message = str(caught.value)
    for place in (fresh_env / "nowhere" / "FashionMNIST" / "raw", fresh_env / "cache" / "FashionMNIST" / "raw",
                  spec.debian_folder):
        assert str(place) in message
    assert "AEVIZ_DATA_DIR" in message and "apt-get install dataset-fashion-mnist" in message
    assert "offline" in message and "digits" in message
    assert "\n" not in message
    status = data.dataset_status("fashion-mnist")
    assert not status.available and status.source is None and len(status.tried) == 3
    assert "AEVIZ_DATA_DIR" in status.hint


def test_partial_folder_names_the_missing_file(fresh_env, monkeypatch):
    paths = write_idx_folder(fresh_env / "data" / "FashionMNIST" / "raw", fake_arrays())
    paths["train_images"].unlink()
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(fresh_env / "data"))
    with pytest.raises(DatasetUnavailable, match=r"missing train-images-idx3-ubyte\[\.gz\]"):
        data.load_dataset("fashion-mnist")
    assert "missing train-images-idx3-ubyte" in data.dataset_status("fashion-mnist").tried[0]


def test_specs_know_their_image_shape_before_loading(digits):
    assert data.get_spec("digits").image_shape == digits.image_shape
    assert data.get_spec("digits").input_size == digits.input_size == 64
    assert data.get_spec("mnist").input_size == data.get_spec("fashion-mnist").input_size == 784


def test_unknown_dataset_is_an_aeviz_error():
    with pytest.raises(AevizError, match="unknown dataset 'cifar'.*mnist, fashion-mnist, digits"):
        data.load_dataset("cifar")


def test_digits_split_is_fixed_and_stratified(digits):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    assert len(digits.train_images) + len(digits.test_images) == len(bunch.images) == 1797
    assert digits.image_shape == (1, 8, 8)
    assert float(digits.train_images.max()) == 1.0 and float(digits.train_images.min()) == 0.0
    train_counts = np.bincount(digits.train_labels.numpy(), minlength=10)
    test_counts = np.bincount(digits.test_labels.numpy(), minlength=10)
    np.testing.assert_array_equal(train_counts + test_counts, np.bincount(bunch.target))
    assert abs(test_counts / test_counts.sum() - np.bincount(bunch.target) / 1797).max() < 0.01
    again = data.load_digits()
    assert torch.equal(again.test_images, digits.test_images)


# ---------------------------------------------------------------------------- download (network faked)

class FakeResponse:
    def __init__(self, payload: bytes, fail_after: int | None = None, chunk: int = 1000):
        self.stream = io.BytesIO(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after
        self.chunk = chunk

    def read(self, n: int = -1) -> bytes:
        if self.fail_after is not None and self.stream.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return self.stream.read(min(n, self.chunk))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fake_mirror(fresh_env, monkeypatch):
    """torchvision's Fashion-MNIST resources replaced by small files served by a fake urlopen."""
    from torchvision import datasets as tv_datasets

    payloads = {stem + ".gz": gzip.compress(idx_bytes(array))
                for (key, stem), array in zip(data.IDX_FILES.items(), fake_arrays(seed=3).values())}
    resources = [(name, hashlib.md5(payload).hexdigest()) for name, payload in payloads.items()]
    monkeypatch.setattr(tv_datasets.FashionMNIST, "resources", resources)
    monkeypatch.setattr(tv_datasets.FashionMNIST, "mirrors", ["https://mirror-a.invalid/", "https://mirror-b.invalid/"])
    monkeypatch.delenv("AEVIZ_OFFLINE", raising=False)
    calls: list[str] = []
    behaviour = {"mode": "ok"}

    def urlopen(request, timeout=None):
        url = request.full_url if hasattr(request, "full_url") else request
        calls.append(url)
        name = url.rsplit("/", 1)[-1]
        if behaviour["mode"] == "down" or ("mirror-a" in url and behaviour["mode"] == "first-down"):
            raise urllib.error.URLError("name or service not known")
        payload = payloads[name]
        if behaviour["mode"] == "corrupt":
            payload = payload[:-5] + b"xxxxx"
        if behaviour["mode"] == "reset":
            return FakeResponse(payload, fail_after=len(payload) // 2)
        return FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return {"payloads": payloads, "calls": calls, "behaviour": behaviour}


def test_download_checks_md5_reports_progress_and_loads(fake_mirror, fresh_env):
    progress: list[tuple[int, int, str]] = []
    ds = data.load_dataset("fashion-mnist", progress=lambda done, total, msg: progress.append((done, total, msg)))
    folder = fresh_env / "cache" / "FashionMNIST" / "raw"
    assert ds.source == f"downloaded to {folder}"
    for name, payload in fake_mirror["payloads"].items():
        assert (folder / name).read_bytes() == payload
    assert not list(folder.glob("*.part"))
    for name, payload in fake_mirror["payloads"].items():
        mine = [p for p in progress if name in p[2]]
        assert mine and mine[-1][0] == mine[-1][1] == len(payload)
        assert [p[0] for p in mine] == sorted(p[0] for p in mine)
    np.testing.assert_array_equal(ds.test_labels.numpy(), fake_arrays(seed=3)["test_labels"])
    # a second download finds every file with the right md5 and fetches nothing
    calls = len(fake_mirror["calls"])
    data.download(data.SPECS["fashion-mnist"])
    assert len(fake_mirror["calls"]) == calls


def test_download_tries_the_next_mirror(fake_mirror, fresh_env):
    fake_mirror["behaviour"]["mode"] = "first-down"
    ds = data.load_dataset("fashion-mnist")
    assert ds.source.startswith("downloaded")
    assert any("mirror-a" in c for c in fake_mirror["calls"]) and any("mirror-b" in c for c in fake_mirror["calls"])


@pytest.mark.parametrize("mode", ["corrupt", "reset", "down"])
def test_failed_download_leaves_no_partial_file(fake_mirror, fresh_env, mode):
    fake_mirror["behaviour"]["mode"] = mode
    with pytest.raises(DatasetUnavailable) as caught:
        data.load_dataset("fashion-mnist")
    message = str(caught.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert {"corrupt": "checksum mismatch", "reset": "connection reset", "down": "not known"}[mode] in message
    assert "mirror-a" in message and "mirror-b" in message
    folder = fresh_env / "cache" / "FashionMNIST" / "raw"
    leftovers = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    assert leftovers == []


def test_offline_never_touches_the_network(fresh_env, monkeypatch):
    def urlopen(*args, **kwargs):
        raise AssertionError("network used while AEVIZ_OFFLINE=1")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(DatasetUnavailable, match="not attempted \\(offline\\)"):
        data.load_dataset("fashion-mnist")


# ---------------------------------------------------------------------------- real data

@requires_real_data
def test_real_fashion_mnist(tmp_path):
    if not (real_data_dir() / "FashionMNIST" / "raw").is_dir():
        pytest.skip("no FashionMNIST/raw under AEVIZ_DATA_DIR")
    from torchvision.datasets.mnist import read_label_file as tv_read_labels

    ds = data.load_dataset("fashion-mnist")
    assert ds.train_images.shape == (60000, 1, 28, 28) and ds.test_images.shape == (10000, 1, 28, 28)
    assert ds.train_images.dtype == torch.float32
    assert float(ds.train_images.min()) == 0.0 and float(ds.train_images.max()) == 1.0
    assert float(ds.test_images.min()) >= 0.0 and float(ds.test_images.max()) <= 1.0
    # Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class
    assert np.bincount(ds.train_labels.numpy()).tolist() == [6000] * 10
    assert np.bincount(ds.test_labels.numpy()).tolist() == [1000] * 10
    assert ds.notes == []
    # torchvision's own reader agrees on the test labels
    folder = real_data_dir() / "FashionMNIST" / "raw"
    extracted = tmp_path / "t10k-labels-idx1-ubyte"
    extracted.write_bytes(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    assert torch.equal(tv_read_labels(str(extracted)).long(), ds.test_labels)
    assert data.load_dataset("fashion-mnist") is ds  # loaded once per process


@requires_real_data
def test_real_mnist_reported_unavailable_without_train_images(monkeypatch, tmp_path, fresh_dataset_cache):
    folder = real_data_dir() / "MNIST" / "raw"
    if data.find_file(folder, "train-images-idx3-ubyte") is not None:
        pytest.skip("this AEVIZ_DATA_DIR has the MNIST train images")
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    status = data.dataset_status("mnist")
    assert not status.available
    assert "missing train-images-idx3-ubyte[.gz]" in status.tried[0]
    with pytest.raises(DatasetUnavailable, match="missing train-images-idx3-ubyte"):
        data.load_dataset("mnist")


def test_unreadable_file_says_so(tmp_path, monkeypatch):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(3, dtype=np.uint8))))

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)  # root ignores chmod, so fake the refusal
    with pytest.raises(CorruptDataFile, match="cannot be read \\(Permission denied\\)"):
        idx.read_label_file(path)
