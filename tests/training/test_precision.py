"""Mixed precision: when bf16 is chosen, that it runs the forward pass in bf16 while the weights, loss and
optimiser state stay fp32, and that every variant still trains under it."""

from __future__ import annotations

import math

import pytest
import torch

from aeviz.training import precision
from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.training.precision import PrecisionChoice, autocast, cpu_bf16_flags, resolve_precision
from aeviz.training.trainer import Trainer
from aeviz.variants import VARIANTS


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    with_bf16 = tmp_path / "cpuinfo"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile amx_bf16\n")
    without = tmp_path / "cpuinfo-old"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n")
    assert cpu_bf16_flags(with_bf16) == {"avx512_bf16", "amx_bf16"}
    assert cpu_bf16_flags(without) == set()
    assert cpu_bf16_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize("fast", [True, False])
def test_auto_uses_bf16_only_where_the_cpu_runs_it_fast(monkeypatch, fast):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: fast)
    auto = resolve_precision("auto", "cpu")
    assert auto.name == ("bf16" if fast else "fp32") and not auto.warning
    assert resolve_precision("fp32", "cpu").name == "fp32"
    asked = resolve_precision("bf16", "cpu")
    assert asked.name == "bf16"                     # an explicit request is honoured...
    assert bool(asked.warning) == (not fast)        # ...with a warning where it is emulated (slow)


def test_auto_keeps_a_variant_that_trains_worse_in_bf16_in_fp32(monkeypatch):
    from aeviz.data.datasets import load_dataset

    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: True)
    assert not VARIANTS["overcomplete"].trains_well_in_bf16 and VARIANTS["plain"].trains_well_in_bf16
    kept = resolve_precision("auto", "cpu", VARIANTS["overcomplete"])
    assert kept.name == "fp32" and "Overcomplete" in kept.reason and not kept.warning
    assert resolve_precision("auto", "cpu", VARIANTS["plain"]).name == "bf16"
    asked = resolve_precision("bf16", "cpu", VARIANTS["overcomplete"])
    assert asked.name == "bf16" and "test error" in asked.warning  # honoured, with the reason to reconsider
    trainer = Trainer(TrainConfig(dataset="digits", variant="overcomplete", k=128, epochs=1), load_dataset("digits"))
    assert trainer.precision.name == "fp32"


def test_unknown_precision_is_refused_before_training():
    with pytest.raises(InvalidConfig, match="precision must be one of auto, bf16, fp32"):
        resolve_precision("half", "cpu")
    with pytest.raises(InvalidConfig, match="precision must be one of"):
        TrainConfig(dataset="digits", precision="fp16").validate(64)


def test_autocast_runs_products_in_bf16_and_losses_in_fp32():
    layer = torch.nn.Linear(8, 8)
    x = torch.rand(4, 8)
    with autocast("cpu", PrecisionChoice("bf16", "test")):
        out = layer(x)
        loss = torch.nn.functional.mse_loss(torch.sigmoid(out), x)
    assert out.dtype == torch.bfloat16 and loss.dtype == torch.float32
    with autocast("cpu", PrecisionChoice("fp32", "test")):
        assert layer(x).dtype == torch.float32


def test_bf16_training_keeps_weights_loss_and_adam_state_in_fp32(digits):
    config = TrainConfig(dataset="digits", k=8, epochs=1, device="cpu", precision="bf16", params={"hidden": [32]})
    trainer = Trainer(config, digits)
    events = list(trainer.run())
    result = trainer.finished.result
    assert result.metrics["precision"] == "bf16" and events[0].precision == "bf16"
    assert result.config.to_json()["precision"] == "bf16"          # saved with the run's config
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    state = [s for s in trainer.optimizer.state.values()]
    assert state and all(t.dtype == torch.float32 for s in state for t in s.values() if t.is_floating_point())
    assert all(isinstance(row["loss"], float) and math.isfinite(row["loss"]) for row in result.history)


@pytest.mark.parametrize("slug", sorted(VARIANTS))
def test_every_variant_trains_under_bf16_with_a_finite_loss(slug, digits):
    variant = VARIANTS[slug]
    low, high = variant.k_range(digits.input_size)
    k = max(low, min(variant.default_k, high, 16))
    defaults = variant.training_defaults()
    config = TrainConfig(dataset="digits", variant=slug, k=k, epochs=3, device="cpu", precision="bf16",
                         batch_size=128, lr=max(defaults["lr"], 2e-3), snapshot_seconds=60)
    trainer = Trainer(config, digits)
    for _ in trainer.run():
        pass
    finished = trainer.finished
    assert finished.status == "completed", finished.message
    losses = [row["loss"] for row in finished.result.history]
    assert losses and all(math.isfinite(v) for v in losses)
    first, last = finished.result.test_history[0]["test_mse"], finished.result.metrics["test_mse"]
    assert math.isfinite(last) and last < first, (first, last)   # it learned something
    assert finished.result.metrics["precision"] == "bf16"
