"""Sparse autoencoder with an L1 penalty on the code: loss = reconstruction + λ·Σ_j |a_j|.

The penalty acts on the activations a (ReLU code units), not on the weights, so each image is
rebuilt from a few active units; units that fire for no input are "dormant". With one code
layer (the default), `feature_images()` shows what each unit looks for.
"""

from __future__ import annotations

import torch

from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts, code_sparsity


def l1_penalty(codes: torch.Tensor) -> torch.Tensor:
    """Σ_j |a_j| per image, averaged over the batch."""
    return codes.abs().sum(dim=1).mean()


class SparseL1Autoencoder(Autoencoder):
    slug = "sparse_l1"
    title = "Sparse (L1)"
    summary = ("Adds λ·Σ|a| over the code activations to the loss, so each image is rebuilt from a few "
               "active units and each unit learns a reusable part.")
    menu_order = 30
    sparsity_knob = "l1_weight"
    sweep_suggestions = {"l1_weight": (1e-4, 1e-3, 1e-2, 0.1)}
    common_defaults = {"hidden": ()}
    code_activation = "relu"
    centers_code_units = True
    default_k = 48
    extra_params = (
        Param("l1_weight", "float", 1e-4, "λ: weight of the L1 penalty Σ_j |a_j| on the code activations "
              "(summed over units, averaged over images); larger means fewer active units; 0 turns it off.",
              low=0.0, high=1.0, log_scale=True, log_low=1e-6),
    )

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        self.center_code_units_once(x)
        codes = self.encode(x)
        logits = self.decode_logits(codes)
        return LossParts(reconstruction=self.reconstruction_term(logits, x),
                         l1=self.params["l1_weight"] * l1_penalty(codes))

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        return code_sparsity(self.encode(test_images))
