"""Variational autoencoder (Kingma & Welling, 2013), with the β of Higgins et al. (2017).

The encoder gives the mean μ and log-variance log σ² of a Gaussian q(z|x); a code is drawn as
z = μ + σ·ε, ε ~ N(0, I) (the reparameterisation trick, so gradients flow through μ and σ), and
the loss is the negative ELBO with the KL term weighted by β:
    −log p(x|z) + β·KL(N(μ, σ²) ‖ N(0, I)),   KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²).
Both terms are divided by the number of pixels, like every reconstruction loss here, so
`reconstruction` reads as a per-pixel error and β means what it means in the papers.
`encode` returns μ; `sample(n)` decodes draws from the prior.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aeviz.facts import used_dimensions
from aeviz.variants.nets import Flatten, mlp
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts

METRICS_SEED = 4321
EVAL_BATCH = 2048


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)) per dimension, in nats (same shape as mu)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


class VariationalAutoencoder(Autoencoder):
    slug = "vae"
    title = "Variational (VAE)"
    summary = ("Encodes each image as a Gaussian cloud in code space and is trained to keep those clouds "
               "close to N(0, I) (weight β), so codes drawn from N(0, I) tend to decode to plausible images.")
    menu_order = 90
    has_prior = True
    common_defaults = {"hidden": (512,), "loss": "bce"}
    default_k = 16
    default_lr = 1e-3
    extra_params = (
        Param("beta", "float", 1.0, "β: weight of the KL term; 1 is the standard VAE, more gives smoother, "
              "more disentangled but blurrier codes, less a sharper autoencoder with a worse prior fit; 0 drops "
              "the KL term (a noisy autoencoder with no prior).", low=0.0, high=100.0, log_scale=True, log_low=1e-3),
    )

    def build(self):
        encoder = nn.Sequential(Flatten(), mlp([self.input_size, *self.params["hidden"], 2 * self.k],
                                               self.params["activation"]))
        _, decoder = super().build()
        return encoder, decoder

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and log σ² of q(z|x), each (B, k)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(x)[0]

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + (0.5 * logvar).exp() * noise

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        mu, logvar = self.encode_distribution(x)
        logits = self.decode_logits(self.reparameterize(mu, logvar))
        kl = gaussian_kl(mu, logvar).sum(dim=1).mean() / self.input_size
        return LossParts(reconstruction=self.reconstruction_term(logits, x), kl=self.params["beta"] * kl)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, C, H, W) decoded from codes drawn from the prior N(0, I)."""
        device = next(self.parameters()).device
        z = torch.randn((n, self.k), generator=generator, device=device)
        return self.decode(z)

    def negative_log_likelihood(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """−log p(x|z) per image in nats: Bernoulli pixels for loss=bce, else a unit-variance Gaussian."""
        if self.params["loss"] == "bce":
            return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        recon = self.output_activation(logits)
        return 0.5 * (recon - x).pow(2).flatten(1).sum(1) + 0.5 * self.input_size * math.log(2 * math.pi)

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict:
        """ELBO (β = 1) and its parts on the test set, in nats per image (one sample of z each);
        kl_per_dim: mean KL of each latent dimension; active_dims: those not collapsed (aeviz.facts)."""
        generator = torch.Generator(device=test_images.device).manual_seed(METRICS_SEED)
        nll = 0.0
        kl_per_dim = torch.zeros(self.k, device=test_images.device, dtype=torch.float64)
        for start in range(0, len(test_images), EVAL_BATCH):
            x = test_images[start:start + EVAL_BATCH]
            mu, logvar = self.encode_distribution(x)
            logits = self.decode_logits(self.reparameterize(mu, logvar, generator))
            nll += float(self.negative_log_likelihood(logits, x).sum())
            kl_per_dim += gaussian_kl(mu, logvar).sum(dim=0).double()
        count = max(len(test_images), 1)
        kl_per_dim = kl_per_dim / count
        kl = float(kl_per_dim.sum())
        return {"elbo": -(nll / count + kl), "reconstruction_nll": nll / count, "kl": kl,
                "kl_per_dim": [round(float(v), 5) for v in kl_per_dim],
                "active_dims": used_dimensions(kl_per_dim.cpu().numpy()), "likelihood":
                "bernoulli" if self.params["loss"] == "bce" else "gaussian (unit variance)"}

    def feature_images(self):
        """With no hidden layer, the encoder filters are those of μ (the first k rows)."""
        features = super().feature_images()
        if features is not None and not self.params["hidden"]:
            return features[0][:self.k], features[1]
        return features
