"""Sweeps: the grid parser and its errors, the local and Ray executors (same results), failures,
stopping, the sweep store, the figures, the CLI and the page."""

from __future__ import annotations

import json
import threading

import pytest
import torch
from sklearn.decomposition import PCA

from aeviz.errors import AevizError, InvalidConfig
from aeviz.runs.store import RunStore
from aeviz.sweeps import (LocalExecutor, PointFinished, PointProgress, Sweep, SweepSpec, SweepStore, parse_grid_arg,
                          parse_grid_args, parse_seeds, run_sweep, suggest_values, sweep_table)
from aeviz.figures.sweeps import sweep_figure

from tests.conftest import ROOT

SMALL = {"hidden": [32]}  # a small network keeps each point well under a second on digits
ONE_THREAD = LocalExecutor(threads=1)  # tiny models: one thread is fastest, and robust on a busy machine


def small_spec(**overrides) -> SweepSpec:
    values = dict(dataset="digits", variants=["plain"], grid={"k": [2, 8]}, seeds=[0], epochs=2,
                  fixed=dict(SMALL), device="cpu")
    values.update(overrides)
    return SweepSpec(**values)


# ---------------------------------------------------------------------------- the grid
def test_grid_arguments_parse_into_values():
    assert parse_grid_arg("k=2,8,32") == ("k", ["2", "8", "32"])
    assert parse_grid_arg("hidden=1024|512,256") == ("hidden", ["1024", "512,256"])
    assert parse_seeds("0, 1,1") == [0, 1]
    spec = SweepSpec(dataset="digits", variants=["plain"], grid=parse_grid_args(
        ["k=2,8,8", "hidden=64|32,16", "activation=relu,tanh", "lr=1e-3"])).validated()
    assert spec.grid == {"k": [2, 8], "hidden": [[64], [32, 16]], "activation": ["relu", "tanh"], "lr": [0.001]}
    assert spec.swept_names() == ["k", "hidden", "activation"]  # lr has one value: not an axis
    points = spec.points()
    assert len(points) == 2 * 2 * 2
    config = spec.config_for(points[-1], "sweep-x")
    assert (config.k, config.params, config.lr, config.tags) == (
        8, {"hidden": [32, 16], "activation": "tanh"}, 0.001, {"sweep": "sweep-x", "sweep_point": 7})


@pytest.mark.parametrize("grid, message", [
    ({"k": ["2", "64"]}, "k=64 is outside"),                       # digits has 64 pixels: plain needs k < 64
    ({"k": ["0"]}, "k=0 is outside"),
    ({"k": ["2.5"]}, "not a whole number"),
    ({"nonsense": ["1"]}, "no parameter 'nonsense'"),
    ({"weight_decay": ["0.1", "2"]}, "weight_decay must be at most 1"),  # declared high = 1.0
    ({"activation": ["relu", "swish"]}, "'swish' is not one of"),
    ({"k": []}, "has no values"),
    ({}, "the grid is empty"),
])
def test_bad_grids_are_refused_with_one_line(grid, message):
    with pytest.raises(InvalidConfig, match=message) as info:
        SweepSpec(dataset="digits", variants=["plain"], grid=grid).validated()
    assert "\n" not in str(info.value)


def test_grid_text_errors():
    for text, message in [("k", "NAME=v1"), ("k=", "no values"), ("k=2,,8", "empty value")]:
        with pytest.raises(InvalidConfig, match=message):
            parse_grid_arg(text)
    with pytest.raises(InvalidConfig, match="given twice"):
        parse_grid_args(["k=2", "k=8"])
    with pytest.raises(InvalidConfig, match="seeds"):
        parse_seeds("a,b")


def test_a_parameter_must_be_known_to_every_variant():
    from aeviz.variants import VARIANTS

    other = next(slug for slug, cls in VARIANTS.items()
                 if any(p.name not in {q.name for q in VARIANTS["plain"].declared_params()}
                        for p in cls.declared_params()))
    extra = next(p.name for p in VARIANTS[other].declared_params()
                 if p.name not in {q.name for q in VARIANTS["plain"].declared_params()})
    with pytest.raises(InvalidConfig, match=f"plain has no parameter '{extra}'"):
        SweepSpec(dataset="digits", variants=[other, "plain"],
                  grid={extra: [str(VARIANTS[other].declared_params()[-1].default)]}).validated()


