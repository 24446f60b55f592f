"""`plain` and `linear` subtract the mean training image from their input (as PCA does), and `plain` trains with
AdamW and weight decay by default; weights saved before they did still load, and runs saved then are not offered
as reuse."""

from __future__ import annotations

import io

import torch

from aeviz.training.config import TrainConfig
from aeviz.variants.nets import FlattenCentered
from aeviz.training.fingerprint import canonical_config
from aeviz.runs.checks import load_weights_into_model
from aeviz.training.trainer import Trainer
from aeviz.training.setup import build_fresh_model
from aeviz.variants import build_model, get_variant


def plain_config(**changes) -> TrainConfig:
    return TrainConfig(**{"dataset": "digits", "variant": "plain", "k": 8, "epochs": 1, "device": "cpu", **changes})


def test_plain_subtracts_the_mean_training_image_before_its_first_layer(digits):
    config = plain_config()
    model = build_fresh_model(config, digits, config.validate(digits.image_shape).params)
    mean = digits.train_images.double().mean(dim=0).flatten().float()
    assert torch.allclose(model.encoder[0].mean, mean)
    images = digits.test_images[:5]
    first_layer = model.encoder[1][0]
    expected = torch.relu(first_layer(images.reshape(5, -1) - mean))
    assert torch.allclose(model.encoder[1][:2](model.encoder[0](images)), expected, atol=1e-6)
    assert "encoder.0.mean" in model.state_dict()  # saved with the model


def test_other_variants_see_the_images_as_they_are():
    model = build_model("denoising", (1, 8, 8), 4)
    assert not any(isinstance(m, FlattenCentered) for m in model.modules())


def test_linear_subtracts_the_mean_training_image_as_pca_does(digits):
    """The mean is the largest direction of the raw images: a linear run that must cancel it through its biases
    first reaches PCA's subspace far later (tests/app/test_train_linear_defaults.py)."""
    config = TrainConfig(dataset="digits", variant="linear", k=4, epochs=1, device="cpu")
    model = build_fresh_model(config, digits, config.validate(digits.image_shape).params)
    assert torch.allclose(model.encoder[0].mean, digits.train_images.double().mean(dim=0).flatten().float())
    assert canonical_config(config)["input"] == "mean image subtracted"  # not the model its older runs trained


def test_weights_saved_before_centering_load_with_a_zero_mean():
    old = build_model("plain", (1, 8, 8), 4)
    state = {name: value for name, value in old.state_dict().items() if name != "encoder.0.mean"}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    config = plain_config(k=4).to_json()
    loaded = load_weights_into_model(config, buffer.getvalue(), input_shape=(1, 8, 8))
    assert torch.equal(loaded.encoder[0].mean, torch.zeros(64))
    images = torch.rand(3, 1, 8, 8)
    assert torch.allclose(loaded(images), old(images))


def test_plain_trains_with_adamw_and_weight_decay_unless_told_otherwise(digits):
    defaults = get_variant("plain").training_defaults()
    assert (defaults["optimizer"], defaults["weight_decay"]) == ("adamw", 0.05)
    trainer = Trainer(plain_config(epochs=0.2), digits)
    for _ in trainer.run():
        pass
    assert isinstance(trainer.optimizer, torch.optim.AdamW)
    assert trainer.optimizer.param_groups[0]["weight_decay"] == 0.05
    chosen = Trainer(plain_config(epochs=0.2, trainer={"optimizer": "adam", "weight_decay": 0.0}), digits)
    for _ in chosen.run():
        pass
    assert type(chosen.optimizer) is torch.optim.Adam
    assert chosen.optimizer.param_groups[0]["weight_decay"] == 0.0
    assert get_variant("linear").training_defaults()["optimizer"] == "adam"  # the others keep Adam


def test_a_run_saved_before_plain_centred_its_input_is_not_the_same_model():
    centred = canonical_config(plain_config(trainer={"optimizer": "adam", "weight_decay": 0.0}))
    assert centred["input"] == "mean image subtracted"
    assert "input" not in canonical_config(TrainConfig(dataset="digits", variant="denoising", k=8, epochs=1))


def test_a_run_checkpointed_before_the_change_resumes_as_it_began(digits):
    """Its weights have no mean (it learnt on raw images) and its optimiser state is Adam's without decay:
    resumed under the new defaults, it must keep both, not switch to a centred input or to weight decay."""
    from aeviz.runs.checkpoints import restore, trainer_state

    before = Trainer(plain_config(epochs=0.5, trainer={"optimizer": "adam", "weight_decay": 0.0}), digits)
    for _ in before.run():
        pass
    state = trainer_state(before)
    del state["weights"]["encoder.0.mean"]
    state["step"] = 1  # mid-run
    resumed = Trainer(plain_config(epochs=0.5), digits)  # the defaults now: AdamW, weight decay 0.05
    restore(resumed, state)
    assert torch.equal(resumed.model.encoder[0].mean, torch.zeros(64))
    assert resumed.optimizer.param_groups[0]["weight_decay"] == 0
