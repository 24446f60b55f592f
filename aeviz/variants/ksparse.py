"""k-sparse autoencoder (Makhzani & Frey, 2013): keep the `active_units` largest code activations.

The code layer is linear; in each forward pass every unit except the top `active_units` of
each image is set to zero, and only those units get gradient. Fewer active units give more
local, stroke-like features (the paper shows 70, 40, 25 and 10 of 1000 on MNIST).
"""

from __future__ import annotations

import torch

from aeviz.errors import InvalidConfig
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, code_sparsity


def keep_top_k(codes: torch.Tensor, n: int) -> torch.Tensor:
    """`codes` (B, k) with all but the `n` largest values of each row set to 0."""
    values, indices = codes.topk(n, dim=1)
    return torch.zeros_like(codes).scatter(1, indices, values)


class KSparseAutoencoder(Autoencoder):
    slug = "ksparse"
    title = "k-sparse (top-k)"
    summary = ("Keeps only the largest few code activations of each image and zeroes the rest "
               "(Makhzani & Frey): sparsity by construction, no penalty to tune.")
    common_defaults = {"hidden": ()}
    default_k = 48
    extra_params = (
        Param("active_units", "int", 12, "How many code units stay on per image (the top ones); "
              "at most k.", low=1, high=4096),
    )

    def __init__(self, input_shape, k, params=None):
        super().__init__(input_shape, k, params)
        if self.params["active_units"] > self.k:
            raise InvalidConfig(f"active_units={self.params['active_units']} is larger than k={self.k}; "
                                f"choose at most k units to keep")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return keep_top_k(self.encoder(x), self.params["active_units"])

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        return code_sparsity(self.encode(test_images), threshold=0.0)