def test_suggested_values_pass_validation():
    from aeviz.variants import VARIANTS

    for slug, cls in VARIANTS.items():
        for name in ("k", *(p.name for p in cls.declared_params() if p.kind in ("int", "float", "choice", "bool"))):
            values = suggest_values(cls, name, 64)
            assert values, (slug, name)
            SweepSpec(dataset="digits", variants=[slug], grid={name: values}).validated()


def test_random_sample_of_the_grid():
    spec = SweepSpec(dataset="digits", variants=["plain"], grid={"k": list(range(2, 12))}, seeds=[0, 1],
                     sample=5).validated()
    points = spec.points()
    assert len(points) == 5 and len({(p.values["k"], p.seed) for p in points}) == 5
    assert [p.index for p in points] == list(range(5))


# ---------------------------------------------------------------------------- local executor
@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory, digits):
    """A 2 k x 2 seed sweep on digits, run once for several tests."""
    root = tmp_path_factory.mktemp("sweep-runs")
    events = []
    sweep = run_sweep(small_spec(seeds=[0, 1]), ONE_THREAD, on_event=events.append, store=RunStore(root),
                      sweeps=SweepStore(root / ".sweeps"))
    return sweep, events, root


def test_local_sweep_saves_each_point_as_a_tagged_run(local_sweep, digits):
    sweep, events, root = local_sweep
    assert sweep.status == "completed" and [p.status for p in sweep.points] == ["completed"] * 4
    assert sum(isinstance(e, PointFinished) for e in events) == 4
    assert any(isinstance(e, PointProgress) for e in events)
    store = RunStore(root)
    x = digits.test_images
    for point in sweep.points:
        loaded = store.load(point.run_id)
        assert loaded.info.config["tags"]["sweep"] == sweep.sweep_id
        assert (loaded.config.k, loaded.config.seed) == (point.values["k"], point.seed)
        with torch.no_grad():  # the saved weights give the test MSE the sweep reports
            mse = float(((loaded.model(x) - x) ** 2).mean())
        assert mse == pytest.approx(point.metrics["test_mse"], rel=1e-5)
    # Different seeds give different runs; a bigger bottleneck, on average, a smaller error here.
    a, b = sweep.points[0].metrics["test_mse"], sweep.points[1].metrics["test_mse"]
    assert a != b


def test_sweep_is_saved_and_reopens(local_sweep):
    sweep, _, root = local_sweep
    sweeps = SweepStore(root / ".sweeps")
    assert [s.sweep_id for s in sweeps.list()] == [sweep.sweep_id]
    again = sweeps.load(sweep.sweep_id)
    assert again.to_json() == json.loads(json.dumps(sweep.to_json()))
    assert RunStore(root).list()  # the run store still lists runs (the .sweeps folder is skipped)
    assert all(not info.damaged for info in RunStore(root).list())


def test_table_and_figures(local_sweep, digits):
    sweep, _, _ = local_sweep
    rows = sweep_table(sweep)
    assert [r["k"] for r in rows] == [2, 2, 8, 8] and [r["seed"] for r in rows] == [0, 1, 0, 1]
    assert all(r["test_mse"] > 0 and r["train_seconds"] > 0 and r["run_id"] for r in rows)
    # PCA's error at each k, checked against scikit-learn's PCA.
    train = digits.train_images.reshape(len(digits.train_images), -1).numpy()
    test = digits.test_images.reshape(len(digits.test_images), -1).numpy()
    for row in rows:
        pca = PCA(n_components=row["k"]).fit(train)
        expected = float(((pca.inverse_transform(pca.transform(test)) - test) ** 2).mean())
        assert row["pca_test_mse"] == pytest.approx(expected, rel=1e-3)
    fig = sweep_figure(rows, ["k"])
    names = [t.name for t in fig.data]
    assert "plain" in names and "PCA" in names
    assert fig.layout.title.text.startswith("Test MSE over the sweep")
    line = next(t for t in fig.data if t.name == "plain")
    assert list(line.x) == [2, 8]
    assert line.y[0] == pytest.approx((rows[0]["test_mse"] + rows[1]["test_mse"]) / 2)
    band = next(t for t in fig.data if t.fill == "toself")  # min..max over the two seeds
    assert max(band.y) == pytest.approx(max(r["test_mse"] for r in rows))


