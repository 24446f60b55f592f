"""One rule per fact: what the app says about a run, decided in one place.

Pages, lessons, the health notes, the HTML report and the CLI all ask here whether a VAE's latent
dimension has collapsed, whether a hidden unit is active or dormant, whether a run beats PCA and
whether it is far from converged. Each rule has one threshold, and the words that state it are made
from the same constant, so two places can never disagree about the same run or quote different
numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# ---------------------------------------------------------------------------- a VAE's collapsed dimensions

# nats: a latent dimension whose KL(q(z_j|x) ‖ N(0, 1)), averaged over test images, is below this carries
# (almost) no information about the image: its posterior is the prior whatever the image. 0.01 nats is
# 0.014 bits. The mean KL bounds the information the dimension carries from above (it is the mutual
# information I(x; z_j) plus KL(q(z_j) ‖ p(z_j)); Hoffman & Johnson 2016), so a dimension below it carries less.
COLLAPSED_KL_NATS = 0.01


def collapsed_mask(kl_per_dim) -> np.ndarray:
    """(k,) boolean: True where a latent dimension has collapsed (mean KL below COLLAPSED_KL_NATS)."""
    return np.asarray(kl_per_dim, dtype=np.float64) < COLLAPSED_KL_NATS


def collapsed_dimensions(kl_per_dim) -> list[int]:
    """The indices of the collapsed latent dimensions."""
    return [int(i) for i in np.flatnonzero(collapsed_mask(kl_per_dim))]


def used_dimensions(kl_per_dim) -> int:
    """How many latent dimensions carry information (the others have collapsed)."""
    return int((~collapsed_mask(kl_per_dim)).sum())


def collapse_rule_words() -> str:
    """The rule in words: 'mean KL below 0.01 nats'."""
    return f"mean KL below {COLLAPSED_KL_NATS:g} nats"


# ---------------------------------------------------------------------------- active and dormant units

# A hidden unit is active on an image when the magnitude of its activation is above this; a unit active on
# no test image is dormant. The Sparsity page's slider starts here and may move it; everything else uses it.
ACTIVE_THRESHOLD = 0.05


def active_mask(activations, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """(N, units) boolean: unit j active on image i (|a_ij| > threshold)."""
    return np.abs(_array(activations)) > threshold


def dormant_mask(activations, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """(units,) boolean: never active on any of the images."""
    return ~active_mask(activations, threshold).any(axis=0)


def active_rule_words(threshold: float = ACTIVE_THRESHOLD) -> str:
    return f"|activation| above {threshold:g}"


def code_sparsity(codes, threshold: float = ACTIVE_THRESHOLD) -> dict[str, Any]:
    """How sparse codes (N, k) are, by the rule above: the mean share of units active per image, the mean
    number of active units per image, and how many units are dormant (active on no image)."""
    active = active_mask(codes, threshold)
    return {"active_fraction": float(active.mean()), "active_units_per_image": float(active.sum(axis=1).mean()),
            "dormant_units": int((~active.any(axis=0)).sum())}


# ---------------------------------------------------------------------------- beating PCA

def beats_pca(test_mse: float, pca_mse: float) -> bool:
    """A run beats PCA when its test MSE is strictly below PCA's (at the k the caller compares with)."""
    return float(test_mse) < float(pca_mse)


def pca_verdict(test_mse: float, pca_mse: float) -> str:
    """'beats' or 'does not beat'."""
    return "beats" if beats_pca(test_mse, pca_mse) else "does not beat"


# ---------------------------------------------------------------------------- far from converged

# A run is far from converged (undertrained) when its test MSE is worse than PCA's with this many components:
# one linear direction does better than the whole model, so its pictures show blur or the mean image.
UNDERTRAINED_PCA_K = 1


def far_from_converged(test_mse: float, pca_curve) -> bool:
    """Whether a run's test MSE is worse than PCA's with UNDERTRAINED_PCA_K components (`pca_curve[k]`:
    PCA's test MSE with k components, as aeviz.analysis.pca.pca_test_mse_curve gives it)."""
    return float(test_mse) > undertrained_bar(pca_curve)


def undertrained_bar(pca_curve) -> float:
    """PCA's test MSE with UNDERTRAINED_PCA_K components: the error a converged run must be under."""
    return float(pca_curve[min(UNDERTRAINED_PCA_K, len(pca_curve) - 1)])


def undertrained_words(test_mse: float, pca_curve) -> str:
    """'its test MSE (0.0500) is worse than PCA with a single component (0.0400)'."""
    components = "a single component" if UNDERTRAINED_PCA_K == 1 else f"{UNDERTRAINED_PCA_K} components"
    return (f"its test MSE ({float(test_mse):.4f}) is worse than PCA with {components} "
            f"({undertrained_bar(pca_curve):.4f})")


# ---------------------------------------------------------------------------- lesson texts

def placeholders() -> dict[str, str]:
    """The numbers lesson files may quote as {name}: a lesson's words take them from the rules here."""
    return {"collapsed_kl_nats": f"{COLLAPSED_KL_NATS:g}", "active_threshold": f"{ACTIVE_THRESHOLD:g}",
            "undertrained_pca_k": str(UNDERTRAINED_PCA_K)}


def _array(values) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().float().cpu().numpy()
    return np.asarray(values)
