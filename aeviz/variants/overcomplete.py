"""Overcomplete autoencoder: more code units than input pixels, held back by a regulariser.

With k at least the input size and nothing else, the network can copy its input through
(the identity): a perfect reconstruction that has learned nothing. An L1 penalty on the code
(only a few units may fire) or noise on the input (it cannot copy what it does not see)
makes the extra units learn structure instead.
"""

from __future__ import annotations

from typing import Any

import torch

from aeviz.data.noise import NOISE_HELP, NOISE_KINDS, corrupt
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts, code_sparsity
from aeviz.variants.sparse_l1 import l1_penalty


class OvercompleteAutoencoder(Autoencoder):
    slug = "overcomplete"
    title = "Overcomplete"
    summary = ("More code units than pixels: without a regulariser it could just copy the input, so an "
               "L1 penalty or input noise makes it learn features instead.")
    menu_order = 60
    common_defaults = {"hidden": ()}
    code_activation = "relu"
    centers_code_units = True
    # bench row `precision`: after 10 epochs on the digits its test MSE in bf16 was 1.04x fp32's (mean of
    # three seeds; every other variant within 0.5%), so precision=auto keeps it in fp32.
    trains_well_in_bf16 = False
    default_k = 1024
    extra_params = (
        Param("regularizer", "choice", "l1", "What stops it from learning the identity: an L1 penalty on "
              "the code, noise on the input, or nothing (to see it copy).", choices=("l1", "noise", "none")),
        Param("l1_weight", "float", 1e-4, "λ of the L1 penalty Σ_j |a_j| (regularizer=l1); 0 turns it off.",
              low=0.0, high=1.0, log_scale=True, log_low=1e-6),
        Param("noise", "choice", "masking", "Input corruption (regularizer=noise): "
              + "; ".join(f"{kind}: {text}" for kind, text in NOISE_HELP.items()) + ".", choices=NOISE_KINDS),
        Param("noise_level", "float", 0.3, "σ for gaussian, p for masking and salt_and_pepper "
              "(regularizer=noise).", low=0.0, high=1.0),
    )

    @classmethod
    def k_range(cls, input_size: int) -> tuple[int, int]:
        return 1, max(4 * input_size, 1024)

    @classmethod
    def warnings(cls, k: int, input_size: int, params: dict[str, Any]) -> list[str]:
        out = []
        if k <= input_size:
            out.append(f"k={k} is not larger than the input ({input_size} pixels): this is an undercomplete "
                       f"autoencoder; pick k > {input_size} to see the overcomplete case")
        widths = [*params.get("hidden", ()), k]
        unregularised = (params.get("regularizer") == "none"
                         or (params.get("regularizer") == "noise" and params.get("noise_level", 1) == 0)
                         or (params.get("regularizer") == "l1" and params.get("l1_weight", 1) == 0))
        if unregularised and min(widths) >= input_size:
            out.append(f"with no regularizer and every layer at least as wide as the input ({input_size}), "
                       f"it can learn the identity: a near-perfect reconstruction that has learned nothing "
                       f"useful; set regularizer=l1 or regularizer=noise")
        return out

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        self.center_code_units_once(x)
        regularizer = self.params["regularizer"]
        seen = corrupt(x, self.params["noise"], self.params["noise_level"]) if regularizer == "noise" else x
        codes = self.encode(seen)
        parts = LossParts(reconstruction=self.reconstruction_term(self.decode_logits(codes), x))
        if regularizer == "l1":
            parts["l1"] = self.params["l1_weight"] * l1_penalty(codes)
        return parts

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        return code_sparsity(self.encode(test_images))