def test_figure_kind_follows_the_number_of_axes():
    rows = [{"variant": "plain", "k": k, "lr": lr, "hidden": h, "seed": 0, "status": "completed",
             "test_mse": 0.01 * k + lr, "pca_test_mse": 0.5 / k}
            for k in (2, 8) for lr in (0.001, 0.01) for h in ("32", "64")]
    heat = sweep_figure([r for r in rows if r["hidden"] == "32"], ["k", "lr"])
    assert heat.data[0].type == "heatmap"
    assert list(heat.data[0].y)[-1] == "PCA"  # PCA at each k, one more row on the same scale
    assert list(heat.data[0].z[-1]) == [0.25, 0.0625]
    assert heat.data[0].z[0][1] == pytest.approx(0.08 + 0.001)
    par = sweep_figure(rows, ["k", "lr", "hidden"])
    assert par.data[0].type == "parcoords"
    labels = [d["label"] for d in par.data[0].dimensions]
    assert labels[-1] == "test_mse" and "PCA test_mse" in labels
    # the last axis's tick labels and the colour bar sit right of the plot: room for them, not a cut-off
    assert par.layout.margin.r > sweep_figure(rows, ["k"]).layout.margin.r
    assert sweep_figure(rows, []).data[0].type == "bar"
    failed = [{**rows[0], "status": "failed", "test_mse": None}]
    assert len(sweep_figure(failed, ["k"]).data) <= 1  # nothing drawn for a failed point but PCA


def test_a_point_that_raises_is_marked_failed_and_the_others_finish(tmp_path):
    sweep = Sweep.create(small_spec(grid={"k": [2, 4, 8]}, epochs=1))
    sweep.points[1].values["k"] = 1000  # past validation, as a broken point would be
    run_sweep(sweep, ONE_THREAD, store=RunStore(tmp_path), sweeps=SweepStore(tmp_path / ".sweeps"))
    assert [p.status for p in sweep.points] == ["completed", "failed", "completed"]
    assert "k=1000" in sweep.points[1].error and sweep.points[1].run_id is None
    assert sweep.status == "completed" and "1 failed" in sweep.message
    assert len(RunStore(tmp_path).list()) == 2


def test_a_stopped_sweep_keeps_finished_points_and_resumes(tmp_path):
    store, sweeps = RunStore(tmp_path), SweepStore(tmp_path / ".sweeps")
    stop = threading.Event()

    def on_event(event):  # stop in the middle of the second point
        if isinstance(event, PointProgress) and event.point.index == 1:
            stop.set()

    sweep = run_sweep(small_spec(grid={"k": [2, 4, 8]}, epochs=None, max_seconds=1.0), ONE_THREAD, on_event=on_event,
                      store=store, sweeps=sweeps, stop=stop)
    assert sweep.status == "stopped"
    assert [p.status for p in sweep.points] == ["completed", "stopped", "pending"]
    reopened = sweeps.load(sweep.sweep_id)
    kept = reopened.points[0]
    assert kept.run_id and store.load(kept.run_id).metrics["test_mse"] == kept.metrics["test_mse"]
    assert [i.run_id for i in store.list()] == [kept.run_id]  # the interrupted point is not saved
    run_sweep(reopened, ONE_THREAD, store=store, sweeps=sweeps)  # resume: only the points not done are trained
    assert [p.status for p in reopened.points] == ["completed"] * 3
    assert reopened.points[0].run_id == kept.run_id and len(store.list()) == 3


def test_missing_ray_says_how_to_install(monkeypatch):
    import sys

    from aeviz.jobs.sweep_executors import make_executor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(AevizError, match="requirements-ray.txt"):
        make_executor("ray")


