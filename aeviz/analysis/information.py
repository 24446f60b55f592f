"""Information theory for autoencoders: surprise, entropy, cross-entropy and KL, all in nats.

    surprise(p)            = -log p
    entropy(P)             = sum_s p_s (-log p_s)              the expected surprise
    cross_entropy(P, Q)    = -sum_s p_s log q_s                truth P, belief Q
    kl_divergence(P, Q)    = sum_s p_s log(p_s / q_s) = H(P, Q) - H(P) >= 0

Conventions at the edges (the limits, as in scipy.special.rel_entr): 0 log 0 = 0, so an outcome
with p = 0 adds nothing; an outcome with p > 0 that the model gives q = 0 makes the cross-entropy
and KL infinite. Every function here takes numbers or numpy arrays; the last few take a model and
images and return per-pixel or per-unit numbers for the information page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from aeviz.errors import AevizError, InvalidConfig
from aeviz.variants import sparse_kl
from aeviz.analysis.latent import BATCH, evaluating, run_in_batches


# ---------------------------------------------------------------- elementwise pieces
def _xlogy(x, y) -> np.ndarray:
    """x * log(y) with 0 * log(anything) = 0 (so 0 log 0 = 0)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where(x == 0, 0.0, out)


def _check_probabilities(p, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise InvalidConfig(f"{name} must hold probabilities between 0 and 1")
    return p


def _check_distribution(p, name: str, axis: int = -1) -> np.ndarray:
    p = _check_probabilities(p, name)
    if p.ndim == 0 or p.shape[axis] == 0:
        raise InvalidConfig(f"{name} must be a non-empty list of probabilities")
    if not np.allclose(p.sum(axis=axis), 1.0, atol=1e-6):
        raise InvalidConfig(f"{name} must sum to 1 (it sums to {np.round(p.sum(axis=axis), 6)}); "
                            f"use normalize() on weights")
    return p


def normalize(weights, axis: int = -1) -> np.ndarray:
    """Non-negative weights scaled to a probability distribution along `axis`."""
    weights = np.asarray(weights, dtype=np.float64)
    if np.any(weights < 0) or np.any(~np.isfinite(weights)):
        raise InvalidConfig("weights must be non-negative finite numbers")
    total = weights.sum(axis=axis, keepdims=True)
    if np.any(total <= 0):
        raise InvalidConfig("at least one weight must be positive")
    return weights / total


# ---------------------------------------------------------------- categorical
def surprise(p) -> np.ndarray:
    """-log p in nats; infinite at p = 0 (an impossible outcome is infinitely surprising)."""
    p = _check_probabilities(p, "p")
    with np.errstate(divide="ignore"):
        return -np.log(p)


def entropy(p, axis: int = -1) -> np.ndarray:
    """H(P) = -sum p log p in nats along `axis` (P must sum to 1)."""
    p = _check_distribution(p, "P", axis)
    return -_xlogy(p, p).sum(axis=axis)


def cross_entropy(p, q, axis: int = -1) -> np.ndarray:
    """H(P, Q) = -sum p log q in nats; infinite when some q = 0 where p > 0."""
    p = _check_distribution(p, "P", axis)
    q = _check_distribution(q, "Q", axis)
    return -_xlogy(p, q).sum(axis=axis)


def kl_divergence(p, q, axis: int = -1) -> np.ndarray:
    """KL(P || Q) = sum p log(p / q) = H(P, Q) - H(P) in nats; >= 0, zero only when P = Q."""
    p = _check_distribution(p, "P", axis)
    q = _check_distribution(q, "Q", axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p == 0, 1.0, p / q)
    terms = np.where(p == 0, 0.0, np.where(q == 0, np.inf, p * np.log(ratio)))
    return terms.sum(axis=axis)


# ---------------------------------------------------------------- Bernoulli
def bernoulli_entropy(p) -> np.ndarray:
    """H(Bernoulli(p)) = -p log p - (1-p) log(1-p) in nats; 0 at p = 0 and p = 1, log 2 at p = 1/2."""
    p = _check_probabilities(p, "p")
    return -_xlogy(p, p) - _xlogy(1 - p, 1 - p)


def bernoulli_cross_entropy(p, q) -> np.ndarray:
    """H(Bernoulli(p), Bernoulli(q)) = -p log q - (1-p) log(1-q) in nats: the BCE loss of target p, output q."""
    p = _check_probabilities(p, "p")
    q = _check_probabilities(q, "q")
    return -_xlogy(p, q) - _xlogy(1 - p, 1 - q)


def bernoulli_kl(rho, rho_hat):
    """KL(Bernoulli(rho) || Bernoulli(rho_hat)) = rho log(rho/rho_hat) + (1-rho) log((1-rho)/(1-rho_hat)),
    elementwise, in nats.

    The sparse autoencoder's penalty per hidden unit (Ng's lecture notes on sparse autoencoders):
    rho is the target mean activation, rho_hat the unit's actual mean activation. For the Information
    page: numpy, probabilities checked, exact at 0 and 1. A torch tensor rho_hat goes to the sparse_kl
    variant's training penalty (aeviz.variants.sparse_kl.bernoulli_kl: differentiable, clamped).
    """
    if isinstance(rho_hat, torch.Tensor):
        return sparse_kl.bernoulli_kl(rho, rho_hat)
    rho, rho_hat = _check_probabilities(rho, "rho"), _check_probabilities(rho_hat, "rho_hat")
    return _xlogy(rho, rho) - _xlogy(rho, rho_hat) + _xlogy(1 - rho, 1 - rho) - _xlogy(1 - rho, 1 - rho_hat)


# ---------------------------------------------------------------- from trained runs
@dataclass
class PixelBCESplit:
    """Binary cross-entropy of reconstructions, per pixel and averaged over images, in nats.

    Each pixel value x in [0, 1] is read as a Bernoulli probability and the reconstruction r as the
    model's belief: BCE(x, r) = H(x) + KL(x || r). H(x) is the data's own entropy (no model can go
    below it); only the KL part measures the model.
    """

    bce: np.ndarray            # (C, H, W) mean over images
    data_entropy: np.ndarray   # (C, H, W)
    kl: np.ndarray             # (C, H, W)

    @property
    def mean_bce(self) -> float:
        return float(self.bce.mean())

    @property
    def mean_data_entropy(self) -> float:
        return float(self.data_entropy.mean())

    @property
    def mean_kl(self) -> float:
        return float(self.kl.mean())


def pixel_bce_split(model, images: torch.Tensor) -> PixelBCESplit:
    """Per-pixel BCE of the model's reconstructions of `images`, split into H(x) + KL(x || r).

    With a sigmoid output the log-probabilities come from the decoder's logits (exact even where
    the sigmoid saturates); an identity output is clipped into (0, 1) first.
    """

    sums = {"bce": 0.0, "h": 0.0}
    count = 0
    with evaluating(model) as device:
        for start in range(0, len(images), BATCH):
            x = images[start:start + BATCH].to(device).double()
            logits = model.decode_logits(model.encode(x.to(next(model.parameters()).dtype))).double()
            if _is_sigmoid(model, logits):
                log_r, log_1mr = F.logsigmoid(logits), F.logsigmoid(-logits)
            else:
                r = model.output_activation(logits).clamp(1e-7, 1 - 1e-7)
                log_r, log_1mr = torch.log(r), torch.log1p(-r)
            bce = -(x * log_r + (1 - x) * log_1mr)
            h = -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x))
            sums["bce"] = sums["bce"] + bce.sum(dim=0)
            sums["h"] = sums["h"] + h.sum(dim=0)
            count += len(x)
    if count == 0:
        raise AevizError("no images to measure")
    bce = (sums["bce"] / count).cpu().numpy()
    data_entropy = (sums["h"] / count).cpu().numpy()
    # KL >= 0 per image and pixel; the difference of means can dip below 0 by rounding only.
    return PixelBCESplit(bce, data_entropy, np.maximum(bce - data_entropy, 0.0))


