"""Every page of the app on your own images: a labelled and an unlabelled user dataset (the 8x8 digits
saved as .npz), each with a short run; the pages that need labels say so instead of failing."""

import re

import pytest

from aeviz.data.datasets import load_dataset
from aeviz.data.user import import_file

from tests.apptest import open_page
from tests.conftest import digits_npz, save_short_runs
from ui.page_registry import available_pages

TIMEOUT = 90


@pytest.fixture(scope="module")
def user_sets(tmp_path_factory):
    """(labelled name, unlabelled name), converted into a cache folder of this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AEVIZ_CACHE_DIR", str(tmp_path_factory.mktemp("user-cache")))
        yield (import_file(digits_npz(True), "digits-labelled.npz").name,
               import_file(digits_npz(False), "digits-unlabelled.npz").name)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, user_sets):
    root = tmp_path_factory.mktemp("user-runs")
    for name in user_sets:
        save_short_runs(root, name, [4], load_dataset(name))
    return root


def test_a_run_on_a_user_dataset_records_its_name_and_shape(store_env, user_sets):
    configs = {info.config["dataset"]: info.config for info in store_env.list()}
    assert set(configs) == set(user_sets)
    assert all(config["input_shape"] == [1, 8, 8] for config in configs.values())
    assert all(":" not in info.run_id for info in store_env.list())


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_every_page_opens_on_a_user_dataset(store_env, user_sets, labelled):
    name = user_sets[0 if labelled else 1]
    for entry in available_pages():
        page = entry.file.removesuffix(".py")
        if page == "recommender":
            continue  # MovieLens ratings, not images: the dataset selector does not apply
        at = open_page(entry.file, TIMEOUT)
        at.session_state["dataset"] = name
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        infos = " ".join(i.value for i in at.info)
        if page == "applications" and not labelled:
            assert "has no labels: every section here needs them" in infos
        if page == "latent_space":
            assert ("has no labels" in infos) is (not labelled)


def converted(at) -> None:
    """Wait for the session's upload to be converted (in the background), then redraw as the page would."""
    from ui.user_dataset import CONVERSION_KEY

    assert at.session_state[CONVERSION_KEY].wait(TIMEOUT)
    at.run()


def test_the_sidebar_converts_an_upload_and_names_a_bad_one(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.sidebar.selectbox(key="sidebar_dataset:digits").set_value("your own…").run()
    assert not at.exception and at.session_state["dataset"] == "digits"  # unchanged until a file is converted
    uploader = at.sidebar.get("file_uploader")[0]
    uploader.set_value(("broken.npz", b"not a zip", "application/octet-stream")).run()
    at.sidebar.button(key="sidebar_dataset_use").click().run()
    converted(at)
    assert "broken.npz is not an .npz archive" in " ".join(re.sub(r"\\(.)", r"\1", e.value) for e in at.sidebar.error)
    assert at.session_state["dataset"] == "digits"
    at.sidebar.get("file_uploader")[0].set_value(("mine.npz", digits_npz(True), "application/octet-stream")).run()
    at.sidebar.number_input(key="sidebar_dataset_size").set_value(12).run()
    at.sidebar.button(key="sidebar_dataset_use").click().run()
    converted(at)
    assert not at.exception
    name = at.session_state["dataset"]
    assert name.startswith("user:") and name.endswith("-12")
    assert at.sidebar.selectbox(key=f"sidebar_dataset:{name}").value == name
    # the file name is shown as plain text: each punctuation character escaped for Markdown (ui.plain_text)
    assert "your file mine.npz" in " ".join(re.sub(r"\\(.)", r"\1", c.value) for c in at.sidebar.caption)
    assert load_dataset(name).image_shape == (1, 12, 12)
