"""Your own images as a dataset: small generated .npz, CSV and ImageFolder zip files, good and bad.
Good files are checked against values computed here (luma weights, constant images, hashlib); bad
ones must be refused with a message naming the file, the row or member, and the fix, before any
large allocation."""

from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from aeviz.data.datasets import get_spec, load_dataset
from aeviz.data.user import BadUserData, import_file, list_infos, resolve_dataset
from aeviz.data.user import limits


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def three_classes(n_per_class: int = 10, side: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per_class)
    return rng.integers(0, 256, size=(len(labels), side, side), dtype=np.uint8), labels


# ---------------------------------------------------------------------------- npz

def test_npz_becomes_a_dataset_named_by_its_content_with_a_stratified_split(cache):
    images, labels = three_classes()
    data = npz_bytes(images=images, labels=labels)
    info = import_file(data, "mine.npz")
    assert info.name == f"user:{hashlib.sha256(data).hexdigest()[:12]}-8"  # own size kept: square, <= 64
    assert (info.train_count, info.test_count, info.labelled) == (24, 6, True)
    dataset = load_dataset(info.name)
    assert dataset.image_shape == (1, 8, 8) and get_spec(info.name).input_size == 64
    assert np.bincount(dataset.test_labels.numpy()).tolist() == [2, 2, 2]  # stratified
    # every converted image is one of the originals, exactly (uint8 in, uint8 kept), with its own label
    originals = {img.tobytes(): label for img, label in zip(images, labels)}
    for image, label in zip(dataset.train_images, dataset.train_labels):
        assert originals[np.round(image[0].numpy() * 255).astype(np.uint8).tobytes()] == label
    assert info.name in [i.name for i in list_infos()]
    assert dataset.labelled and "mine.npz" in dataset.title


def test_npz_colour_floats_text_labels_and_resizing(cache):
    colours = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.4, 0.6]], dtype=np.float32)
    images = np.repeat(colours, 5, axis=0)[:, None, None, :] * np.ones((1, 12, 12, 1), dtype=np.float32)
    labels = np.repeat(np.array(["red", "green", "blue", "mix"]), 5)
    info = import_file(npz_bytes(images=images, labels=labels), "colours.npz", size=6)
    assert info.size == 6 and info.class_names == ("blue", "green", "mix", "red")  # sorted, as np.unique
    dataset = load_dataset(info.name)
    luma = colours @ np.array([0.299, 0.587, 0.114])  # ITU-R 601-2, PIL's convert("L")
    expected = {"red": luma[0], "green": luma[1], "blue": luma[2], "mix": luma[3]}
    for image, label in zip(dataset.test_images, dataset.test_labels):
        np.testing.assert_allclose(image.numpy(), expected[info.class_names[label]], atol=1 / 255)


def test_npz_without_labels_is_unlabelled_and_the_split_is_reproducible(cache, tmp_path, monkeypatch):
    images, _ = three_classes()
    data = npz_bytes(images=images)
    first = load_dataset(import_file(data, "plain.npz").name)
    assert not first.labelled and first.class_names == ("all images",)
    assert (first.test_labels.numpy() == 0).all()
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "elsewhere"))
    from aeviz.data.datasets import clear_cache

    clear_cache()
    again = load_dataset(import_file(data, "renamed.npz").name)
    assert np.array_equal(first.test_images.numpy(), again.test_images.numpy())


def test_the_same_file_is_converted_once(cache, monkeypatch):
    images, labels = three_classes()
    data = npz_bytes(images=images, labels=labels)
    first = import_file(data, "a.npz", size=16)
    import aeviz.data.user as user_data

    monkeypatch.setattr(user_data, "reader_for", lambda suffix: pytest.fail("converted twice"))
    assert import_file(data, "a.npz", size=16).name == first.name
    assert import_file(data, "a.npz").name == first.name  # no size chosen: the earlier import


