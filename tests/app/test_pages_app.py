"""AppTest tests of the shell (app.py), Home, Train, Reconstructions and Latent space pages."""

import pytest
from streamlit.testing.v1 import AppTest

from aeviz.training.config import TrainConfig
from aeviz.jobs.manager import default_manager
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer

from tests.apptest import open_page
from tests.conftest import ROOT
from tests.data.test_data import fake_arrays, write_idx_folder
from ui.common import dataset_statuses

TIMEOUT = 90
SMALL = {"hidden": [32]}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, digits):
    """Two short digits runs: a linear k=4 and a plain k=2 (the page shows its codes directly)."""
    root = tmp_path_factory.mktemp("app-runs")
    store = RunStore(root)
    for variant, k, params in [("linear", 4, {}), ("plain", 2, SMALL)]:
        trainer = Trainer(TrainConfig(dataset="digits", variant=variant, k=k, epochs=2, params=params,
                                      device="cpu"), digits, store=store)
        for _ in trainer.run():
            pass
    return root


def page(name: str) -> AppTest:
    return open_page(name, TIMEOUT)


def charts(at) -> list:
    return at.get("plotly_chart")


def test_app_shell_sidebar(monkeypatch):
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.startswith("aeviz")  # the home page
    assert at.sidebar.selectbox(key="sidebar_dataset:digits").value == "digits"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Source: scikit-learn" in captions and "Device:" in captions
    assert "None yet" in captions  # no runs in this session
    assert at.query_params["session"]  # the reload handle


def test_home_page_renders_diagram():
    at = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "bottleneck" in at.markdown[0].value
    assert len(at.get("image")) == 1


def test_pages_render_with_no_run():
    for name in ("reconstructions.py", "latent_space.py"):
        at = page(name).run()
        assert not at.exception, name
        assert any("No saved runs" in i.value for i in at.info), name
    at = page("latent_space.py").run()
    assert len(charts(at)) == 2  # pixel PCA and the PCA frontier still show


def test_unavailable_dataset_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path))  # an empty folder: MNIST is nowhere
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    at = page("train.py").run()
    at.selectbox(key="train_dataset:digits").set_value("mnist").run()
    assert not at.exception
    assert at.session_state["dataset"] == "mnist"
    assert "MNIST is not available" in at.warning[0].value and "To fix" in at.warning[0].value
    assert not at.button  # nothing to train on
    # the selector follows a change made elsewhere (the sidebar's selector writes the same state)
    at.session_state["dataset"] = "digits"
    at.run()
    assert at.selectbox(key="train_dataset:digits").value == "digits"
    assert at.button(key="train_start")


def test_train_page_trains_in_background_and_survives_rerun():
    at = page("train.py").run()
    assert not at.exception
    assert at.metric[0].label == "PCA test MSE at k = 8"
    assert [c.key for c in charts(at)] == ["train_pca_curve"]  # the bar to beat, before anything is trained
    at.selectbox(key="train_variant").set_value("plain")
    at.text_input(key="train.plain.hidden").set_value("32")
    at.radio(key="train_budget_kind").set_value("seconds").run()
    rate = at.select_slider(key="train_lr.plain")
    assert "decayed linearly" in rate.help and "the optimiser is AdamW with weight decay 0.05" in rate.help
    at.number_input(key="train_seconds").set_value(600.0)  # long: stopped below
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    job_id = at.session_state["train_job"]
    assert at.query_params["job"] == [job_id] or at.query_params["job"] == job_id
    manager = default_manager()
    for _ in range(1200):  # until the first progress event and snapshot arrive (60 s at most)
        view = manager.view(job_id)
        if view.progress is not None and view.snapshot is not None and view.history:
            break
        manager.wait(job_id, 0.05)
    at.run()  # a rerun: the page finds the same job and draws it live
    assert at.subheader[0].value.startswith("plain · k=8 · digits")
    # PCA's curve; then the run's images + reconstructions, loss curves, test MSE vs PCA, codes forming
    assert len(charts(at)) == 5
    assert [b.label for b in at.button if b.key == f"stop.{job_id}"] == ["Stop"], manager.view(job_id).message
    # a second run queues behind the first
    at.radio(key="train_budget_kind").set_value("epochs").run()
    at.number_input(key="train_epochs").set_value(1.0)
    at.button(key="train_start").click().run()
    queued = at.session_state["train_job"]
    assert queued != job_id and manager.view(queued).status in ("queued", "starting", "running", "completed")
    manager.stop(job_id)
    assert manager.wait(job_id, 30).status == "stopped"
    done = manager.wait(queued, 60)
    assert done.status == "completed" and done.run_id
    at.run()
    assert any("Saved as" in s.value for s in at.success)
    # both runs are saved and listed for the other pages
    saved = {info.run_id for info in RunStore().list()}
    assert {manager.view(job_id).run_id, done.run_id} <= saved


