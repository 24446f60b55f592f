"""Explore: decoding chosen points, the manifold grid, traversals, interpolation, the formation replay."""

import numpy as np
import pytest
import torch
from scipy.linalg import orthogonal_procrustes

from aeviz.analysis import explore
from aeviz.errors import AevizError
from aeviz.figures.explore import formation_animation, latent_scatter, selected_point
from aeviz.analysis.latent import codes_2d
from aeviz.variants import build_model


def hand_built_linear(k=2, pixels=(1, 2, 3), seed=0):
    """A linear autoencoder with known weights: decode(z) = W z + b exactly."""
    model = build_model("linear", pixels, k)
    rng = np.random.default_rng(seed)
    size = int(np.prod(pixels))
    weight, bias = rng.normal(size=(size, k)).astype(np.float32), rng.normal(size=size).astype(np.float32)
    encoder_weight = rng.normal(size=(k, size)).astype(np.float32)
    with torch.no_grad():
        model.decoder[0].weight.copy_(torch.from_numpy(weight))
        model.decoder[0].bias.copy_(torch.from_numpy(bias))
        model.encoder[1].weight.copy_(torch.from_numpy(encoder_weight))
        model.encoder[1].bias.zero_()
    return model, weight, bias, encoder_weight


def test_decode_point_through_a_known_model():
    model, weight, bias, _ = hand_built_linear(k=2)
    image = explore.decode_point(model, (0.5, -1.5))
    assert image.shape == (2, 3)
    np.testing.assert_allclose(image.ravel(), weight @ np.array([0.5, -1.5]) + bias, rtol=1e-5, atol=1e-5)


def test_decode_point_in_a_plane_of_a_larger_code_keeps_the_other_dimensions():
    model, weight, bias, _ = hand_built_linear(k=4, pixels=(1, 3, 3))
    base = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    image = explore.decode_point(model, (-1.0, 0.25), plane_dims=(3, 1), base=base)
    expected_code = np.array([1.0, 0.25, 3.0, -1.0])
    np.testing.assert_allclose(image.ravel(), weight @ expected_code + bias, rtol=1e-5, atol=1e-5)


def test_plane_dimensions_are_the_two_with_the_largest_spread():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(500, 5)) * np.array([1.0, 4.0, 0.5, 9.0, 2.0])
    assert explore.plane_dimensions(codes) == (3, 1)
    assert explore.plane_dimensions(codes[:, :2]) == (0, 1)


def test_traversal_ranges_come_from_the_spread_over_the_test_codes():
    model, weight, bias, _ = hand_built_linear(k=4, pixels=(1, 3, 3))
    rng = np.random.default_rng(3)
    codes = rng.normal(size=(400, 4)) * np.array([0.5, 3.0, 1.0, 2.0]) + 10.0
    code = codes[7].astype(np.float32)
    result = explore.traversal(model, code, codes, steps=5, count=3)
    assert result.dims.tolist() == [1, 3, 2]  # largest spread first, dimension 0 left out
    np.testing.assert_allclose(result.spread, np.std(codes, axis=0)[[1, 3, 2]], rtol=1e-6)
    np.testing.assert_allclose(result.offsets, [-2, -1, 0, 1, 2])
    for row, dim in enumerate(result.dims):
        sd = np.std(codes[:, dim])
        np.testing.assert_allclose(result.values[row], code[dim] + np.array([-2, -1, 0, 1, 2]) * sd, rtol=1e-5)
        moved = code.astype(np.float64).copy()
        moved[dim] = code[dim] + 2 * sd
        np.testing.assert_allclose(result.images[row, -1].ravel(), weight @ moved + bias, rtol=1e-4, atol=1e-4)
    # the middle column is the image's own code, unchanged, in every row
    for row in range(3):
        np.testing.assert_allclose(result.images[row, 2].ravel(), weight @ code + bias, rtol=1e-4, atol=1e-4)


def rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