@pytest.mark.parametrize("arrays, message", [
    ({"pictures": np.zeros((20, 8, 8))}, "has no array named 'images' (it holds: pictures)"),
    ({"images": np.zeros((20, 64))}, "images has shape (20, 64)"),
    ({"images": np.zeros((20, 8, 8, 2))}, "2 channels; use 1 (grey), 3 (RGB) or 4 (RGBA)"),
    ({"images": np.full((20, 8, 8), 300.0)}, "pixel values run from 300 to 300; use 0..255 or 0..1"),
    ({"images": np.full((20, 8, 8), np.nan)}, "NaN or infinite"),
    ({"images": np.zeros((20, 8, 8)), "labels": np.zeros(19)}, "labels has shape (19,)"),
    ({"images": np.zeros((20, 8, 8)), "labels": np.full(20, 0.5)}, "labels must be whole numbers or text"),
    ({"images": np.zeros((5, 8, 8))}, "holds 5 images; at least 10"),
    ({"images": np.zeros((limits.MAX_IMAGES + 1, 1, 1), dtype=np.uint8)}, "at most 70,000 are accepted"),
])
def test_bad_npz_files_are_named_with_the_fix(cache, arrays, message):
    with pytest.raises(BadUserData) as refused:
        import_file(npz_bytes(**arrays), "bad.npz")
    assert str(refused.value).startswith("bad.npz") and message in str(refused.value)


def test_npz_refuses_pickled_objects_and_data_that_does_not_match_its_header(cache):
    buffer = io.BytesIO()
    np.savez(buffer, images=np.array([object()] * 20, dtype=object))
    with pytest.raises(BadUserData, match="bad.npz: images holds Python objects, which are refused"):
        import_file(buffer.getvalue(), "bad.npz")
    header = io.BytesIO()
    np.lib.format.write_array(header, np.zeros((10, 8, 8), dtype=np.uint8))
    promised = header.getvalue()
    # a member that inflates far past what its .npy header promises: refused after reading 1 byte more
    bomb = zip_bytes({"images.npy": promised + bytes(50 * 2**20)})
    with pytest.raises(BadUserData, match=r"bomb.npz: images: its data does not match its header \(too long\)"):
        import_file(bomb, "bomb.npz")
    short = zip_bytes({"images.npy": promised[:-10]})
    with pytest.raises(BadUserData, match=r"\(truncated\)"):
        import_file(short, "short.npz")
    with pytest.raises(BadUserData, match="not an .npz archive"):
        import_file(b"hello", "text.npz")


def test_size_budget_is_checked_from_the_header(cache, monkeypatch):
    images, _ = three_classes()
    monkeypatch.setattr(limits, "MAX_CONVERTED_PIXELS", 30 * 8 * 8 - 1)
    import aeviz.data.user.npz_file as npz_file

    monkeypatch.setattr(npz_file, "Converter", lambda *a: pytest.fail("decoded before the check"))
    with pytest.raises(BadUserData, match="30 images at 8x8 exceed the budget.*use at most 29 images"):
        import_file(npz_bytes(images=images), "big.npz")
    with pytest.raises(BadUserData, match="image size must be a whole number from 4 to 64"):
        import_file(npz_bytes(images=images), "big.npz", size=65)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(cache, tmp_path, monkeypatch):
    path = tmp_path / "huge.npz"
    with open(path, "wb") as handle:
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: nothing written, nothing read
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: pytest.fail("read before the size check"))
    with pytest.raises(BadUserData, match=r"huge.npz is 128 MB; files up to 128 MB"):
        import_file(path)
    with pytest.raises(BadUserData, match="unknown kind of file"):
        import_file(b"abc", "photo.gif")


# ---------------------------------------------------------------------------- csv

