"""Denoising autoencoder (Vincent et al., 2008): corrupt x to x̃, train g(f(x̃)) to rebuild the clean x.

It cannot simply copy its input, so it must learn what digits (or clothes) look like to undo
the noise. At test time it is given clean images (`test_mse`) and, to see it denoise, images
corrupted the way it was trained (`noisy_test_mse`).
"""

from __future__ import annotations

import torch

from aeviz.data.noise import NOISE_HELP, NOISE_KINDS, corrupt
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts

METRICS_SEED = 1234  # the noise of noisy_test_mse is fixed so that runs compare fairly
EVAL_BATCH = 2048


class DenoisingAutoencoder(Autoencoder):
    slug = "denoising"
    title = "Denoising"
    summary = ("Sees a corrupted image (Gaussian noise, masked or salt-and-pepper pixels) and is trained to "
               "rebuild the clean one, so it must learn what images look like.")
    menu_order = 70
    denoises = True
    sweep_suggestions = {"noise_level": (0.0, 0.2, 0.4, 0.6)}
    extra_params = (
        Param("noise", "choice", "masking", "How the input is corrupted: "
              + "; ".join(f"{kind}: {text}" for kind, text in NOISE_HELP.items()) + ".", choices=NOISE_KINDS),
        Param("noise_level", "float", 0.3, "σ for gaussian noise; the probability p that a pixel is hit for "
              "masking and salt_and_pepper.", low=0.0, high=1.0),
    )

    @classmethod
    def training_noise(cls, settings):
        return str(cls.setting(settings, "noise")), float(cls.setting(settings, "noise_level"))

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """x corrupted by this model's training noise."""
        return corrupt(x, self.params["noise"], self.params["noise_level"], generator)

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        logits = self.decode_logits(self.encode(self.corrupt(x)))
        return LossParts(reconstruction=self.reconstruction_term(logits, x))

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        """noisy_test_mse: MSE per pixel between the clean test images and the model's output on their
        corrupted copies; noisy_input_mse: the same for the corrupted copies themselves (doing nothing)."""
        generator = torch.Generator(device=test_images.device).manual_seed(METRICS_SEED)
        model_error = input_error = 0.0
        for start in range(0, len(test_images), EVAL_BATCH):
            clean = test_images[start:start + EVAL_BATCH]
            noisy = self.corrupt(clean, generator)
            model_error += float(((self(noisy) - clean) ** 2).sum())
            input_error += float(((noisy - clean) ** 2).sum())
        count = max(test_images.numel(), 1)
        return {"noisy_test_mse": model_error / count, "noisy_input_mse": input_error / count,
                "noise": self.params["noise"], "noise_level": self.params["noise_level"]}
