"""Every variant's defaults train at the smallest, a middle and the largest k of its declared range,
and every penalty weight can be switched off (0)."""

from __future__ import annotations

import math

import pytest

from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.training.trainer import Trainer
from aeviz.variants import VARIANTS

DIGITS_INPUT = 64


def ks_of(slug: str) -> list[int]:
    low, high = VARIANTS[slug].k_range(DIGITS_INPUT)
    return sorted({low, (low + high) // 2, high})


CASES = [(slug, k) for slug in VARIANTS for k in ks_of(slug)]


@pytest.mark.parametrize(("slug", "k"), CASES, ids=[f"{s}-k{k}" for s, k in CASES])
def test_defaults_train_at_k(digits, slug, k):
    # the variant's own defaults; only the budget is tiny (two steps)
    defaults = VARIANTS[slug].training_defaults()
    steps_per_epoch = math.ceil(len(digits.train_images) / defaults["batch_size"])
    config = TrainConfig(dataset="digits", variant=slug, k=k, epochs=2 / steps_per_epoch, device="cpu",
                         batch_size=defaults["batch_size"], lr=defaults["lr"])
    config.validate(DIGITS_INPUT)
    trainer = Trainer(config, digits)
    for _ in trainer.run():
        pass
    finished = trainer.finished
    assert finished.status == "completed", finished.message
    assert math.isfinite(finished.result.metrics["test_mse"])


PENALTIES = [(slug, p.name) for slug, cls in VARIANTS.items() for p in cls.declared_params()
             if p.log_scale and p.kind == "float"]


def test_every_penalty_weight_is_declared():
    assert {name for _, name in PENALTIES} >= {"l1_weight", "sparsity_weight", "contraction_weight", "beta"}


@pytest.mark.parametrize(("slug", "name"), PENALTIES, ids=[f"{s}-{n}" for s, n in PENALTIES])
def test_penalty_weight_can_be_off(digits, monkeypatch, slug, name):
    import aeviz.training.trainer as train_module

    monkeypatch.setattr(train_module, "PROGRESS_SECONDS", 0.0)  # every step logged
    params = VARIANTS[slug].parse_params({name: "0"}, k=8)
    assert params[name] == 0.0
    config = TrainConfig(dataset="digits", variant=slug, k=8, epochs=0.5, device="cpu", params={name: 0})
    trainer = Trainer(config, digits)
    for _ in trainer.run():
        pass
    assert trainer.finished.status == "completed", trainer.finished.message
    penalties = [{term: value for term, value in entry.items()
                  if term not in ("step", "epoch", "elapsed", "loss", "reconstruction")} for entry in trainer.history]
    assert penalties and all(terms and all(v == 0 for v in terms.values()) for terms in penalties), penalties


def test_ksparse_active_units_follow_k_unless_chosen():
    cls = VARIANTS["ksparse"]
    assert cls.parse_params({}, k=48)["active_units"] == 12  # the declared default at the default k
    assert cls.parse_params({}, k=4)["active_units"] == 1
    assert cls.parse_params({}, k=1)["active_units"] == 1
    assert cls.parse_params({"active_units": 3}, k=4)["active_units"] == 3
    with pytest.raises(InvalidConfig, match="active_units=5 is larger than k=4"):
        cls.parse_params({"active_units": 5}, k=4)
    # the page's controls start from the fitted default
    assert {p.name: p.default for p in cls.params_for_k(8)}["active_units"] == 2


def test_a_chosen_active_count_above_k_is_refused_before_training():
    with pytest.raises(InvalidConfig, match="active_units"):
        TrainConfig(dataset="digits", variant="ksparse", k=4, params={"active_units": 12}).validate(DIGITS_INPUT)
