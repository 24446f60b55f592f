"""Anomaly detection by reconstruction error: an autoencoder trained only on "normal" classes
rebuilds them well and everything else badly, so the per-image error is an anomaly score.
Baseline: PCA fitted on the same normal images, at the same k.

Quality is the ROC AUC: the probability that a random anomalous image scores higher than a random
normal one (ties count half), i.e. the Mann-Whitney U statistic over n_anomalous * n_normal.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from aeviz.config import TrainConfig
from aeviz.data import Dataset
from aeviz.errors import InvalidConfig
from aeviz.pca import fit_pca

EVAL_BATCH = 2048
DEFAULT_ANOMALY_EPOCHS = 3.0


def check_normal_classes(dataset: Dataset, normal_classes) -> list[int]:
    classes = sorted({int(c) for c in normal_classes})
    n = len(dataset.class_names)
    if not classes:
        raise InvalidConfig("choose at least one normal class")
    if any(c < 0 or c >= n for c in classes):
        raise InvalidConfig(f"normal classes must lie in 0..{n - 1} (got {classes})")
    if len(classes) == n:
        raise InvalidConfig("leave at least one class out of the normal ones: those are the anomalies")
    return classes


def normal_class_dataset(dataset: Dataset, normal_classes) -> Dataset:
    """The dataset with only the normal classes in its train split; the test split is unchanged."""
    classes = check_normal_classes(dataset, normal_classes)
    keep = torch.isin(dataset.train_labels, torch.tensor(classes))
    names = ", ".join(dataset.class_names[c] for c in classes)
    # A distinct name keeps per-dataset caches (PCA) apart from the full dataset's.
    return Dataset(f"{dataset.name}[normal:{','.join(map(str, classes))}]", f"{dataset.title} (normal: {names})",
                   dataset.train_images[keep], dataset.train_labels[keep], dataset.test_images,
                   dataset.test_labels, dataset.class_names, dataset.source, list(dataset.notes))


def anomaly_config(run_config: TrainConfig, normal_classes, epochs: float | None = DEFAULT_ANOMALY_EPOCHS,
                   max_seconds: float | None = None) -> TrainConfig:
    """The run's configuration (variant, k, settings) with a short budget, for the normal classes."""
    config = copy.deepcopy(run_config)
    config.epochs, config.max_seconds = epochs, max_seconds
    config.tags = {**config.tags, "anomaly_normal_classes": sorted(int(c) for c in normal_classes)}
    return config


def anomaly_trainer(run_config: TrainConfig, dataset: Dataset, normal_classes,
                    epochs: float | None = DEFAULT_ANOMALY_EPOCHS, max_seconds: float | None = None):
    """A Trainer (not saved) for a fresh model like the run's, on the normal classes only."""
    from aeviz.train import Trainer

    normal = normal_class_dataset(dataset, normal_classes)
    return Trainer(anomaly_config(run_config, normal_classes, epochs, max_seconds), normal)


@torch.no_grad()
def reconstruction_errors(model, images: torch.Tensor) -> np.ndarray:
    """(N,) mean squared error per pixel of each image's reconstruction."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), EVAL_BATCH):
        batch = images[start:start + EVAL_BATCH].to(device)
        out.append(((model(batch) - batch) ** 2).flatten(1).mean(dim=1).float().cpu())
    model.train(was_training)
    return torch.cat(out).numpy().astype(np.float64)


def pca_reconstruction_errors(train_images, images, k: int) -> np.ndarray:
    """(N,) PCA's error per pixel at k, PCA fitted on train_images."""
    pca = fit_pca(train_images)
    flat = images.detach().cpu().numpy().reshape(len(images), -1) if isinstance(images, torch.Tensor) \
        else np.asarray(images).reshape(len(images), -1)
    return ((pca.reconstruct(images, k) - flat) ** 2).mean(axis=1).astype(np.float64)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of values, ties sharing the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # boundaries of runs of equal values
    starts = np.concatenate([[0], np.nonzero(np.diff(sorted_values))[0] + 1])
    ends = np.concatenate([starts[1:], [len(values)]])
    ranks = np.empty(len(values), dtype=np.float64)
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    return ranks


def roc_auc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Area under the ROC curve (anomalies positive, higher score = more anomalous)."""
    positive = np.asarray(is_anomaly, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise InvalidConfig("the AUC needs both normal and anomalous test images")
    ranks = average_ranks(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_curve(scores: np.ndarray, is_anomaly: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, threshold) at every distinct score, from (0, 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(is_anomaly, dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    s, p = scores[order], positive[order]
    last_of_run = np.concatenate([np.nonzero(np.diff(s))[0], [len(s) - 1]])
    tp = np.cumsum(p)[last_of_run]
    fp = np.cumsum(~p)[last_of_run]
    tpr = np.concatenate([[0.0], tp / max(p.sum(), 1)])
    fpr = np.concatenate([[0.0], fp / max((~p).sum(), 1)])
    return fpr, tpr, np.concatenate([[np.inf], s[last_of_run]])


@dataclass
class AnomalyReport:
    normal_classes: list[int]
    is_anomaly: np.ndarray            # (N,) over the test set
    scores: dict[str, np.ndarray]     # "autoencoder", "pca": (N,) error per pixel
    auc: dict[str, float]
    k: int
    notes: list[str] = field(default_factory=list)

    def most_anomalous(self, n: int = 16, method: str = "autoencoder") -> np.ndarray:
        """Test indices of the n highest scores."""
        return np.argsort(-self.scores[method], kind="stable")[:n]

    def to_json(self) -> dict[str, Any]:
        return {"normal_classes": self.normal_classes, "k": self.k, "auc": self.auc["autoencoder"],
                "pca_auc": self.auc["pca"], "anomalous_test_images": int(self.is_anomaly.sum()),
                "normal_test_images": int((~self.is_anomaly).sum()), "notes": self.notes}


def anomaly_report(model, dataset: Dataset, normal_classes) -> AnomalyReport:
    """Scores of every test image by a model trained on the normal classes, and by PCA fitted on the
    same normal train images at the model's k."""
    classes = check_normal_classes(dataset, normal_classes)
    normal = normal_class_dataset(dataset, classes)
    is_anomaly = ~np.isin(dataset.test_labels.numpy(), classes)
    scores = {"autoencoder": reconstruction_errors(model, dataset.test_images),
              "pca": pca_reconstruction_errors(normal.train_images, dataset.test_images, model.k)}
    auc = {name: roc_auc(s, is_anomaly) for name, s in scores.items()}
    return AnomalyReport(classes, is_anomaly, scores, auc, model.k)
