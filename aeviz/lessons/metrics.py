"""The numbers a lesson's goal is checked on, each computed from the student's own run with the
library's functions (PCA, principal angles, sparsity statistics, noise sweeps, KL per dimension,
the BCE split, AutoRec's baselines). A metric takes a MetricInput and returns a Measurement.

A metric that trains a model (TRAINING_METRICS: the anomaly lesson's fresh model) runs it through
`MetricInput.train`, so that whoever checks decides how: the command line runs it to its end here, the app
in a background task that waits for a training slot, reports progress and can be stopped
(aeviz.lessons.check_task).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from aeviz import facts
from aeviz.errors import AevizError
from aeviz.analysis.comparison import linear_run_angles
from aeviz.analysis.information import pixel_bce_split, vae_kl_per_dimension
from aeviz.analysis.noise_robustness import model_reconstructor, noise_sweep
from aeviz.analysis.pca import dataset_pca, pca_test_mse
from aeviz.analysis.sparsity import DEFAULT_THRESHOLD, activation_stats
from aeviz.recommender.autorec import evaluation_report
from aeviz.recommender.movielens import load_movielens
from aeviz.training.result import reconstruction_mse
from aeviz.applications.anomaly import anomaly_report, anomaly_trainer


def train_to_end(trainer, what: str = "") -> None:
    """Run a trainer a metric needs to its end, silently (`what` it trains, in words, is for a progress line)."""
    for _ in trainer.run():
        pass


@dataclass
class MetricInput:
    run: Any                      # runs.LoadedRun: the student's run
    dataset: Any                  # data.Dataset the run was trained on
    options: dict[str, Any]       # the goal's options
    reference: Any = None         # runs.LoadedRun the goal compares against, if it needs one
    train: Callable[[Any, str], None] = train_to_end  # runs a Trainer the metric needs: train(trainer, what)


@dataclass
class Measurement:
    value: float                                          # compared with the goal's target
    numbers: dict[str, float] = field(default_factory=dict)  # what else the student should see
    conditions: list[tuple[str, bool]] = field(default_factory=list)  # further requirements: (words, met)
    note: str = ""


def test_mse(run, dataset) -> float:
    """The run's test MSE per pixel, recomputed from its weights on the dataset's test split."""

    return reconstruction_mse(run.model, dataset.test_images)


def pca_mse(dataset, k: int) -> float:
    return pca_test_mse(dataset, k)


def error_within(numbers: dict[str, float], m: MetricInput) -> list[tuple[str, bool]]:
    """The condition 'test MSE at most max_error_ratio x PCA's with pca_k components' (options; pca_k
    defaults to the run's k); none when the goal sets no max_error_ratio."""
    max_ratio = m.options.get("max_error_ratio")
    if max_ratio is None:
        return []
    k = int(m.options.get("pca_k", m.run.config.k))
    mse, pca = test_mse(m.run, m.dataset), pca_mse(m.dataset, k)
    numbers.update({"test_mse": mse, f"pca_test_mse_k{k}": pca, "error_ratio_to_pca": mse / pca})
    return [(f"test MSE {mse:.4f} at most {max_ratio:g} x PCA's {pca:.4f} with {k} components",
             mse <= max_ratio * pca)]


def error_ratio_to_pca(m: MetricInput) -> Measurement:
    """Test MSE divided by PCA's test MSE with as many components as the run's k."""
    mse, pca = test_mse(m.run, m.dataset), pca_mse(m.dataset, m.run.config.k)
    return Measurement(mse / pca, {"test_mse": mse, "pca_test_mse": pca})


def error_ratio_to_pca_at_active_units(m: MetricInput) -> Measurement:
    """Test MSE divided by PCA's with as many components as the units each image may use (k-sparse)."""
    active = int(m.run.model.params["active_units"])
    mse, pca = test_mse(m.run, m.dataset), pca_mse(m.dataset, active)
    return Measurement(mse / pca, {"test_mse": mse, "active_units": active, f"pca_test_mse_k{active}": pca})


def largest_principal_angle(m: MetricInput) -> Measurement:
    """Degrees between the linear run's decoder subspace and PCA's top-k subspace (the largest angle)."""

    try:
        angles = linear_run_angles(m.run.model, dataset_pca(m.dataset))
    except ValueError as exc:
        raise AevizError(f"principal angles need a linear run: {exc}") from None
    return Measurement(float(angles.max()), {"smallest_angle": float(angles.min()),
                                             "median_angle": float(np.median(angles))})


def mean_active_fraction(m: MetricInput) -> Measurement:
    """Average share of code units active (|a| > threshold) per test image."""

    stats = activation_stats(m.run.model, m.dataset.test_images)  # the one rule for "active" (aeviz.facts)
    numbers = {"mean_active_units": float(stats.active_per_image.mean()), "units": stats.units,
               "dormant_units": int(stats.dormant.sum())}
    conditions = error_within(numbers, m)
    return Measurement(stats.mean_active_fraction, numbers, conditions)


def largest_rho_gap(m: MetricInput) -> Measurement:
    """The largest |ρ̂_j − ρ| over code units: how far the unit furthest from the target ρ is."""

    rho = float(m.run.model.params["sparsity_target"])
    means = activation_stats(m.run.model, m.dataset.test_images).unit_means
    gaps = np.abs(means - rho)
    numbers = {"rho": rho, "mean_rho_hat": float(means.mean()), "lowest_rho_hat": float(means.min()),
               "highest_rho_hat": float(means.max())}
    conditions = error_within(numbers, m)
    return Measurement(float(gaps.max()), numbers, conditions)