def kaggle_csv(images: np.ndarray, labels=None) -> bytes:
    n, side = images.shape[0], images.shape[1]
    header = (["label"] if labels is not None else []) + [f"pixel{i}" for i in range(side * side)]
    lines = [",".join(header)]
    for i in range(n):
        cells = ([str(labels[i])] if labels is not None else []) + [str(v) for v in images[i].ravel()]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def test_kaggle_csv_with_and_without_labels(cache):
    images, labels = three_classes(side=4)
    info = import_file(kaggle_csv(images, labels), "train.csv")
    assert info.size == 4 and info.class_names == ("0", "1", "2") and info.labelled
    dataset = load_dataset(info.name)
    originals = {img.tobytes(): label for img, label in zip(images, labels)}
    for image, label in zip(dataset.test_images, dataset.test_labels):
        assert originals[np.round(image[0].numpy() * 255).astype(np.uint8).tobytes()] == label
    unlabelled = import_file(kaggle_csv(images), "test.csv", size=8)
    assert not unlabelled.labelled and unlabelled.size == 8


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows.__setitem__(4, rows[4].replace(",", ",x", 1).replace(",x", ",", 1).rsplit(",", 1)[0] + ",abc"),
     "bad.csv: line 5, column pixel15: 'abc' is not a number"),
    (lambda rows: rows.__setitem__(3, rows[3].rsplit(",", 1)[0]), "bad.csv: line 4, column pixel15: the value is missing"),
    (lambda rows: rows.__setitem__(6, rows[6] + ",7"), "line 7"),
    (lambda rows: rows.__setitem__(0, rows[0].replace("pixel3", "colour")), "bad.csv: line 1 has columns 'colour'"),
    (lambda rows: rows.__setitem__(0, rows[0] + ",pixel16"), "17 pixel columns do not make a square image"),
    (lambda rows: rows.__setitem__(2, "," + rows[2].split(",", 1)[1]), "bad.csv: line 3, column label: the label is missing"),
])
def test_bad_csv_rows_are_named(cache, edit, message):
    images, labels = three_classes(side=4)
    rows = kaggle_csv(images, labels).decode().splitlines()
    edit(rows)
    with pytest.raises(BadUserData) as refused:
        import_file(("\n".join(rows) + "\n").encode(), "bad.csv")
    assert message in str(refused.value)


def test_csv_rows_are_counted_before_parsing(cache, monkeypatch):
    images, labels = three_classes(side=4)
    monkeypatch.setattr(limits, "MAX_IMAGES", 29)
    import aeviz.data.user.csv_file as csv_file

    monkeypatch.setattr(csv_file, "parse_rows", lambda *a: pytest.fail("parsed before the count"))
    with pytest.raises(BadUserData, match="big.csv holds 30 images; at most 29"):
        import_file(kaggle_csv(images, labels) + b"\n\n", "big.csv")


# ---------------------------------------------------------------------------- image folder zip

def test_image_folder_zip_classes_formats_and_sizes(cache):
    members = {"__MACOSX/shapes/._x.png": b"junk", "shapes/.DS_Store": b"junk"}
    for c, (folder, value) in enumerate([("circle", 40), ("square", 200)]):
        for i in range(6):
            if i % 2:
                members[f"shapes/{folder}/{i}.jpg"] = png_bytes(np.full((30, 20, 3), value, dtype=np.uint8), "JPEG")
            else:
                members[f"shapes/{folder}/{i}.png"] = png_bytes(np.full((16, 16, 4), value, dtype=np.uint8))
    info = import_file(zip_bytes(members), "shapes.zip", size=12)
    assert info.class_names == ("circle", "square") and (info.train_count, info.test_count) == (9, 3)
    dataset = load_dataset(info.name)
    assert dataset.image_shape == (1, 12, 12)
    for image, label in zip(dataset.train_images, dataset.train_labels):
        np.testing.assert_allclose(image.numpy(), (40, 200)[label] / 255, atol=2 / 255)  # JPEG rounding
    flat = {f"{i}.png": png_bytes(np.full((8, 8), i * 20, dtype=np.uint8)) for i in range(10)}
    unlabelled = import_file(zip_bytes(flat), "flat.zip")
    assert not unlabelled.labelled and unlabelled.size == limits.DEFAULT_SIZE


