"""k-sparse autoencoder (Makhzani & Frey, 2013): keep the `active_units` largest code activations.

The code layer is linear; in each forward pass every unit except the top `active_units` of
each image is set to zero, and only those units get gradient. The paper's filters (70, 40, 25
and 10 active of 1000 units on MNIST) show that many active units give local, stroke-like
features; with fewer, each image must be rebuilt from fewer units, so the features grow more
global, up to whole-digit templates at 10, too global to classify well (25 classified best).
"""

from __future__ import annotations

import torch

from aeviz.errors import InvalidConfig
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts, Stage, code_sparsity

WARMUP_STEPS = 4  # stages over which the number of active units falls from k to active_units
DEFAULT_ACTIVE_SHARE = 0.25  # active_units left at its default: a quarter of k (12 of the default 48)


def keep_top_k(codes: torch.Tensor, n: int) -> torch.Tensor:
    """`codes` (B, k) with all but the `n` largest values of each row set to 0."""
    values, indices = codes.topk(n, dim=1)
    return torch.zeros_like(codes).scatter(1, indices, values)


class KSparseAutoencoder(Autoencoder):
    slug = "ksparse"
    title = "k-sparse (top-k)"
    summary = ("Keeps only the largest few code activations of each image and zeroes the rest "
               "(Makhzani & Frey): sparsity by construction, no penalty to tune.")
    menu_order = 50
    sparsity_knob = "active_units"
    sweep_suggestions = {"active_units": (5, 10, 20, 40)}
    common_defaults = {"hidden": ()}
    default_k = 48
    centers_code_units = True
    extra_params = (
        Param("active_units", "int", 12, "How many code units stay on per image (the top ones); "
              "at most k. Left at its default, a quarter of k.", low=1, high=4096),
        Param("warmup_share", "float", 0.2, "Share of the budget spent warming up: the number of active "
              "units falls in steps from k to active_units, so that fewer units end up never chosen "
              "(0 turns it off).", low=0.0, high=0.9),
    )

    @classmethod
    def check_settings(cls, k, settings):
        active = cls.setting(settings, "active_units")
        if active > k:
            raise InvalidConfig(f"active_units={active} is larger than k={k}; choose at most k units to keep")

    @classmethod
    def fit_params_to_k(cls, values: dict, k: int, chosen: set[str]) -> dict:
        """Unless chosen, active_units is a quarter of k (at least 1)."""
        if "active_units" not in chosen:
            return {**values, "active_units": max(1, min(k, round(DEFAULT_ACTIVE_SHARE * k)))}
        return values

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return keep_top_k(self.encoder(x), self.params["active_units"])

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        return self.loss_with_active(x, self.params["active_units"])

    def loss_with_active(self, x: torch.Tensor, active: int) -> LossParts:
        """The loss when the top `active` units of each image are kept."""
        self.center_code_units_once(x)
        logits = self.decode_logits(keep_top_k(self.encoder(x), active))
        return LossParts(reconstruction=self.reconstruction_term(logits, x))

    def training_stages(self) -> list[Stage]:
        """Warm-up stages keep more units, from k down towards `active_units` (the paper's schedule, in
        steps), so every unit gets gradient early on and fewer end up never chosen."""
        target, share = self.params["active_units"], self.params["warmup_share"]
        counts = sorted({round(self.k + (target - self.k) * i / WARMUP_STEPS) for i in range(WARMUP_STEPS)}
                        - {target}, reverse=True)
        if share <= 0 or not counts:
            return super().training_stages()
        parameters = list(self.parameters())
        stages = [Stage(f"warm-up: {count} active", lambda x, count=count: self.loss_with_active(x, count),
                        parameters, share / len(counts)) for count in counts]
        return stages + [Stage(f"{target} active", self.loss_parts, parameters, 1 - share)]

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        return code_sparsity(self.encode(test_images))
