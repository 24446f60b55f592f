"""Hostile and careless links (#34). On the Train page: numbers that overflow, NaN, negative k, an unknown
variant or setting, values outside a widget's range, very long strings and Markdown. On every other page that
reads its link: a dataset this session cannot open (every page), runs that are not saved here or more than a
picker shows (each page with a run picker), a lesson that is not one here. The page never fails; each value
that cannot be used is named in its warning with the default kept; the usable ones are applied."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from sklearn.datasets import load_digits
from streamlit.testing.v1 import AppTest

from aeviz.data.user import import_file
from aeviz.data.user.owners import owner_key
from aeviz.lessons import load_lessons
from aeviz.variants import get_variant
from tests.apptest import open_page
from tests.conftest import ROOT, save_short_runs

TIMEOUT = 120


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """Two short runs on the digits (the run pickers' pages need some)."""
    return save_short_runs(tmp_path_factory.mktemp("hostile-link-runs"), "digits", [2, 3])


def opened(query: dict):
    at = open_page("train.py", TIMEOUT)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, "\n".join(w.value for w in at.warning)


def read(markdown: str) -> str:
    """The warning as it reads on the page (its Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_bad_values_are_named_and_the_good_ones_applied(store_env):
    at, shown = opened({"dataset": "digits", "variant": "sparse_l1", "k": "12", "seed": "-1", "lr": "1e99",
                          "epochs": "nan", "batch": "100000",
                          "set": ["l1_weight=5", "l1_weight=1e-9", "nonsense=1", "optimizer=sgd", "oops"]})
    warning = read(shown)
    assert at.slider(key="train_k.sparse_l1.digits").value == 12  # the good value, applied
    assert at.number_input(key="train_seed").value == 0
    default_lr = get_variant("sparse_l1").training_defaults()["lr"]
    assert at.select_slider(key="train_lr.sparse_l1").value == default_lr  # the variant's default, kept
    for named in ("lr=1e99 is out of range", "epochs=nan is not a finite number", "seed=-1 is out of range",
                  "batch=100000 is out of range", "set=l1_weight=5 is out of range",
                  "set=l1_weight=1e-9 is out of range", "set=nonsense=1 is out of range",
                  "set=optimizer=sgd is out of range (the Train page has no control", "set=oops should be name=value"):
        assert named in warning, (named, warning)
    assert warning.count("kept the default") >= 7


def test_overflowing_long_and_markdown_values(store_env):
    at, shown = opened({"dataset": "digits", "variant": "plain", "k": "9" * 5000, "seconds": "1e999",
                          "epochs": "5000", "lr": "0.005", "seed": "99999999999999999999999999",
                          "set": ["hidden=[x](http://example.com/a.png)"]})
    warning = read(shown)
    assert "the link's k is 5,000 characters long" in warning
    assert "seconds=1e999 is not a finite number" in warning
    assert "epochs=5000 is out of range" in warning and "from 0.1 to 1000" in warning
    assert "lr=0.005 is out of range (the Learning rate slider offers" in warning
    assert "seed=99999999999999999999999999 is out of range" in warning
    assert "\\[x\\]" in shown and "[x](http" not in shown  # shown as text, never a link or an image
    assert at.number_input(key="train_epochs").value > 0


def test_an_unknown_variant_or_dataset_is_named_and_nothing_else_applied(store_env):
    at, shown = opened({"dataset": "digits", "variant": "bogus", "k": "-3"})
    warning = read(shown)
    assert "the link's variant=bogus is not a variant here" in warning
    assert at.selectbox(key="train_variant").value != "bogus"
    _, shown = opened({"dataset": "mnist-huge", "variant": "plain", "k": "1e400"})
    warning = read(shown)
    assert "the link's dataset=mnist-huge cannot be used" in warning


def test_negative_and_huge_k_are_named(store_env):
    _, shown = opened({"dataset": "digits", "variant": "plain", "k": "-3"})
    warning = read(shown)
    assert "the link's k=-3 is out of range (k must be at least 1" in warning
    _, shown = opened({"dataset": "digits", "variant": "plain", "k": "1e400"})
    warning = read(shown)
    assert "the link's k=1e400 is not a whole number" in warning


# (page, its run picker's key, how many runs it shows): every page whose link may name runs (?runs=)
RUN_PICKERS = [("reconstructions.py", "recon_runs", 4), ("sparsity.py", "sparsity_runs", 3),
               ("latent_space.py", "latent_run", 1), ("information.py", "info_run", 1),
               ("applications.py", "apps_run", 1), ("explore.py", "explore_run", 1), ("denoising.py", "denoising_run", 1)]


@pytest.mark.parametrize("page, key, most", RUN_PICKERS, ids=[page for page, _, _ in RUN_PICKERS])
def test_a_run_picker_names_each_run_of_its_link_left_out(store_env, page, key, most):
    newest, older = [info.run_id for info in store_env.list()]
    at = open_page(page, TIMEOUT)
    at.query_params["runs"] = f"[nope](http://example.com),{newest},{older}"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warning = read("\n".join(w.value for w in at.warning))
    assert "the link's runs names [nope](http://example.com), which is not a run saved here on digits; it was " \
           "left out" in warning, warning
    assert "[nope](" not in "\n".join(w.value for w in at.warning)  # shown as text, never a link
    if most > 1:
        assert at.session_state[key] == [newest, older]
    else:
        assert at.session_state[key] == newest
        assert f"the link's runs names 2 runs and this picker shows one run; {older} left out" in warning


def test_a_picker_with_no_run_to_offer_still_names_its_links_runs(store_env):
    at = open_page("denoising.py", TIMEOUT)
    at.query_params["denoising_run"] = "some-run"  # the noise sweep's picker lists denoising runs: none here
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "the link's denoising_run names some-run, which is not a run saved here on digits of the kinds this " \
           "picker lists" in read("\n".join(w.value for w in at.warning))


def npz_of_digits() -> bytes:
    bunch = load_digits()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.round(bunch.images * 255 / 16).astype(np.uint8), labels=bunch.target)
    return buffer.getvalue()


@pytest.fixture
def user_sets(tmp_path, monkeypatch):
    """(a dataset the teacher added, shared with every session; one another session uploaded, its own)."""
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    shared = import_file(npz_of_digits(), "shared.npz", 8).name
    theirs = import_file(npz_of_digits(), "theirs.npz", 7, owner=owner_key("another session")).name
    return shared, theirs


def app_with(query: dict, page: str | None = None) -> tuple[AppTest, str]:
    """The whole app (its shell reads the dataset) opened on a link to `page` (default: Home); (the app, its
    warnings as they read)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    if page is not None:
        at.switch_page(f"app_pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, read("\n".join(w.value for w in at.warning))


def test_every_page_names_a_dataset_it_cannot_open_and_opens_one_it_can(store_env, user_sets):
    shared, theirs = user_sets
    for wanted in ("mnist-huge", theirs):  # unknown, or another session's upload: the same words for both
        at, warning = app_with({"dataset": wanted})
        assert f"the link's dataset={wanted} is not a dataset you can open here (mnist, fashion-mnist, digits, " in warning, warning
        assert "or one of your own); kept digits" in warning
        assert at.session_state["dataset"] == "digits"
    at, warning = app_with({"dataset": shared})
    assert at.session_state["dataset"] == shared and "dataset" not in warning


def test_the_train_page_takes_a_link_to_a_dataset_the_session_can_open(store_env, user_sets):
    shared, theirs = user_sets
    at, warning = app_with({"dataset": shared, "variant": "plain", "k": "3"}, "train.py")
    assert not warning, warning
    assert at.slider(key=f"train_k.plain.{shared}").value == 3
    at, warning = app_with({"dataset": theirs, "variant": "plain", "k": "3"}, "train.py")
    assert f"the link's dataset={theirs} is not a dataset you can open here" in warning, warning
    assert warning.count(f"dataset={theirs}") == 1  # named once, by the shell; the rest applied on the digits
    assert at.slider(key="train_k.plain.digits").value == 3


def test_a_lesson_that_is_not_one_here_is_named(store_env):
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["lesson"] = "**bogus**"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    first = load_lessons()[0].id
    assert f"the link's lesson=**bogus** is not a lesson here (one of {first}, " in read(at.warning[0].value)
    assert "it was not opened" in read(at.warning[0].value) and "**bogus**" not in at.warning[0].value
    at, warning = app_with({"lesson": "bogus"})  # another page opened from a lesson's link
    assert "the link's lesson=bogus is not a lesson here" in warning and "no link back to a lesson" in warning
