"""Hostile and careless links on the Train page (#34): numbers that overflow, NaN, negative k, an unknown
variant or setting, values outside a widget's range, very long strings and Markdown. The page never fails;
each value that cannot be used is named in its warning with the default kept; the usable ones are applied."""

from __future__ import annotations

import re

import pytest

from aeviz.variants import get_variant
from tests.apptest import open_page

TIMEOUT = 120


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile-link-runs")


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
