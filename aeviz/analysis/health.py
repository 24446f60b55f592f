"""Is a saved run far enough along to show its idea? Plain-language warnings, from its metrics.

An undertrained run looks like a failure of the concept (a contractive run that draws the mean image,
a VAE whose prior samples are black, a linear run far from PCA's subspace); pages show these
messages next to the run, with what to change.
"""

from __future__ import annotations

from typing import Any
from aeviz.data.datasets import load_dataset

from aeviz import facts

ACTIVE_SHARE = 0.5        # a VAE with fewer than half its dimensions active gets a word
# A linear run whose mean principal angle to PCA is above this. The mean, not the largest: where two
# eigenvalues are nearly equal (digits' 8th and 9th components) the last angle stays large long after
# the error matches PCA's (100 epochs at k = 8: angles 0.2° ... 7.4° and 61°, error within 2.4%).
LINEAR_ANGLE_DEG = 10.0


def run_health(run, pca_curve=None) -> list[str]:
    """Messages about how far from converged `run` is (a RunInfo or LoadedRun: its config and metrics);
    empty when nothing stands out. `pca_curve`: PCA's test MSE for k = 0, 1, ... on the run's dataset
    (loaded from the dataset when not given)."""
    config = _config_dict(run.config)
    metrics = run.metrics or {}
    test_mse = metrics.get("test_mse")
    messages: list[str] = []
    if metrics.get("status") == "diverged":
        return ["The loss diverged (it became infinite or NaN): lower the learning rate and train again."]
    if metrics.get("status") == "stopped":
        messages.append(f"This run was stopped after {metrics.get('epochs', 0):.2g} epochs, before its budget "
                        f"ran out: what it shows is a partly trained model.")
    curve = _pca_curve(config, metrics, pca_curve)
    if test_mse is not None and curve is not None and facts.far_from_converged(test_mse, curve):
        messages.append(
            f"Far from converged: {facts.undertrained_words(test_mse, curve)}, so its pictures show an "
            f"unfinished model (blur, or the mean image), not the idea of the variant. Train longer (more "
            f"epochs or seconds) or with a larger learning rate.")
    messages += _variant_messages(config, metrics)
    return messages


def _variant_messages(config: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    k = int(config.get("k") or 0)
    out: list[str] = []
    active = metrics.get("active_dims")
    if active is not None and k and active < ACTIVE_SHARE * k:
        out.append(
            f"Only {active} of the {k} latent dimensions carry information; the other {k - active} have "
            f"collapsed to the prior ({facts.collapse_rule_words()}), so prior samples and traversals along "
            f"them change nothing. Early "
            f"in training, or with a large β, a VAE uses few dimensions: train longer, lower β, or choose a "
            f"smaller k.")
    noisy, noisy_input = metrics.get("noisy_test_mse"), metrics.get("noisy_input_mse")
    if noisy is not None and noisy_input is not None:
        if noisy >= noisy_input:
            out.append(
                f"It does not remove noise yet: its output on noisy test images is as far from the clean ones "
                f"({noisy:.4f}) as the noisy images themselves ({noisy_input:.4f}). Train longer.")
        clean, pca = metrics.get("test_mse"), metrics.get("pca_test_mse")
        if clean is not None and pca is not None and not facts.beats_pca(clean, pca):
            out.append(
                f"On clean test images it is worse than PCA at the same k ({clean:.4f} against {pca:.4f}). That "
                f"is expected of a denoising autoencoder: it was trained to rebuild clean images from corrupted "
                f"ones, never to copy clean ones; compare on noisy inputs, where it scores {noisy:.4f} against "
                f"{noisy_input:.4f} for the noisy input itself.")
    angles = metrics.get("principal_angles_deg")
    if angles and sum(angles) / len(angles) > LINEAR_ANGLE_DEG:
        out.append(
            f"Not yet PCA's subspace: the principal angles to PCA's top {len(angles)} components average "
            f"{sum(angles) / len(angles):.0f}° (largest {max(angles):.0f}°). A linear autoencoder reaches it "
            f"slowly along directions of nearly equal variance: train longer.")
    return out


def _pca_curve(config: dict[str, Any], metrics: dict[str, Any], pca_curve):
    """PCA's test MSE per k on the run's dataset, or None when the run has no PCA baseline."""
    if metrics.get("pca_test_mse") is None:  # no PCA baseline for this model (AutoRec's ratings)
        return None
    if pca_curve is None:
        dataset = config.get("dataset")
        if not dataset:
            return None
        # lazy: torch only when called (this module imports without it)
        from aeviz.analysis.pca import pca_test_mse_curve

        pca_curve = pca_test_mse_curve(load_dataset(dataset))
    return pca_curve


def _config_dict(config) -> dict[str, Any]:
    if isinstance(config, dict):
        return config
    return config.to_json() if hasattr(config, "to_json") else dict(vars(config))
