"""How sparse a trained autoencoder's hidden code is, measured over the test set.

The activations are those a sparsity penalty acts on (`model.hidden_activations`, the code units
unless a variant says otherwise). A unit is *active* on an image when its activation's magnitude
is above a small threshold; a unit that is never active on any test image is *dormant*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from aeviz import facts
from aeviz.errors import AevizError
from aeviz.variants import get_variant, variants_where
from aeviz.analysis.latent import run_in_batches

DEFAULT_THRESHOLD = facts.ACTIVE_THRESHOLD  # the one rule for "active" (aeviz.facts)


@dataclass
class ActivationStats:
    activations: np.ndarray       # (N, units) hidden activations of the test images
    threshold: float              # |a| above this counts as active

    @property
    def units(self) -> int:
        return self.activations.shape[1]

    @property
    def unit_means(self) -> np.ndarray:
        """rho_hat_j: each unit's mean activation over the images (units,)."""
        return self.activations.mean(axis=0)

    @property
    def active(self) -> np.ndarray:
        """(N, units) boolean: unit j active on image i."""
        return facts.active_mask(self.activations, self.threshold)

    @property
    def dormant(self) -> np.ndarray:
        """(units,) boolean: never active on any image."""
        return ~self.active.any(axis=0)

    @property
    def dormant_fraction(self) -> float:
        return float(self.dormant.mean())

    @property
    def active_per_image(self) -> np.ndarray:
        """(N,) number of active units on each image."""
        return self.active.sum(axis=1)

    @property
    def mean_activation(self) -> float:
        """Mean of all activations (the sparsity sweep's x axis)."""
        return float(self.activations.mean())

    @property
    def mean_active_fraction(self) -> float:
        """Average share of units active on an image."""
        return float(self.active.mean())

    def summary(self) -> dict[str, float]:
        return {
            "units": self.units,
            "mean_activation": self.mean_activation,
            "dormant_fraction": self.dormant_fraction,
            "mean_active_units": float(self.active_per_image.mean()),
            "mean_active_fraction": self.mean_active_fraction,
        }


def hidden_activations(model, images: torch.Tensor) -> np.ndarray:
    """(N, units) float32 hidden activations of `images`, computed in eval mode, in batches."""

    if len(images) == 0:
        raise AevizError("no images to measure activations on")
    return run_in_batches(model, model.hidden_activations, images).reshape(len(images), -1)


def activation_stats(model, images: torch.Tensor, threshold: float = DEFAULT_THRESHOLD) -> ActivationStats:
    """Activation statistics of a model's hidden units over `images` (usually the test split)."""
    if not threshold >= 0:
        raise AevizError(f"the activity threshold must be a non-negative number (got {threshold!r})")
    return ActivationStats(hidden_activations(model, images), float(threshold))


def feature_images(model) -> tuple[np.ndarray, np.ndarray] | None:
    """Each hidden unit's encoder weights and decoder weights as images: two (units, H, W) arrays.

    None when the model's first and last layers are not linear maps from and to the image (a
    convolutional model, say). Multi-channel inputs are averaged over channels.
    """
    pair = model.feature_images()
    if pair is None:
        return None
    encoder, decoder = (t.detach().float().cpu().numpy() for t in pair)
    return encoder.mean(axis=1), decoder.mean(axis=1)


def order_units(stats: ActivationStats, by: str = "mean") -> np.ndarray:
    """Unit indices ordered for display: by mean |activation| (most used first), or as they are."""
    if by == "index":
        return np.arange(stats.units)
    return np.argsort(-np.abs(stats.activations).mean(axis=0), kind="stable")


# ---------------------------------------------------------------- the sparsity sweep
def sparse_variants() -> tuple[str, ...]:
    """The variants that declare a sparsity knob (a penalty weight, or the number of units kept)."""

    return variants_where("sparsity_knob")


def sparsity_knob(variant: str) -> str:
    """The declared setting that sets how sparse `variant`'s code is."""

    knob = get_variant(variant).sparsity_knob
    if not knob:
        raise AevizError(f"the sparsity sweep works on {', '.join(sparse_variants())} (got {variant!r})")
    return knob


def sparsity_point_row(point, model, images: torch.Tensor, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """One row of the sparsity sweep's figure: the point's knob value, test MSE and measured sparsity."""
    knob = sparsity_knob(point.variant)
    stats = activation_stats(model, images, threshold)
    return {"variant": point.variant, knob: point.values[knob], "test_mse": point.metrics.get("test_mse"),
            "run_id": point.run_id, **stats.summary()}


# ---------------------------------------------------------------- Makhzani & Frey's trend, measured
def locality_window(side: int) -> int:
    """The side of the patch a filter's locality is measured in: a third of the image's side (at least 2)."""
    return max(2, round(side / 3))


def locality_index(filters: np.ndarray, window: int | None = None) -> np.ndarray:
    """Per filter (n, H, W): the share of its energy (squared weights) inside its densest window x window
    patch. 1 for a filter whose weight sits in one patch (a local stroke); window²/(H·W) for one spread evenly
    over the image (a global template)."""
    filters = np.asarray(filters, dtype=np.float64)
    energy = filters ** 2
    n, h, w = energy.shape
    side = window or locality_window(min(h, w))
    total = energy.reshape(n, -1).sum(axis=1)
    padded = np.pad(energy, ((0, 0), (1, 0), (1, 0))).cumsum(axis=1).cumsum(axis=2)  # integral images
    patches = (padded[:, side:, side:] - padded[:, :-side, side:] - padded[:, side:, :-side]
               + padded[:, :-side, :-side])
    best = patches.reshape(n, -1).max(axis=1)
    return np.where(total > 0, best / np.where(total > 0, total, 1.0), 0.0)


def locality_trend_words(points: list[tuple[int, float]], side: int, final: bool = True) -> str:
    """What the measured locality per number of active units shows (points: (active units, mean locality
    index)), in words that follow the numbers: Makhzani & Frey's finding (fewer active units, more global
    filters) only when the index falls at every step as the active units fall. Not `final` (runs still
    training): the numbers so far, no verdict."""
    points = sorted(points, key=lambda p: -p[0])
    window = locality_window(side)
    spread = window * window / (side * side)
    numbers = ", ".join(f"{active} active: {value:.2f}" for active, value in points)
    head = (f"Locality index (the share of a filter's energy in its densest {window}x{window} patch; "
            f"{spread:.2f} for a filter spread evenly over the image, 1 for one inside a single patch), the "
            f"mean over the filters shown: {numbers}. ")
    if len(points) < 2 or not final:
        return head + ("" if final else "The verdict comes when every run has trained.")
    values = [value for _, value in points]
    falling = all(later < earlier for earlier, later in zip(values, values[1:]))
    if falling:
        return head + ("It falls at every step as fewer units are active: the filters grow more global, as in "
                       "Makhzani & Frey's figure.")
    return head + ("It does not fall steadily as fewer units are active, so these runs do not show the paper's "
                   "trend from local strokes to global templates (on MNIST with 1000 units it did): on this "
                   "dataset, code width and budget, read the filters for what they are.")
