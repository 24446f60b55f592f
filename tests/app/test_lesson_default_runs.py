"""Pages open on a run that shows their idea (issue 31, item 11): Denoising and Explore opened on the newest
run, however short or unsuited; now Denoising starts on a converged run trained on noise, Explore on a
converged run whose codes are a plane (k = 2 or a VAE), each falling back to the newest. Seen in the
projector screenshots: Sparsity and Information opened on the newest run (a contractive one), where neither page
has anything to show of it; now Sparsity starts on a sparse run, Information on one whose KL it shows per unit."""

from __future__ import annotations

import pytest

from aeviz.training.config import TrainConfig
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from tests.apptest import open_page

TIMEOUT = 90


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, digits):
    root = tmp_path_factory.mktemp("default-runs")
    ids = {}
    for name, config in (
            ("plane", TrainConfig(dataset="digits", variant="plain", k=2, epochs=40, device="cpu")),
            ("denoising", TrainConfig(dataset="digits", variant="denoising", k=8, epochs=40, device="cpu")),
            ("sparse", TrainConfig(dataset="digits", variant="sparse_l1", k=32, epochs=40, device="cpu")),
            ("kl", TrainConfig(dataset="digits", variant="sparse_kl", k=32, epochs=40, device="cpu")),
            ("short", TrainConfig(dataset="digits", variant="plain", k=8, epochs=0.05, device="cpu"))):
        trainer = Trainer(config, digits, store=RunStore(root))
        for _ in trainer.run():
            pass
        ids[name] = trainer.finished.saved_run_id
    (root / "ids.txt").write_text(",".join(f"{k}={v}" for k, v in ids.items()))
    return root


def ids(root) -> dict:
    return dict(pair.split("=") for pair in (root / "ids.txt").read_text().split(","))


def test_the_short_run_is_the_newest_and_far_from_converged(store_env, runs_dir):
    from ui.runs import converged

    infos = {i.run_id: i for i in store_env.list()}
    assert store_env.list()[0].run_id == ids(runs_dir)["short"]
    assert not converged(infos[ids(runs_dir)["short"]])
    assert converged(infos[ids(runs_dir)["plane"]]) and converged(infos[ids(runs_dir)["denoising"]])


@pytest.mark.parametrize("page, key, expected", [("denoising.py", "denoising_run", "denoising"),
                                                 ("explore.py", "explore_run", "plane")])
def test_a_page_opens_on_a_run_that_shows_its_idea(store_env, runs_dir, page, key, expected):
    at = open_page(page, TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=key).value == ids(runs_dir)[expected]


def test_sparsity_opens_on_a_sparse_run_and_information_on_one_with_a_kl(store_env, runs_dir):
    at = open_page("sparsity.py", TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    [chosen] = at.multiselect(key="sparsity_runs").value  # a sparse run (converged first), not the newest
    assert chosen in (ids(runs_dir)["sparse"], ids(runs_dir)["kl"])
    at = open_page("information.py", TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="info_run").value == ids(runs_dir)["kl"]