def _is_sigmoid(model, logits: torch.Tensor) -> bool:
    return torch.allclose(model.output_activation(logits), torch.sigmoid(logits))


def unit_kl(rho: float, unit_means) -> np.ndarray:
    """KL(rho || rho_hat_j) for each hidden unit's mean activation rho_hat_j (nats, one per unit).

    Mean activations outside [0, 1] (units that are not sigmoids) are refused: the Bernoulli
    reading needs probabilities.
    """
    unit_means = np.asarray(unit_means, dtype=np.float64)
    if np.any(unit_means < 0) or np.any(unit_means > 1):
        raise AevizError("per-unit KL needs mean activations between 0 and 1 (sigmoid hidden units, as in sparse_kl)")
    return bernoulli_kl(rho, unit_means)


def gaussian_kl_per_dimension(mu, logvar) -> np.ndarray:
    """KL(N(mu, sigma^2) || N(0, 1)) per latent dimension, averaged over images (nats).

    Kingma & Welling (2013), appendix B: KL = -1/2 (1 + log sigma^2 - mu^2 - sigma^2) per dimension.
    A dimension with KL near 0 is unused: its posterior is the prior whatever the image.
    """
    mu = np.asarray(mu, dtype=np.float64)
    logvar = np.asarray(logvar, dtype=np.float64)
    return (-0.5 * (1.0 + logvar - mu**2 - np.exp(logvar))).reshape(-1, mu.shape[-1]).mean(axis=0)


def vae_kl_per_dimension(model, images: torch.Tensor) -> np.ndarray:
    """The VAE's KL per latent dimension over `images` (nats, one per dimension).

    Needs a model that exposes its posterior: `encode_distribution(x) -> (mu, logvar)`.
    """

    method = getattr(model, "encode_distribution", None) or getattr(model, "posterior", None)
    if method is None:
        raise AevizError(f"the {getattr(model, 'slug', 'chosen')} model has no latent distribution; "
                         f"KL per dimension needs a VAE run")
    mu, logvar = np.split(run_in_batches(model, lambda x: torch.cat(method(x), dim=1), images), 2, axis=1)
    return gaussian_kl_per_dimension(mu, logvar)