def noisy_error_ratio_to_reference(m: MetricInput) -> Measurement:
    """Error on noisy test images (against the clean ones) of the run, divided by the reference run's."""

    kind, level = m.options.get("noise", "gaussian"), float(m.options.get("level", 0.5))
    images = m.dataset.test_images
    mine = float(noise_sweep(model_reconstructor(m.run.model), images, kind, [level])[0])
    theirs = float(noise_sweep(model_reconstructor(m.reference.model), images, kind, [level])[0])
    return Measurement(mine / theirs, {"noisy_test_mse": mine, "reference_noisy_test_mse": theirs,
                                       "noise_level": level}, note=f"{kind} noise at level {level:g}")


def jacobian_ratio_to_reference(m: MetricInput) -> Measurement:
    """The encoder's mean ‖∂h/∂x‖²_F on test images, divided by the reference run's."""
    import torch

    sample = m.dataset.test_images[:512]

    def penalty(model) -> float:
        with torch.enable_grad():
            return float(model.contraction_penalty(sample).detach())

    mine, theirs = penalty(m.run.model), penalty(m.reference.model)
    numbers = {"jacobian_frobenius_sq": mine, "reference_jacobian_frobenius_sq": theirs}
    conditions = []
    most = m.options.get("max_error_ratio_to_reference")
    if most is not None:
        error, reference_error = test_mse(m.run, m.dataset), test_mse(m.reference, m.dataset)
        numbers.update({"test_mse": error, "reference_test_mse": reference_error})
        conditions.append((f"test MSE {error:.4f} at most {most:g} x the reference run's {reference_error:.4f}",
                           error <= most * reference_error))
    return Measurement(mine / theirs, numbers, conditions)


def collapsed_dimensions(m: MetricInput) -> Measurement:
    """How many latent dimensions of a VAE have collapsed by the one rule of aeviz.facts (mean KL below
    COLLAPSED_KL_NATS: their posterior is the prior whatever the image); the note names them."""

    kl = vae_kl_per_dimension(m.run.model, m.dataset.test_images)
    collapsed = facts.collapsed_dimensions(kl)
    numbers = {"kl_total_nats": float(kl.sum()), "collapsed_below_nats": facts.COLLAPSED_KL_NATS,
               "dimensions_used": facts.used_dimensions(kl)}
    return Measurement(float(len(collapsed)), numbers, note=f"collapsed dimensions ({facts.collapse_rule_words()}): "
                       + (", ".join(str(i) for i in collapsed) if collapsed else "none"))


def kl_per_pixel(m: MetricInput) -> Measurement:
    """The KL part of the run's binary cross-entropy, nats per pixel (BCE = H(data) + KL)."""

    split = pixel_bce_split(m.run.model, m.dataset.test_images)
    return Measurement(split.mean_kl, {"bce": split.mean_bce, "data_entropy": split.mean_data_entropy})


def rmse_ratio_to_biases(m: MetricInput) -> Measurement:
    """AutoRec's test RMSE on u1.test divided by the user + item biases baseline's."""

    report = evaluation_report(m.run.model, load_movielens(download_missing=False))
    biases = report["baselines"]["user_item_biases"]
    return Measurement(report["test_rmse"] / biases, {"test_rmse": report["test_rmse"], "biases_rmse": biases})


def anomaly_auc_margin_over_pca(m: MetricInput) -> Measurement:
    """ROC AUC of reconstruction error as an anomaly score, minus PCA's: a fresh model like the run's
    (same variant, k, settings, budget and seed) is trained on every class but `held_out`, whose test
    images are then the anomalies; PCA is fitted on the same images at the same k."""

    held_out = int(m.options.get("held_out", 0))
    name = m.dataset.class_names[held_out]
    normal = [c for c in range(len(m.dataset.class_names)) if c != held_out]
    config = m.run.config
    trainer = anomaly_trainer(config, m.dataset, normal, epochs=config.epochs, max_seconds=config.max_seconds)
    m.train(trainer, f"a model like yours on every class but {name}")
    finished = trainer.finished
    if finished is None or finished.result is None:
        raise AevizError(f"the model on every class but {name} did not train: "
                         f"{finished.message if finished is not None else 'it ended without finishing'}")
    report = anomaly_report(finished.result.model, m.dataset, normal)
    auc, pca = report.auc["autoencoder"], report.auc["pca"]
    return Measurement(auc - pca, {"auc": auc, "pca_auc": pca}, note=f"anomalies: the test images of class {name}")


METRICS: dict[str, Callable[[MetricInput], Measurement]] = {
    "error_ratio_to_pca": error_ratio_to_pca,
    "error_ratio_to_pca_at_active_units": error_ratio_to_pca_at_active_units,
    "largest_principal_angle": largest_principal_angle,
    "mean_active_fraction": mean_active_fraction,
    "largest_rho_gap": largest_rho_gap,
    "noisy_error_ratio_to_reference": noisy_error_ratio_to_reference,
    "jacobian_ratio_to_reference": jacobian_ratio_to_reference,
    "collapsed_dimensions": collapsed_dimensions,
    "kl_per_pixel": kl_per_pixel,
    "rmse_ratio_to_biases": rmse_ratio_to_biases,
    "anomaly_auc_margin_over_pca": anomaly_auc_margin_over_pca,
}

# The metrics that train a model, which the app checks in a background task holding a training slot (the others
# measure the run as it is: a forward pass over the test images, PCA of the dataset, AutoRec's baselines).
TRAINING_METRICS = frozenset({"anomaly_auc_margin_over_pca"})
