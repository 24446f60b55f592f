"""The training engine on digits: event order, stop from another thread, resume, seeding, budgets,
divergence, batch-size clamping, device fallback and recorded codes."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

import aeviz.training.device
import aeviz.training.trainer as train_module
from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.training.events import Finished, Progress, Snapshot, Started
from aeviz.training.trainer import Trainer
from aeviz.training.result import reconstruction_mse
from aeviz.variants.base import LossParts

SMALL = {"hidden": "32"}  # a small MLP keeps these tests quick on a shared CPU


def config(**overrides) -> TrainConfig:
    base = dict(dataset="digits", variant="plain", k=4, epochs=2, batch_size=128, lr=3e-3, seed=0,
                device="cpu", params=dict(SMALL))
    base.update(overrides)
    return TrainConfig(**base)


def state_of(model) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


@pytest.fixture
def every_step_progress(monkeypatch):
    """A Progress event after every step, so tests can act at a known step."""
    monkeypatch.setattr(train_module, "PROGRESS_SECONDS", 0.0)


def test_events_come_in_order_and_agree_with_the_result(digits, every_step_progress):
    trainer = Trainer(config(epochs=2), digits)
    events = list(trainer.run())

    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    assert sum(isinstance(e, (Started, Finished)) for e in events) == 2
    assert isinstance(events[1], Snapshot) and events[1].step == 0  # the untrained model first
    assert isinstance(events[-2], Snapshot) and events[-2].step == trainer.step  # and the trained one last
    progress = [e for e in events if isinstance(e, Progress)]
    steps_per_epoch = math.ceil(len(digits.train_images) / 128)
    assert [e.step for e in progress] == list(range(1, 2 * steps_per_epoch + 1))
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for event in progress:
        assert set(event.losses) == {"reconstruction"}
        assert event.loss == pytest.approx(sum(event.losses.values()))
        assert event.epoch == pytest.approx(event.step / steps_per_epoch)
        assert event.stage
    # plain's default schedule: 3e-3 held, then a linear decay to zero over the last 30% of the budget
    lrs = [event.lr for event in progress]
    assert all(lr == pytest.approx(3e-3) for lr, fraction in zip(lrs, fractions) if fraction <= 0.7)
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 3e-3 / 2

    finished = events[-1]
    result = finished.result
    assert finished.status == "completed" and finished.saved_run_id is None
    assert result.metrics["steps"] == 2 * steps_per_epoch and result.metrics["epochs"] == pytest.approx(2.0)
    assert result.metrics["device"] == "cpu"
    assert [row["step"] for row in result.history] == [e.step for e in progress]
    snapshots = [e for e in events if isinstance(e, Snapshot)]
    assert [row["step"] for row in result.test_history] == [s.step for s in snapshots]
    # digits has 360 test images, all in the code subset: the last snapshot's MSE is the full test MSE
    assert snapshots[-1].test_mse == pytest.approx(result.metrics["test_mse"], rel=1e-5)
    assert snapshots[-1].test_mse < snapshots[0].test_mse
    assert snapshots[-1].originals.shape == snapshots[-1].reconstructions.shape == (8, 1, 8, 8)


def test_reconstruction_mse_is_mean_squared_error_per_pixel(digits):
    trainer = Trainer(config(), digits)
    model, images = trainer.model, digits.test_images
    with torch.no_grad():
        expected = np.mean((model(images).numpy().astype(np.float64) - images.numpy()) ** 2)
    assert reconstruction_mse(model, images) == pytest.approx(expected, rel=1e-5)


def test_stop_from_another_thread_stops_within_a_step_or_two(digits):
    trainer = Trainer(config(epochs=1000), digits)
    initial = state_of(trainer.model)
    events: list = []
    worker = threading.Thread(target=lambda: events.extend(trainer.run()), daemon=True)
    worker.start()
    deadline = time.monotonic() + 60
    while trainer.step < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    trainer.stop()
    step_when_stopped = trainer.step
    worker.join(timeout=60)

    assert not worker.is_alive()
    assert step_when_stopped >= 5
    assert trainer.step <= step_when_stopped + 2
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.status == "stopped"
    assert "stopped" in finished.message
    # the weights learned so far are kept, not thrown away or reset
    assert not same_state(initial, state_of(trainer.model))
    assert finished.result.model is trainer.model
    assert finished.result.metrics["test_mse"] == pytest.approx(reconstruction_mse(trainer.model, digits.test_images))
    assert finished.result.metrics["test_mse"] < events[1].test_mse


def test_resume_continues_and_matches_an_uninterrupted_run(digits, every_step_progress):
    interrupted = Trainer(config(epochs=3), digits)
    first = []
    for event in interrupted.run():
        first.append(event)
        if isinstance(event, Progress) and event.step == 7:
            interrupted.stop()
    assert first[-1].status == "stopped" and interrupted.step == 7
    second = list(interrupted.run())
    assert isinstance(second[0], Started)
    progress = [e.step for e in second if isinstance(e, Progress)]
    assert progress[0] == 8 and progress[-1] == interrupted.total_steps
    assert not any(isinstance(e, Snapshot) and e.step == 0 for e in second)
    assert second[-1].status == "completed"
    assert [row["step"] for row in second[-1].result.history] == list(range(1, interrupted.total_steps + 1))

    straight = Trainer(config(epochs=3), digits)
    for _ in straight.run():
        pass
    assert straight.step == interrupted.step
    assert same_state(state_of(straight.model), state_of(interrupted.model))


def test_same_seed_same_result_other_seed_other_result(digits):
    def run(seed):
        trainer = Trainer(config(seed=seed, epochs=1), digits)
        for _ in trainer.run():
            pass
        return trainer

    a, b, c = run(3), run(3), run(4)
    assert same_state(state_of(a.model), state_of(b.model))
    assert a.finished.result.metrics["test_mse"] == b.finished.result.metrics["test_mse"]
    assert not same_state(state_of(a.model), state_of(c.model))


class FakeClock:
    """Stands in for the time module: every reading is `tick` seconds after the previous one."""

    def __init__(self, tick: float):
        self.now, self.tick = 1000.0, tick

    def perf_counter(self) -> float:
        self.now += self.tick
        return self.now


def test_time_budget_ends_training_at_the_first_step_past_it(digits, monkeypatch):
    monkeypatch.setattr(train_module, "time", FakeClock(0.01))
    trainer = Trainer(config(epochs=None, max_seconds=0.5), digits)
    assert trainer.total_steps is None
    events = list(trainer.run())
    metrics = events[-1].result.metrics
    assert events[-1].status == "completed"
    assert 0.5 <= metrics["train_seconds"] <= 0.5 + 0.05
    assert trainer.fraction_done() == 1.0
    assert all(0.0 <= e.fraction <= 1.0 for e in events if isinstance(e, Progress))


def test_time_budget_on_the_real_clock(digits):
    trainer = Trainer(config(epochs=None, max_seconds=0.3), digits)
    for _ in trainer.run():
        pass
    assert trainer.finished.status == "completed"
    assert trainer.finished.result.metrics["train_seconds"] >= 0.3


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_stops_and_restores_the_last_good_weights(digits, monkeypatch, bad):
    monkeypatch.setattr(train_module, "PROGRESS_SECONDS", 0.0)
    # a fake clock makes the first snapshot come after a few steps and the next one much later
    monkeypatch.setattr(train_module, "time", FakeClock(0.01))
    trainer = Trainer(config(epochs=3, snapshot_seconds=0.05), digits)
    real_loss_parts, calls = trainer.stages[0].loss_parts, []

    def loss_parts(x):
        calls.append(1)
        parts = real_loss_parts(x)
        if len(calls) >= 12:  # from the 12th step on, the loss is broken
            parts = LossParts({name: value * bad for name, value in parts.items()})
        return parts

    trainer.stages[0].loss_parts = loss_parts
    snapshots, states = [], {}
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, Snapshot):
            snapshots.append((event.step, state_of(trainer.model)))
        if isinstance(event, Progress):
            states[event.step] = state_of(trainer.model)
    finished = events[-1]
    assert finished.status == "diverged"
    assert f"{bad:g}" in finished.message and "step 12" in finished.message
    assert trainer.step == 11  # the broken step's update was not applied
    final = state_of(trainer.model)
    assert all(torch.isfinite(v).all() for v in final.values())
    last_snapshot_step, last_snapshot_state = snapshots[-1]
    assert 0 < last_snapshot_step < 11
    assert same_state(final, last_snapshot_state)  # back to the weights of the last snapshot
    assert not same_state(final, states[11])
    assert math.isfinite(finished.result.metrics["test_mse"])
    assert all(math.isfinite(row["loss"]) for row in finished.result.history)
    assert finished.result.metrics["status"] == "diverged"


def test_huge_learning_rate_diverges_with_finite_weights(digits):
    # Adam at 10: the first steps throw the weights far out (SGD at 10 only kills the ReLUs now that an
    # untrained model starts at the mean image, and then stays finite)
    trainer = Trainer(config(lr=10.0, epochs=5, params={**SMALL, "output": "identity"}), digits)
    for _ in trainer.run():
        pass
    finished = trainer.finished
    assert finished.status == "diverged", finished.message
    assert "smaller learning rate" in finished.message
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan"), float("inf"), 1e6])
def test_bad_learning_rates_are_refused_before_training(digits, lr):
    with pytest.raises(InvalidConfig, match="learning rate"):
        Trainer(config(lr=lr), digits)


def test_batch_larger_than_the_dataset_is_clamped_with_a_warning(digits):
    n = len(digits.train_images)
    trainer = Trainer(config(batch_size=100_000, epochs=3), digits)
    events = list(trainer.run())
    started = events[0]
    assert started.batch_size == n and trainer.steps_per_epoch == 1
    assert any("batch size 100000" in w and str(n) in w for w in started.warnings)
    assert trainer.step == 3
    assert events[-1].result.metrics["warnings"] == started.warnings


def test_cuda_requested_without_gpu_falls_back_to_cpu(digits, monkeypatch):
    monkeypatch.setattr(aeviz.training.device, "cuda_available", lambda: False)
    trainer = Trainer(config(device="cuda", epochs=1), digits)
    events = list(trainer.run())
    assert events[0].device == "cpu"
    assert any("CUDA was requested" in w for w in events[0].warnings)
    assert events[-1].result.metrics["device"] == "cpu"
    assert any("CUDA" in w for w in events[-1].result.metrics["warnings"])


def test_auto_device_without_gpu_is_cpu_and_unknown_device_is_refused(digits, monkeypatch):
    monkeypatch.setattr(aeviz.training.device, "cuda_available", lambda: False)
    choice = aeviz.training.device.resolve_device("auto")
    assert choice.device == "cpu" and not choice.warning
    with pytest.raises(InvalidConfig, match="device must be one of"):
        Trainer(config(device="tpu"), digits)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_auto_device_picks_cuda_when_there_is_a_gpu(digits):
    trainer = Trainer(config(device="auto", epochs=1), digits)
    events = list(trainer.run())
    assert events[0].device == "cuda" and events[-1].result.metrics["device"] == "cuda"


def test_snapshots_record_codes_for_small_k(digits):
    trainer = Trainer(config(k=4, epochs=2), digits)
    events = list(trainer.run())
    snapshots = [e for e in events if isinstance(e, Snapshot)]
    n_test = len(digits.test_images)
    assert all(s.codes is not None and s.codes.shape == (n_test, 4) and s.codes.dtype == np.float16
               for s in snapshots)
    codes = events[-1].result.code_snapshots
    assert codes["codes"].shape == (len(snapshots), n_test, 4)
    assert codes["steps"].tolist() == [s.step for s in snapshots]
    assert sorted(codes["indices"].tolist()) == list(range(n_test))
    with torch.no_grad():
        expected = trainer.model.encode(digits.test_images[torch.from_numpy(codes["indices"])]).numpy()
    np.testing.assert_allclose(codes["codes"][-1].astype(np.float32), expected, rtol=2e-3, atol=2e-3)


def test_no_codes_recorded_above_the_limit(digits, monkeypatch):
    monkeypatch.setattr(train_module, "MAX_RECORDED_K", 2)
    trainer = Trainer(config(k=4, epochs=1), digits)
    events = list(trainer.run())
    assert all(e.codes is None for e in events if isinstance(e, Snapshot))
    assert events[-1].result.code_snapshots == {}


def test_finished_run_is_saved_to_the_store(digits):
    from aeviz.runs.store import RunStore

    store = RunStore()
    trainer = Trainer(config(epochs=1), digits, store=store)
    for _ in trainer.run():
        pass
    run_id = trainer.finished.saved_run_id
    assert run_id and [info.run_id for info in store.list()] == [run_id]
    assert trainer.finished.save_error is None


def test_a_finite_loss_that_explodes_counts_as_diverged(digits):
    # Adam at lr 10 with an unbounded output: the loss grows by many orders of magnitude, never NaN
    trainer = Trainer(config(lr=10.0, epochs=5, params={**SMALL, "output": "identity"}), digits)
    for _ in trainer.run():
        pass
    finished = trainer.finished
    assert finished.status == "diverged", finished.message
    assert "loss grew from" in finished.message
    assert math.isfinite(finished.result.metrics["test_mse"])
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())
