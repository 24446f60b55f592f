"""Anomaly detection by reconstruction error: an autoencoder trained only on "normal" classes
rebuilds them well and everything else badly, so the per-image error is an anomaly score.
Baseline: PCA fitted on the same normal images, at the same k.

Quality is the ROC AUC: the probability that a random anomalous image scores higher than a random
normal one (ties count half), i.e. the Mann-Whitney U statistic over n_anomalous * n_normal.

One held-out class is a noisy, partial verdict: which method wins depends on the class (on
Fashion-MNIST, PCA wins on ankle boots, whose images are bright and large, and loses on shirts). The
standard summary is leave-one-class-out (`HeldOutSweep`): every class held out in turn, a fresh model
trained on the rest each time, and the mean AUC over the classes, for the autoencoder and for PCA.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from aeviz.training.config import TrainConfig
from aeviz.data.types import Dataset
from aeviz.data.datasets import load_dataset
from aeviz.errors import InvalidConfig
from aeviz.analysis.latent import per_image_mse, reconstruction_errors
from aeviz.analysis.pca import fit_pca
from aeviz.training.events import Finished, Progress, Started
from aeviz.training.trainer import Trainer

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


def normal_class_dataset_named(name: str, normal_classes) -> Dataset:
    """normal_class_dataset of the dataset called `name`, loaded here (a Ray worker's training data)."""
    return normal_class_dataset(load_dataset(name), normal_classes)


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

    normal = normal_class_dataset(dataset, normal_classes)
    return Trainer(anomaly_config(run_config, normal_classes, epochs, max_seconds), normal)


def pca_reconstruction_errors(train_images, images, k: int) -> np.ndarray:
    """(N,) PCA's error per pixel at k, PCA fitted on train_images."""
    pca = fit_pca(train_images)
    flat = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return per_image_mse(flat, pca.reconstruct(images, k))


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


class HeldOutSweep:
    """Leave-one-class-out anomaly detection: each class in `classes` (default: every class) held out in
    turn; each time a fresh model like the run's is trained on the other classes and scored with
    `anomaly_report`. `run()` yields the trainers' Started and Progress events (the fraction and ETA
    of the whole sweep) and ends with one Finished; `stop()` is thread-safe and ends the sweep after the
    current model (which then does not count). `reports` maps each held-out class done to its report.
    `make_trainer(normal_classes)` gives each model's event source (default: anomaly_trainer, here)."""

    def __init__(self, run_config: TrainConfig, dataset: Dataset, epochs: float | None = DEFAULT_ANOMALY_EPOCHS,
                 max_seconds: float | None = None, classes=None, make_trainer=None):
        n = len(dataset.class_names)
        if n < 2:
            raise InvalidConfig("anomaly detection needs at least two classes")
        self.classes = list(range(n)) if classes is None else sorted({int(c) for c in classes})
        if not self.classes or any(c < 0 or c >= n for c in self.classes):
            raise InvalidConfig(f"held-out classes must lie in 0..{n - 1} (got {self.classes})")
        self.run_config, self.dataset = run_config, dataset
        self.epochs, self.max_seconds = epochs, max_seconds
        self.make_trainer = make_trainer or (lambda normal: anomaly_trainer(run_config, dataset, normal, epochs,
                                                                            max_seconds))
        self.reports: dict[int, AnomalyReport] = {}
        self.epochs_trained: dict[int, float] = {}
        self.current: int | None = None
        self.trainer = None
        self.finished = None
        self._stop = threading.Event()

    def normal_classes(self, held_out: int) -> list[int]:
        return [c for c in range(len(self.dataset.class_names)) if c != held_out]

    def stop(self) -> None:
        self._stop.set()
        if self.trainer is not None:
            self.trainer.stop()

    def run(self):
        start, total = time.monotonic(), len(self.classes)
        status, message = "completed", f"{total} models trained, one per held-out class"
        for index, held_out in enumerate(self.classes):
            if self._stop.is_set():
                break
            self.current = held_out
            self.trainer = self.make_trainer(self.normal_classes(held_out))
            if self._stop.is_set():  # stop() raced with the new trainer
                break
            for event in self.trainer.run():
                if isinstance(event, Started) and index == 0:
                    yield event
                elif isinstance(event, Progress):
                    fraction = (index + event.fraction) / total
                    elapsed = time.monotonic() - start
                    eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
                    yield replace(event, fraction=fraction, eta_seconds=eta)
                elif isinstance(event, Finished):
                    if event.status == "stopped" and self._stop.is_set():
                        break
                    if event.status == "diverged":
                        status, message = "diverged", f"held out {self.dataset.class_names[held_out]}: {event.message}"
                        self._stop.set()
                        break
                    self.reports[held_out] = anomaly_report(event.result.model, self.dataset,
                                                            self.normal_classes(held_out))
                    self.epochs_trained[held_out] = float(event.result.metrics.get("epochs", 0.0))
        if status == "completed" and len(self.reports) < total:
            status, message = "stopped", f"stopped by request after {len(self.reports)} of {total} held-out classes"
        self.current = None
        self.finished = Finished(status, message, None, extra={"classes_done": sorted(self.reports)})
        yield self.finished

    def mean_auc(self) -> dict[str, float]:
        """{"autoencoder", "pca"}: mean AUC over the held-out classes done so far."""
        if not self.reports:
            raise InvalidConfig("no held-out class has been scored yet")
        return {method: float(np.mean([r.auc[method] for r in self.reports.values()]))
                for method in ("autoencoder", "pca")}

    def to_json(self) -> dict[str, Any]:
        means = self.mean_auc()
        names = self.dataset.class_names
        per_class = {names[c]: {"auc": r.auc["autoencoder"], "pca_auc": r.auc["pca"],
                                "epochs": self.epochs_trained.get(c)} for c, r in sorted(self.reports.items())}
        wins = sum(r.auc["autoencoder"] > r.auc["pca"] for r in self.reports.values())
        return {"protocol": "each class held out in turn (a fresh model trained on the others each time); "
                            "auc and pca_auc are means over the held-out classes",
                "held_out_classes": sorted(self.reports), "auc": means["autoencoder"], "pca_auc": means["pca"],
                "classes_where_autoencoder_wins": wins, "per_class": per_class,
                "k": next(iter(self.reports.values())).k}
