"""An overcomplete code with no regulariser passes inputs unlike the data through far better than one
trained on masked inputs: it copies (aeviz.analysis.copying, the Reconstructions page's copying check)."""

import numpy as np
import pytest
import torch

from aeviz.training.config import TrainConfig
from aeviz.analysis.copying import SCRAMBLED, TEST_IMAGES, UNIFORM, input_errors, off_data_inputs, scrambled
from aeviz.errors import AevizError
from aeviz.figures.copying import input_error_bars
from aeviz.training.trainer import Trainer


def test_scrambled_keeps_each_pixels_values_but_not_the_images(digits):
    images = digits.test_images
    mixed = scrambled(images, seed=0)
    flat, mixed_flat = images.reshape(len(images), -1), mixed.reshape(len(images), -1)
    # each pixel position holds the same values as before, from other images
    assert torch.equal(flat.sort(dim=0).values, mixed_flat.sort(dim=0).values)
    assert (flat != mixed_flat).any(dim=1).float().mean() > 0.95


def test_off_data_inputs_refuse_other_images_of_another_size(digits):
    inputs = off_data_inputs(digits.test_images)
    assert set(inputs) == {TEST_IMAGES, SCRAMBLED, UNIFORM}
    assert all(v.shape == digits.test_images.shape for v in inputs.values())
    with pytest.raises(AevizError, match="not"):
        off_data_inputs(digits.test_images, {"big": torch.zeros(3, 1, 28, 28)})


def _overcomplete(digits, settings):
    config = TrainConfig(dataset="digits", variant="overcomplete", k=128, epochs=EPOCHS, seed=0,
                         snapshot_seconds=600, params=settings)
    trainer = Trainer(config, digits)
    list(trainer.run())
    return trainer.model


EPOCHS = 100  # the default on digits; copying grows with training (0.040 vs 0.055 at 40 epochs)


def test_unregularised_overcomplete_copies_scrambled_images_a_denoising_one_does_not(digits):
    inputs = off_data_inputs(digits.test_images)
    copying = input_errors(_overcomplete(digits, {"regularizer": "none"}), inputs)
    masked = input_errors(_overcomplete(digits, {"regularizer": "noise", "noise": "masking", "noise_level": 0.3}),
                          inputs)
    print({"none": copying, "masking noise": masked})
    # Scrambled digits have no digit in them: the copier rebuilds them far better than the run that had to
    # learn what digits look like.
    assert copying[SCRAMBLED] < 0.5 * masked[SCRAMBLED]
    fig = input_error_bars({"none": copying, "masking": masked})
    assert [trace.name for trace in fig.data] == ["none", "masking"]
    assert np.allclose(fig.data[0].y, [copying[n] for n in inputs])
