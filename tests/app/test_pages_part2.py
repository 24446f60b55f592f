"""AppTest tests of the sparsity, denoising and information pages with short digits runs."""

import pytest
from streamlit.testing.v1 import AppTest

from aeviz.training.config import TrainConfig
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer

from tests.apptest import open_page

TIMEOUT = 60


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, digits):
    """A run store with one short digits run of each variant the pages treat specially."""
    root = tmp_path_factory.mktemp("part2-runs")
    store = RunStore(root)
    for variant, params in [("plain", {"hidden": [32]}), ("sparse_kl", {}), ("vae", {"hidden": [32]}),
                            ("denoising", {"hidden": [32], "noise": "gaussian", "noise_level": 0.2})]:
        config = TrainConfig(dataset="digits", variant=variant, k=8, epochs=1, params=params, device="cpu")
        trainer = Trainer(config, digits, store=store)
        for _ in trainer.run():
            pass
    return root


def page(name: str) -> AppTest:
    return open_page(name, TIMEOUT)


def run_ids(store, variant):
    return [i.run_id for i in store.list() if i.config.get("variant") == variant]


def test_information_page_theory_adds_up_and_run_figures(store_env):
    at = page("information.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    h, kl, ce = float(metrics["H(P)"]), float(metrics["KL(P‖Q)"]), float(metrics["H(P, Q)"])
    assert h + kl == pytest.approx(ce, abs=2e-4)
    # Q(A) = 0 while P(A) > 0: infinite cross-entropy, a warning and no traceback.
    at.slider(key="info_q0").set_value(0.0).run()
    assert not at.exception
    assert any("infinite" in w.value for w in at.warning)
    # A sparse_kl run shows its per-unit KL; a VAE its KL per dimension.
    for variant in ("sparse_kl", "vae"):
        at.selectbox(key="info_run").set_value(run_ids(store_env, variant)[0]).run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]


def test_information_page_without_runs_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    at = page("information.py").run()
    assert not at.exception
    assert any("No saved runs" in i.value for i in at.info)


def test_sparsity_page_compares_runs_and_runs_a_sweep(store_env):
    at = page("sparsity.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="sparsity_runs").set_value(run_ids(store_env, "plain")[:1] + run_ids(store_env, "sparse_kl")[:1])
    at.run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels.count("Dormant units") == 2
    at.toggle(key="sparsity_side_by_side").set_value(True).run()
    assert not at.exception, at.exception
    at.slider(key="sparsity_feature_count").set_value(8).run()
    assert not at.exception, at.exception
    # The sweep: two short sparse_l1 points through the shared sweep engine.
    at.selectbox(key="sparsity_sweep_variant").set_value("sparse_l1").run()
    at.text_input(key="sparsity_sweep_values_sparse_l1").set_value("0.0001, 0.1")
    at.number_input(key="sparsity_sweep_k").set_value(8)
    at.number_input(key="sparsity_sweep_epochs.digits").set_value(1.0)
    at.button(key="sparsity_sweep_start").click().run()
    assert not at.exception, at.exception
    runner = at.session_state["sparsity_sweep_runner.digits"]
    runner.wait(timeout=60)
    assert not runner.running
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["l1_weight"]) == [0.0001, 0.1]
    # A stronger L1 penalty gives a smaller mean activation.
    assert table["mean activation"].iloc[1] < table["mean activation"].iloc[0]
    sweep_runs = [i for i in RunStore(store_env.root).list() if i.config.get("tags", {}).get("sweep")]
    assert len(sweep_runs) == 2


def test_denoising_page_grid_sweep_heatmap_and_inpainting(store_env):
    at = page("denoising.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="denoising_run").set_value(run_ids(store_env, "denoising")[0]).run()
    assert not at.exception, at.exception
    # The run was trained on Gaussian noise at 0.2: the page starts there.
    assert at.selectbox(key="denoising_kind").value == "gaussian"
    assert at.slider(key="denoising_level").value == pytest.approx(0.2)
    assert not at.warning, [w.value for w in at.warning]
    metrics = {m.label: float(m.value) for m in at.metric}
    at.slider(key="denoising_level").set_value(0.6).run()
    louder = {m.label: float(m.value) for m in at.metric}
    assert louder["Noisy vs clean (MSE)"] > metrics["Noisy vs clean (MSE)"]
    assert not at.error, [e.value for e in at.error]
    # Inpainting: a bigger square costs more error inside it when filled with 0.
    assert louder["Inside the square: fill vs clean"] >= 0
    # The train-level x test-level heatmap from two short runs of the sweep engine.
    at.text_input(key="denoising_heat_train").set_value("0, 0.5")
    at.number_input(key="denoising_heat_k").set_value(8)
    at.number_input(key="denoising_heat_epochs.digits").set_value(1.0)
    at.text_input(key="denoising_heat_test").set_value("0, 0.5")
    at.button(key="denoising_heat_start").click().run()
    runner = at.session_state["denoising_heatmap_runner.digits"]
    runner.wait(timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    sweep, _ = runner.snapshot()
    assert [p.status for p in sweep.points] == ["completed", "completed"]


def test_sparsity_sweep_can_be_stopped_from_the_page_after_a_reload(store_env):
    from aeviz.jobs import sessions

    student = sessions.mint()  # an id the server issued (an invented one would get a fresh session)
    first = page("sparsity.py")
    first.query_params["session"] = student
    first.run()
    first.selectbox(key="sparsity_sweep_variant").set_value("ksparse").run()
    first.text_input(key="sparsity_sweep_values_ksparse").set_value("2, 4, 6")
    first.number_input(key="sparsity_sweep_k").set_value(8)
    first.number_input(key="sparsity_sweep_epochs.digits").set_value(100.0)
    first.button(key="sparsity_sweep_start").click().run()
    runner = first.session_state["sparsity_sweep_runner.digits"]
    assert runner.running
    at = page("sparsity.py")  # a reload: a new Streamlit session with the same ?session= id
    at.query_params["session"] = student
    at.run()
    assert not at.exception
    at.button(key="sparsity_sweep_runner.digits_stop").click().run()
    runner.wait(timeout=60)
    assert not runner.running
    sweep, _ = runner.snapshot()
    assert sweep.status == "stopped"
    assert sum(p.status == "completed" for p in sweep.points) < 3
    at.run()
    assert not at.exception, at.exception
    assert any("stopped by request" in c.value for c in at.caption)