@pytest.mark.parametrize("members, message", [
    ({"a/1.png": b"", "a/notes.txt": b"hello"}, "bad.zip: a/notes.txt is not a PNG or JPEG image"),
    ({"a/1.png": png_bytes(np.zeros((8, 8), np.uint8)), "a/b/2.png": png_bytes(np.zeros((8, 8), np.uint8)),
      **{f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(3, 12)}},
     "bad.zip: a/b/2.png is not directly inside a class folder"),
    ({**{f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(10)}, "a/broken.png": b"\x89PNG\r\n\x1a\nxx"},
     "bad.zip: a/broken.png could not be read"),
    ({f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(4)}, "holds 4 images; at least 10"),
])
def test_bad_image_folder_zips_name_the_member(cache, members, message):
    with pytest.raises(BadUserData) as refused:
        import_file(zip_bytes(members), "bad.zip")
    assert message in str(refused.value)


def test_zip_images_too_large_are_refused_from_their_header(cache):
    members = {f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(10)}
    members["a/huge.png"] = png_bytes(np.zeros((1100, 1100), np.uint8))  # 1.2 megapixels, a few KB as PNG
    with pytest.raises(BadUserData, match="bad.zip: a/huge.png is 1100x1100 pixels"):
        import_file(zip_bytes(members), "bad.zip")


def test_zip_inflation_is_bounded_by_bytes_produced(cache, monkeypatch):
    monkeypatch.setattr(limits, "MAX_INFLATED_BYTES", 2**20)
    import aeviz.data.user.image_folder as image_folder

    monkeypatch.setattr(image_folder, "MAX_INFLATED_BYTES", 2**20)
    members = {f"a/{i}.png": png_bytes(np.zeros((8, 8), np.uint8)) for i in range(10)}
    members["a/big.png"] = b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20)  # compresses to a few KB
    with pytest.raises(BadUserData, match="bad.zip unpacks to more than 1 MB"):
        import_file(zip_bytes(members), "bad.zip")


# ---------------------------------------------------------------------------- names

def test_resolve_dataset_imports_a_path_and_keeps_names(cache, tmp_path):
    images, labels = three_classes()
    path = tmp_path / "mine.npz"
    path.write_bytes(npz_bytes(images=images, labels=labels))
    name = resolve_dataset(str(path))
    assert name.startswith("user:") and resolve_dataset(name) == name and resolve_dataset("digits") == "digits"
    with pytest.raises(BadUserData, match="unknown dataset 'nope'"):
        resolve_dataset("nope")


# ---------------------------------------------------------------------------- command line

def test_cli_adds_lists_trains_on_and_removes_a_user_dataset(cache, tmp_path, capsys):
    import json

    from aeviz.cli import main
    from aeviz.runs.store import RunStore

    images, labels = three_classes(n_per_class=20)
    path = tmp_path / "mine.npz"
    path.write_bytes(npz_bytes(images=images, labels=labels))
    assert main(["datasets", "--add", str(path), "--size", "6", "--json"]) == 0
    name = json.loads(capsys.readouterr().out.splitlines()[-1])["name"]
    assert name.endswith("-6")
    assert main(["datasets", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out.splitlines()[-1])}
    assert listed[name]["available"] and "your file mine.npz: 48 train / 12 test images, 3 classes" == listed[name]["source"]
    assert main(["train", "--dataset", str(path), "--variant", "plain", "--k", "3", "--epochs", "1",
                 "--set", "hidden=8"]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    config = RunStore().info(run_id).config
    assert config["dataset"] == name and config["input_shape"] == [1, 6, 6]  # the earlier import, reused
    assert main(["pca", "--dataset", name, "--k", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == name
    assert main(["datasets", "--remove", name]) == 0
    capsys.readouterr()
    assert main(["train", "--dataset", name, "--epochs", "1"]) == 2
    assert f"your dataset {name} is not in" in capsys.readouterr().err


def test_cli_names_a_bad_file_in_one_line(cache, tmp_path, capsys):
    from aeviz.cli import main

    path = tmp_path / "scan.csv"
    path.write_text("label,pixel0,pixel1,pixel2,pixel3\n" + "1,0,0,0,0\n" * 9 + "1,0,zero,0,0\n")
    assert main(["train", "--dataset", str(path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scan.csv: line 11, column pixel1: 'zero' is not a number" in err
