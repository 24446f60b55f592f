"""Sparse autoencoder with a KL penalty on the mean activation of each sigmoid code unit.

With ρ̂_j the mean activation of unit j over the batch and a target ρ (say 0.05), the penalty is
β·Σ_j KL(Bernoulli(ρ) ‖ Bernoulli(ρ̂_j)) = β·Σ_j [ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j))]
(Ng, "Sparse autoencoder", CS294A notes 2011). It pushes every unit to be on for a fraction ρ
of the images: sparse, but no unit may stay dormant. The KL itself is `bernoulli_kl` below, which the
Information page draws too (aeviz.analysis.information.bernoulli_kl hands torch tensors to it).
"""

from __future__ import annotations

import torch

from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts

SATURATION_EPS = 1e-6  # ρ̂ is clamped to [eps, 1 - eps]: a saturated unit gives a large, finite penalty


def bernoulli_kl(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """KL(Bernoulli(ρ) ‖ Bernoulli(ρ̂)) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂)), elementwise, in nats.

    The sparse autoencoder's penalty per hidden unit (Ng's lecture notes): ρ the target mean activation,
    ρ̂ the unit's actual mean activation, a torch tensor, differentiable and clamped to
    [SATURATION_EPS, 1 − SATURATION_EPS].
    """
    rho_hat = rho_hat.clamp(SATURATION_EPS, 1 - SATURATION_EPS)
    rho = torch.as_tensor(rho, dtype=rho_hat.dtype, device=rho_hat.device)
    xlogy = torch.special.xlogy
    return xlogy(rho, rho) - xlogy(rho, rho_hat) + xlogy(1 - rho, 1 - rho) - xlogy(1 - rho, 1 - rho_hat)


class SparseKLAutoencoder(Autoencoder):
    slug = "sparse_kl"
    title = "Sparse (KL)"
    summary = ("Sigmoid code units pushed to fire for a small fraction ρ of images: adds "
               "β·Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j unit j's mean activation over the batch.")
    menu_order = 40
    sparsity_knob = "sparsity_weight"
    activation_target_param = "sparsity_target"
    sweep_suggestions = {"sparsity_weight": (0.01, 0.1, 1, 3)}
    common_defaults = {"hidden": ()}
    code_activation = "sigmoid"
    default_k = 48
    extra_params = (
        Param("sparsity_target", "float", 0.05, "ρ: the mean activation each code unit should have over "
              "the images (a probability).", low=0.001, high=0.5),
        Param("sparsity_weight", "float", 0.01, "β: weight of the penalty Σ_j KL(ρ ‖ ρ̂_j) (nats, summed "
              "over code units); 0 turns it off.", low=0.0, high=10.0, log_scale=True, log_low=1e-5),
    )

    def sparsity_penalty(self, codes: torch.Tensor) -> torch.Tensor:
        """Σ_j KL(ρ ‖ ρ̂_j) in nats, ρ̂_j the mean of code unit j over the batch."""
        return bernoulli_kl(self.params["sparsity_target"], codes.mean(dim=0)).sum()

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        codes = self.encode(x)
        logits = self.decode_logits(codes)
        return LossParts(reconstruction=self.reconstruction_term(logits, x),
                         sparsity=self.params["sparsity_weight"] * self.sparsity_penalty(codes))

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        codes = self.encode(test_images)
        mean_activation = codes.mean(dim=0)
        return {"mean_activation": float(mean_activation.mean()),
                "unit_mean_activation": [round(float(v), 5) for v in mean_activation],
                "sparsity_kl": float(bernoulli_kl(self.params["sparsity_target"], mean_activation).sum())}
