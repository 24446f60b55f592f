"""Switching dataset never leaves a run (or a sweep) of the other dataset chosen on any page (issue 31,
item 12: the Sparsity page crashed with `mat1 and mat2 shapes cannot be multiplied` after a switch). Two
datasets of different image sizes (the 8x8 digits and the digits resized to 12x12 as a user dataset), a
run on each; every page that picks runs is opened on one, then switched to the other."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

from aeviz.training.config import TrainConfig
from aeviz.data.datasets import load_dataset
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from aeviz.data.user import import_file
from tests.apptest import open_page

TIMEOUT = 120
RUN_PAGES = ("reconstructions.py", "latent_space.py", "explore.py", "sparsity.py", "denoising.py",
             "information.py", "applications.py")


@pytest.fixture(scope="module")
def other_dataset(tmp_path_factory):
    bunch = load_digits()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.round(bunch.images * 255 / 16).astype(np.uint8), labels=bunch.target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AEVIZ_CACHE_DIR", str(tmp_path_factory.mktemp("user-cache")))
        name = import_file(buffer.getvalue(), "digits-12.npz", size=12).name
        yield name


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, other_dataset, digits):
    root = tmp_path_factory.mktemp("switch-runs")
    for name, data in (("digits", digits), (other_dataset, load_dataset(other_dataset))):
        for variant in ("plain", "ksparse"):
            params = {"hidden": [16]} if variant == "plain" else {"active_units": 3}
            trainer = Trainer(TrainConfig(dataset=name, variant=variant, k=6, epochs=1, params=params, device="cpu"),
                              data, store=RunStore(root))
            for _ in trainer.run():
                pass
    return root


def chosen_values(at) -> list:
    values = []
    for widget in [*at.get("selectbox"), *at.get("multiselect")]:
        value = widget.value
        values += list(value) if isinstance(value, (list, tuple)) else [value]
    return values


@pytest.mark.parametrize("page", RUN_PAGES)
def test_switching_dataset_leaves_no_run_of_the_other_dataset_chosen(store_env, other_dataset, page):
    runs = {info.run_id: info.config["dataset"] for info in store_env.list()}
    for first, second in (("digits", other_dataset), (other_dataset, "digits")):
        at = open_page(page, TIMEOUT)
        at.session_state["dataset"] = first
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert {runs[v] for v in chosen_values(at) if v in runs} == {first}, page
        at.session_state["dataset"] = second
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = {runs[v] for v in chosen_values(at) if v in runs}
        assert shown == {second}, (page, first, second, shown)


def test_the_sparsity_page_never_draws_a_sweep_of_the_other_dataset(store_env, other_dataset):
    """The crash of item 12: Makhzani & Frey's filter runs trained on one dataset, drawn after a switch with
    the other dataset's test images."""
    at = open_page("sparsity.py", TIMEOUT)
    at.run()
    at.number_input(key="sparsity_filters_epochs.digits").set_value(0.5)
    at.button(key="sparsity_filters_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        at.run()
        runner = at.session_state["sparsity_ksparse_filters.digits"] \
            if "sparsity_ksparse_filters.digits" in at.session_state else None
        if runner is not None and not runner.running:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the filter runs did not finish in 10 minutes")
    at.run()  # drawn once more: the run that saw the sweep end may have started drawing while it still ran
    assert not at.exception, [e.value for e in at.exception]
    drawn = len(at.get("plotly_chart"))
    at.session_state["dataset"] = other_dataset
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("The sweep started here was on digits" in c.value for c in at.caption)
    at.session_state["dataset"] = "digits"  # and back: the digits sweep is drawn again
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == drawn