# ---------------------------------------------------------------------------- CLI
def test_cli_refuses_a_bad_grid_before_training(capsys):
    from aeviz.cli import main

    assert main(["sweep", "--grid", "k=2,100", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: k=100 is outside what plain allows for inputs of size 64: 1 <= k <= 63"]
    assert RunStore().list() == [] and SweepStore().list() == []


def test_cli_sweep_prints_json_last(capsys):
    from aeviz.cli import main

    assert main(["sweep", "--grid", "k=2,4", "--set", "hidden=32", "--epochs", "1", "--seeds", "3",
                 "--threads", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["status"] == "completed" and result["swept"] == ["k"]
    assert [(p["k"], p["seed"], p["status"]) for p in result["points"]] == [(2, 3, "completed"), (4, 3, "completed")]
    assert SweepStore().load(result["sweep_id"]).points[1].run_id == result["points"][1]["run_id"]


# ---------------------------------------------------------------------------- Ray
def test_ray_gives_the_same_results_as_local(ray_instance, local_sweep, tmp_path, digits):
    from aeviz.cluster.sweep_executor import RayExecutor

    local, _, _ = local_sweep  # k = 2, 8 x seeds 0, 1 on the local executor
    store = RunStore(tmp_path)
    sweep = Sweep.create(small_spec(grid={"k": [2, 8, 4]}))
    sweep.points[2].values["k"] = 1000  # fails inside its worker; the others still come back
    run_sweep(sweep, executor=RayExecutor(num_workers=2), store=store, sweeps=SweepStore(tmp_path / ".sweeps"))
    assert [p.status for p in sweep.points] == ["completed", "completed", "failed"]
    assert "k=1000" in sweep.points[2].error and sweep.executor == "ray"
    local_seed0 = [p for p in local.points if p.seed == 0]
    for ours, theirs in zip(local_seed0, sweep.points):
        assert ours.values["k"] == theirs.values["k"]
        assert theirs.metrics["test_mse"] == pytest.approx(ours.metrics["test_mse"], rel=1e-4, abs=1e-7)
        loaded = store.load(theirs.run_id)  # weights came back as bytes and were saved by the driver
        assert loaded.info.config["tags"]["sweep"] == sweep.sweep_id
        x = digits.test_images
        with torch.no_grad():
            assert float(((loaded.model(x) - x) ** 2).mean()) == pytest.approx(theirs.metrics["test_mse"], rel=1e-5)


def test_a_point_whose_worker_dies_is_retried_once_then_failed(ray_instance, tmp_path, monkeypatch):
    from aeviz.cluster import sweep_executor as ray_executor

    marker = tmp_path / "died-once"
    real = ray_executor.train_point_payload

    def dying_payload(config_json, threads):  # pickled by value into the worker
        import os

        if config_json["k"] == 8 or not marker.exists():  # k=8 always dies; k=2 dies on its first try only
            if config_json["k"] == 2:
                marker.touch()
            os._exit(1)
        return real(config_json, threads)

    monkeypatch.setattr(ray_executor, "train_point_payload", dying_payload)
    sweep = run_sweep(small_spec(epochs=1), executor=ray_executor.RayExecutor(num_workers=2, warm_up=False),
                      store=RunStore(tmp_path), sweeps=SweepStore(tmp_path / ".sweeps"))
    assert [p.status for p in sweep.points] == ["completed", "failed"]
    assert marker.exists() and sweep.points[0].run_id
    assert "worker lost twice" in sweep.points[1].error


def test_stopping_a_ray_sweep_keeps_what_came_back(ray_instance, tmp_path):
    from aeviz.cluster.sweep_executor import RayExecutor

    stop = threading.Event()
    sweep = run_sweep(small_spec(grid={"k": [2, 4, 8]}, epochs=None, max_seconds=1.5),
                      executor=RayExecutor(num_workers=2, warm_up=False), store=RunStore(tmp_path),
                      sweeps=SweepStore(tmp_path / ".sweeps"), stop=stop,
                      on_event=lambda e: isinstance(e, PointFinished) and stop.set())
    statuses = [p.status for p in sweep.points]
    assert sweep.status == "stopped" and "stopped" in statuses  # two workers: a third point was still waiting
    assert statuses.count("completed") >= 1
    kept = [p.run_id for p in sweep.points if p.status == "completed"]
    assert sorted(kept) == sorted(i.run_id for i in RunStore(tmp_path).list())


# ---------------------------------------------------------------------------- the page
def test_page_runs_a_sweep_and_lists_it():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "sweeps.py"), default_timeout=60)
    at.session_state["dataset"] = "digits"
    at.run()
    assert not at.exception and not at.error
    at.text_input(key="sweep_values.k.plain.digits").set_value("2, 8").run()
    at.text_input(key="sweep_values.k.plain.digits").set_value("2, 99").run()
    assert any("k=99 is outside" in e.value for e in at.error)
    at.text_input(key="sweep_values.k.plain.digits").set_value("2, 8").run()
    at.number_input(key="sweep_budget.epochs").set_value(1.0).run()
    assert any("2 points × 1 epochs" in c.value for c in at.caption)
    at.button(key="sweep_start").click().run()
    runner = at.session_state["sweeps_runner"]
    runner.wait(60)
    at.run()
    assert not at.exception and not at.error
    assert [p.status for p in runner.sweep.points] == ["completed", "completed"]
    assert at.dataframe and len(at.selectbox(key="live_open").options) == 2
    # A new session sees it among the past sweeps.
    fresh = AppTest.from_file(str(ROOT / "app_pages" / "sweeps.py"), default_timeout=60)
    fresh.session_state["dataset"] = "digits"
    fresh.run()
    assert any(runner.sweep.sweep_id in option for option in fresh.selectbox(key="sweep_past").options)
    assert not fresh.exception