def test_reconstructions_page_shows_runs_and_pca(store_env):
    at = page("reconstructions.py").run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 6  # grid, best, worst, per class; the copying check's bars and examples
    grid = charts(at)[0]
    assert "PCA k=" in grid.proto.spec
    assert "scrambled test images" in charts(at)[4].proto.spec
    table = at.dataframe[0].value
    assert list(table.columns) == ["run", "k", "test MSE", "PCA at same k", "PCA compared with"]
    # the newest run is preselected; add the other: two runs, two PCA rows
    ids = [i.run_id for i in store_env.list()]
    at.multiselect(key="recon_runs").set_value(ids).run()
    assert len(at.dataframe[0].value) == 2
    at.run()  # survives a rerun
    assert not at.exception


def test_latent_space_page_with_linear_and_2d_runs(store_env):
    by_variant = {i.config["variant"]: i for i in store_env.list()}
    at = page("latent_space.py")
    at.session_state["latent_run"] = by_variant["linear"].run_id
    at.run()
    assert not at.exception and not at.error
    headers = [s.value for s in at.subheader]
    assert "A linear autoencoder learns PCA's subspace" in headers
    assert at.radio(key="latent_method").value == "PCA of the codes"
    at.selectbox(key="latent_run").set_value(by_variant["plain"].run_id).run()
    assert not at.exception
    headers = [s.value for s in at.subheader]
    assert "Decoding a grid of codes" in headers  # k = 2
    assert "Interpolating between two test images" in headers
    assert len(charts(at)) >= 5  # codes, pixels, frontier, grid, interpolation


def test_the_page_registry_lists_every_page_file_once_and_home_links_to_the_others():
    from ui.page_registry import PAGES, available_pages

    files = [entry.file for entry in PAGES]
    assert len(set(files)) == len(files) and PAGES[0].is_home
    assert set(files) == {path.name for path in (ROOT / "app_pages").glob("*.py")}
    assert all(entry.title and entry.icon.startswith(":material/") and entry.line for entry in PAGES)
    at = AppTest.from_file(str(ROOT / "app_pages" / "home.py"), default_timeout=TIMEOUT).run()
    lines = [m.value for m in at.markdown]
    assert [entry.line for entry in available_pages() if not entry.is_home] == \
        [line for line in lines if line in {entry.line for entry in PAGES}]


def test_a_run_handed_over_by_another_page_is_chosen_once_and_the_choice_stays_free(store_env):
    from ui.runs import HANDOFF_KEY

    infos = store_env.list()
    older, newest = infos[-1].run_id, infos[0].run_id  # the picker would preselect the newest by itself
    at = page("reconstructions.py")
    at.session_state[HANDOFF_KEY] = older
    at.run()
    assert not at.exception
    assert at.multiselect(key="recon_runs").value == [older]
    assert HANDOFF_KEY not in at.session_state  # taken once
    at.multiselect(key="recon_runs").set_value([newest]).run()
    assert at.multiselect(key="recon_runs").value == [newest]
    at = page("latent_space.py")
    at.session_state[HANDOFF_KEY] = older
    at.run()
    assert at.selectbox(key="latent_run").value == older


def test_dataset_statuses_follow_the_data_folder_at_once(monkeypatch, tmp_path):
    """The statuses are cached 30 s, but per place the datasets are looked for: pointing AEVIZ_DATA_DIR
    elsewhere (a test, or a server restarted with another folder in the same process) is never answered from
    the old folder's entry."""
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "empty"))
    assert not dataset_statuses()["fashion-mnist"]["available"]
    write_idx_folder(tmp_path / "data" / "FashionMNIST" / "raw", fake_arrays())
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "data"))
    assert dataset_statuses()["fashion-mnist"]["available"]
