"""Links: the URL's query parameters fill the widgets, the widgets fill the URL, a shared link never carries
the session id; a configuration already trained is offered instead of trained again; Lessons and Class view."""

from __future__ import annotations

import pytest

from aeviz.training.config import TrainConfig
from aeviz.lessons import get_lesson
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from aeviz.variants import get_variant
from tests.apptest import open_page

TIMEOUT = 120
SMALL = {"hidden": [16]}


def train_saved(store, **fields) -> str:
    """A run saved as the Train page would configure it: the variant's own learning rate and batch size."""
    defaults = get_variant(fields["variant"]).training_defaults()
    fields = {"lr": defaults["lr"], "batch_size": defaults["batch_size"], **fields}
    trainer = Trainer(TrainConfig(dataset="digits", device="cpu", **fields), store=store)
    for _ in trainer.run():
        pass
    return trainer.finished.saved_run_id


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("link-runs")
    store = RunStore(root)
    lesson_config = get_lesson("bottleneck").config()
    lesson_config.epochs = 2  # the lesson's variant and k, too short to pass
    train_saved(store, variant="plain", k=8, epochs=2)
    train_saved(store, variant="plain", k=3, epochs=1, params=SMALL, seed=4)
    train_saved(store, variant="plain", k=2, epochs=1, params=SMALL)
    return root


def query_of(at) -> dict:
    return {name: at.query_params[name] for name in at.query_params}


def test_a_link_fills_the_train_page_and_the_page_fills_the_url(store_env):
    at = open_page("train.py", TIMEOUT)
    at.query_params.update({"dataset": "digits", "variant": "sparse_l1", "k": "12", "epochs": "7", "seed": "3",
                            "lr": "0.001", "batch": "128", "set": ["l1_weight=0.003"]})
    at.run()
    assert not at.exception
    assert at.selectbox(key="train_variant").value == "sparse_l1"
    assert at.slider(key="train_k.sparse_l1.digits").value == 12
    assert at.number_input(key="train_epochs").value == 7.0
    assert at.number_input(key="train_seed").value == 3
    assert at.select_slider(key="train_lr.sparse_l1").value == 0.001
    assert at.select_slider(key="train_batch.sparse_l1").value == 128
    assert at.select_slider(key="train.sparse_l1.l1_weight").value == 0.003

    at.slider(key="train_k.sparse_l1.digits").set_value(16).run()  # and back: the URL follows the widgets
    query = query_of(at)
    assert query["k"] == "16" and query["variant"] == "sparse_l1" and query["epochs"] == "7"
    assert "l1_weight=0.003" in query["set"]

    link = next(code.value for code in at.code if "variant=sparse_l1" in code.value)
    assert "session" in query and query["session"] not in link and "session=" not in link
    assert "k=16" in link


def test_a_bad_link_says_so_and_the_page_still_works(store_env):
    at = open_page("train.py", TIMEOUT)
    at.query_params.update({"dataset": "digits", "variant": "plain", "k": "banana"})
    at.run()
    assert not at.exception
    assert any("not applied" in w.value and "banana" in w.value for w in at.warning)


def test_the_train_page_offers_a_run_already_trained_with_the_same_configuration(store_env):
    at = open_page("train.py", TIMEOUT)
    at.query_params.update({"dataset": "digits", "variant": "plain", "k": "3", "epochs": "1", "seed": "4",
                            "set": ["hidden=16"]})
    at.run()
    assert any("already trained on this server" in i.value for i in at.info)
    [button] = [b for b in at.button if b.label.startswith("Open the run trained at")]
    button.click().run()
    assert any(s.value.startswith("Opened run plain-k3-digits") for s in at.success)

    at.query_params["seed"] = "5"  # another seed: nothing to reuse
    at.run()
    assert not any("already trained" in i.value for i in at.info)


def test_a_link_chooses_the_runs_of_a_page(store_env):
    store = RunStore(store_env.root)
    oldest = store.list()[-1].run_id
    at = open_page("reconstructions.py", TIMEOUT)
    at.query_params["runs"] = oldest
    at.run()
    assert not at.exception
    assert at.multiselect(key="recon_runs").value == [oldest]
    assert query_of(at)["runs"] == oldest


def test_the_lessons_page_opens_a_lesson_from_its_link_and_checks_a_run(store_env):
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["lesson"] = "bottleneck"
    at.run()
    assert not at.exception
    assert at.selectbox(key="lesson_choice").value == "bottleneck"
    assert any("PCA" in m.value for m in at.markdown)
    # the run was not trained by this session: listed, not chosen (issue 31, item 5); checked on purpose, its
    # numbers are shown but the lesson is not marked
    picker = at.selectbox(key="lesson_run.bottleneck")
    assert picker.value is None
    picker.set_value(next(i.run_id for i in store_env.list() if i.config["k"] == 8)).run()
    at.button(key="lesson_check.bottleneck").click().run()
    assert not at.exception
    assert any(w.value.startswith("not yet: error_ratio_to_pca") for w in at.warning)  # a 2-epoch run
    at.run()  # the lesson list redraws
    assert at.selectbox(key="lesson_choice").options[1] == "The bottleneck, and PCA as the bar to beat"


def test_the_class_view_shows_the_runs_against_pca_and_the_lessons(store_env):
    at = open_page("class_view.py", TIMEOUT)
    at.run()
    assert not at.exception
    assert at.get("plotly_chart")
    assert any("run(s)" in m.value for m in at.markdown)
