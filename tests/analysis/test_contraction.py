"""‖∂h/∂x‖_F per image: agrees with autograd's full Jacobian, and a contractive run's is smaller."""

import numpy as np
import torch

from aeviz.training.config import TrainConfig
from aeviz.analysis.contraction import jacobian_norms
from aeviz.figures.latent import jacobian_norm_figure
from aeviz.training.trainer import Trainer
from aeviz.variants import build_model


def test_norms_match_the_full_jacobian(digits):
    model = build_model("plain", digits.image_shape, 4, {"hidden": "16"})
    images = digits.test_images[:5]
    norms = jacobian_norms(model, images)
    for image, norm in zip(images, norms):
        jacobian = torch.autograd.functional.jacobian(lambda x: model.encode(x[None])[0], image)
        assert np.isclose(norm, float(jacobian.pow(2).sum().sqrt()), rtol=1e-4)


def test_the_penalty_contracts_the_code(digits):
    def trained(weight):
        config = TrainConfig(dataset="digits", variant="contractive", k=8, epochs=30, device="cpu",
                             lr=1e-2, batch_size=64, params={"contraction_weight": weight})
        trainer = Trainer(config, digits)
        for _ in trainer.run():
            pass
        return trainer.finished.result.model

    plain, contracted = (np.median(jacobian_norms(trained(w), digits.test_images)) for w in (0.0, 0.3))
    assert contracted < 0.7 * plain
    fig = jacobian_norm_figure({"off": np.array([plain]), "on": np.array([contracted])})
    assert len(fig.data) == 2 and fig.layout.yaxis.type == "log"