@pytest.mark.parametrize("reflect", [False, True])
def test_procrustes_recovers_a_known_rotation_and_reflection(reflect):
    rng = np.random.default_rng(4)
    source = rng.normal(size=(200, 2))
    known = rotation(0.7) @ (np.diag([1.0, -1.0]) if reflect else np.eye(2))
    found = explore.procrustes_rotation(source, source @ known)
    np.testing.assert_allclose(found, known, atol=1e-10)
    np.testing.assert_allclose(found, orthogonal_procrustes(source, source @ known)[0], atol=1e-10)
    assert np.sign(np.linalg.det(found)) == (-1 if reflect else 1)


def test_formation_frames_do_not_spin_or_flip():
    """The same cloud, turned and mirrored in 5-D between snapshots, gives the same picture every frame."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=(300, 5)) * np.array([5.0, 2.0, 0.5, 0.3, 0.1])
    snapshots = []
    for t in range(4):
        q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
        q = q @ np.diag([(-1) ** (t + j) for j in range(5)])  # reflections too
        snapshots.append(base @ q)
    formation = explore.formation_frames({"codes": np.stack(snapshots).astype(np.float16), "steps": np.arange(4) * 10,
                                          "losses": np.linspace(1, 0.1, 4), "indices": np.arange(300)})
    assert formation.projected and formation.frames.shape == (4, 300, 2)
    for t in range(1, 4):
        np.testing.assert_allclose(formation.frames[t], formation.frames[0], atol=0.02 * np.abs(formation.frames[0]).max())
    # without the alignment the raw PCA projections do differ (so the test can fail)
    raw = [codes_2d(s.astype(np.float16).astype(np.float32)) for s in snapshots]
    assert max(np.abs(r - raw[0]).max() for r in raw[1:]) > 1.0


def test_formation_frames_for_k2_are_the_codes_and_missing_codes_are_explained():
    codes = np.random.default_rng(6).normal(size=(3, 50, 2)).astype(np.float16)
    formation = explore.formation_frames({"codes": codes, "steps": np.array([0, 5, 9]),
                                          "losses": np.array([np.nan, 0.2, 0.1]), "indices": np.arange(50)})
    assert not formation.projected
    np.testing.assert_array_equal(formation.frames, codes.astype(np.float32))
    with pytest.raises(AevizError, match="no recorded codes"):
        explore.formation_frames({})


def test_formation_animation_has_a_frame_per_snapshot_with_the_loss_in_its_title():
    codes = np.random.default_rng(7).normal(size=(4, 40, 3)).astype(np.float16)
    losses = np.array([np.nan, 0.5, 0.25, 0.125], np.float32)
    formation = explore.formation_frames({"codes": codes, "steps": np.array([0, 10, 20, 30]), "losses": losses,
                                          "indices": np.arange(40)})
    labels = np.arange(40) % 4
    fig = formation_animation(formation, labels, ["a", "b", "c", "d"])
    assert len(fig.frames) == 4
    assert [len(frame.data) for frame in fig.frames] == [4] * 4
    assert "before training" in fig.frames[0].layout.title.text
    assert "loss 0.125" in fig.frames[3].layout.title.text
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"
    assert len(fig.layout.sliders[0].steps) == 4
    # frames are capped, the last snapshot always kept
    many = explore.formation_frames({"codes": np.repeat(codes[:1], 100, axis=0), "steps": np.arange(100),
                                     "losses": np.ones(100), "indices": np.arange(40)})
    capped = formation_animation(many, labels, ["a", "b", "c", "d"], max_frames=10)
    assert len(capped.frames) == 10 and capped.frames[-1].name == "99"


def test_selected_point_reads_clicks_and_boxes():
    assert selected_point(None) is None
    assert selected_point({"selection": {"points": [], "box": [], "lasso": []}}) is None
    assert selected_point({"selection": {"points": [{"x": 1.5, "y": -2.0}], "box": []}}) == (1.5, -2.0)
    assert selected_point({"selection": {"points": [], "box": [{"x": [0, 2], "y": [1, 3]}]}}) == (1.0, 2.0)


def test_latent_scatter_puts_the_click_grid_underneath():
    points = np.random.default_rng(8).normal(size=(30, 2))
    fig = latent_scatter(points, np.arange(30) % 3, ["x", "y", "z"],
                         click_grid=(np.linspace(-1, 1, 4), np.linspace(-1, 1, 5)), markers=[("you", (0.0, 0.0))])
    assert len(fig.data[0].x) == 20 and fig.data[0].marker.color == "rgba(0,0,0,0)"
    assert [trace.name for trace in fig.data[1:]] == ["x", "y", "z", "you"]


# ---------------------------------------------------------------------------- the page
def store_with_one_run(folder, digits, k: int, epochs: int):
    """A run store in `folder` with one short plain digits run (codes recorded)."""
    from aeviz.training.config import TrainConfig
    from aeviz.runs.store import RunStore
    from aeviz.training.trainer import train

    config = TrainConfig(dataset="digits", variant="plain", k=k, epochs=epochs, params={"hidden": [32]}, device="cpu")
    RunStore(folder).save(train(config, digits))
    return folder


@pytest.fixture(scope="module")
def k2_run_dir(tmp_path_factory, digits):
    return store_with_one_run(tmp_path_factory.mktemp("explore-runs"), digits, k=2, epochs=2)


@pytest.fixture(scope="module")
def k5_run_dir(tmp_path_factory, digits):
    return store_with_one_run(tmp_path_factory.mktemp("explore-runs-k5"), digits, k=5, epochs=1)


def explore_page(runs_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(ROOT / "app_pages" / "explore.py"), default_timeout=60)
    at.session_state["dataset"] = "digits"
    return at


def image_captions(at):
    return [image.proto.imgs[0].caption for image in at.get("image")]


def test_page_decodes_the_chosen_point_of_a_k2_run(k2_run_dir, monkeypatch):
    at = explore_page(k2_run_dir, monkeypatch).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [tab.label for tab in at.tabs] == ["Decode anywhere", "Watch it form", "Draw your own", "Share"]
    assert at.get("plotly_chart")  # the clickable scatter and the animation
    assert not any("no recorded codes" in i.value for i in at.info)
    # typing a point decodes it
    at.number_input(key="explore_z1").set_value(1.25)
    at.number_input(key="explore_z2").set_value(-0.5).run()
    assert not at.exception, at.exception
    assert "decoded at (1.25, -0.50)" in image_captions(at)
    # a click on the chart (a selection event, here on the invisible grid) decodes the clicked point
    at.session_state["explore_plane"] = {"selection": {"points": [{"x": 0.75, "y": 2.0}], "box": [], "lasso": [],
                                                       "point_indices": []}}
    at.run()
    assert not at.exception, at.exception
    assert "decoded at (0.75, 2.00)" in image_captions(at)
    assert at.number_input(key="explore_z1").value == pytest.approx(0.75)
    # a box selection decodes its centre
    at.session_state["explore_plane"] = {"selection": {"points": [], "box": [{"x": [-1.0, 0.0], "y": [3.0, 4.0]}],
                                                       "lasso": [], "point_indices": []}}
    at.run()
    assert "decoded at (-0.50, 3.50)" in image_captions(at)
    assert [b.label for b in at.get("download_button")] == ["Download the report"]


def test_page_without_runs_says_so(tmp_path, monkeypatch):
    at = explore_page(tmp_path, monkeypatch).run()
    assert not at.exception
    assert any("No saved runs" in i.value for i in at.info)


def test_live_formation_shows_the_latest_frame_while_training_and_the_replay_after():
    from aeviz.figures.explore import live_formation

    rng = np.random.default_rng(10)
    snapshots = [rng.normal(size=(30, 4)).astype(np.float16) for _ in range(5)]
    labels = np.arange(30) % 3
    still = live_formation(snapshots, [0, 1, 2, 3, 4], [np.nan, 0.4, 0.3, 0.2, 0.1], labels, "abc", animate=False)
    assert len(still.frames) == 0 and not still.layout.updatemenus
    assert "step 4" in still.layout.title.text and "loss 0.1" in still.layout.title.text
    replay = live_formation(snapshots, [0, 1, 2, 3, 4], [np.nan, 0.4, 0.3, 0.2, 0.1], labels, "abc")
    assert len(replay.frames) == 5 and replay.layout.updatemenus
    # the still picture is the replay's last frame
    np.testing.assert_allclose(still.data[0].x, replay.frames[-1].data[0].x)


def test_page_traverses_a_larger_code_and_offers_the_upload(k5_run_dir, monkeypatch):
    at = explore_page(k5_run_dir, monkeypatch).run()
    assert not at.exception, at.exception
    assert "Latent traversal" in [h.value for h in at.subheader]
    captions = image_captions(at)
    assert any(c.startswith("rows: z") and c.count("(sd") == 5 for c in captions), captions
    at.number_input(key="explore_traverse_index").set_value(3).run()
    assert not at.exception, at.exception
    assert "test image 3 (" in " ".join(image_captions(at))
    at.radio(key="explore_draw_source").set_value("Upload an image").run()
    assert not at.exception, at.exception
    assert not at.error


def test_train_page_formation_live_then_replayed_from_the_saved_run(k2_run_dir, monkeypatch):
    """ui/formation.py: the latest frame while a job trains (frames gathered from its snapshots), the
    saved run's whole replay once it has ended."""
    from streamlit.testing.v1 import AppTest

    def script():
        from types import SimpleNamespace

        import numpy as np
        import streamlit as st

        from aeviz.training.config import TrainConfig
        from aeviz.training.events import Snapshot
        from ui.formation import show_live_formation

        k = st.session_state.get("k", 2)
        config = TrainConfig(dataset="digits", variant="plain", k=k, epochs=1)
        step = st.session_state.get("step", 0)
        if k == 2:
            codes = np.random.default_rng(step).normal(size=(360, 2)).astype(np.float16)
        else:  # one cloud, turned and mirrored in k dimensions at every step
            base = np.random.default_rng(0).normal(size=(360, k)) * np.arange(k, 0, -1)
            turn, _ = np.linalg.qr(np.random.default_rng(step).normal(size=(k, k)))
            codes = (base @ turn).astype(np.float16)
        snapshot = Snapshot(step, 0.0, 0.5, 0.1, np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 8, 8)), codes)
        view = SimpleNamespace(job_id=f"job-k{k}", config=config, active=st.session_state.get("active", True),
                               run_id=st.session_state.get("run_id"), snapshot=snapshot)
        show_live_formation(view)

    from aeviz.runs.store import RunStore

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(k2_run_dir))
    at = AppTest.from_function(script, default_timeout=60)
    for step in (0, 10, 20):
        at.session_state["step"] = step
        at.run()
        assert not at.exception, at.exception
    assert [step for step, _, _ in at.session_state["formation_frames"]["job-k2"]] == [0, 10, 20]
    live = at.get("plotly_chart")[0].proto.spec
    assert '"frames"' not in live or '"frames":[]' in live.replace(" ", "")
    assert "step 20" in live
    run_id = RunStore(k2_run_dir).list()[0].run_id
    at.session_state["active"], at.session_state["run_id"] = False, run_id
    at.run()
    assert not at.exception, at.exception
    replay = at.get("plotly_chart")[0].proto.spec
    assert '"frames"' in replay and "Play" in replay
    # k > 2: each new frame is turned onto the previous one as it arrives, so the picture holds still
    at.session_state["active"], at.session_state["k"] = True, 4
    for step in (1, 2, 3):
        at.session_state["step"] = step
        at.run()
        assert not at.exception, at.exception
    frames = [points for _, _, points in at.session_state["formation_frames"]["job-k4"]]
    for points in frames[1:]:
        np.testing.assert_allclose(points, frames[0], atol=0.02 * np.abs(frames[0]).max())
