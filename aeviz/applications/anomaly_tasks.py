"""The anomaly protocols as background tasks for the app (aeviz.training.tasks): training on the normal classes,
and every class held out in turn. Each task's result is ready to show, scored in the background."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from aeviz.applications.anomaly import (DEFAULT_ANOMALY_EPOCHS, AnomalyReport, HeldOutSweep, anomaly_config,
                                        anomaly_report, anomaly_trainer, check_normal_classes,
                                        normal_class_dataset_named)
from aeviz.training.config import TrainConfig
from aeviz.data.types import Dataset
from aeviz.jobs.executors import placed_source
from aeviz.training.tasks import TrainerTask


@dataclass
class NormalClassModel:
    """A fresh model trained on the normal classes only, and its scores on the whole test set."""

    normal_classes: list[int]
    report: AnomalyReport
    metrics: dict[str, Any]     # the training's: epochs, train_seconds, train_size, ...
    planned_epochs: float
    where: str = ""             # "on a Ray worker", or why not, when the app has a Ray cluster; else ""


def placed_trainer(cluster, run_config: TrainConfig, dataset: Dataset, normal_classes: list[int],
                   epochs: float | None, max_seconds: float | None) -> tuple[Any, str]:
    """(the event source of one model of the normal classes, where it trains): on `cluster` (the app's Ray
    cluster, aeviz.jobs.executors.JobCluster) when there is one and it takes the job, else here ("" with none)."""
    return placed_source(cluster, anomaly_config(run_config, normal_classes, epochs, max_seconds),
                         partial(anomaly_trainer, run_config, dataset, normal_classes, epochs, max_seconds),
                         partial(normal_class_dataset_named, dataset.name, normal_classes))


def normal_class_task(run_config: TrainConfig, dataset: Dataset, normal_classes,
                      epochs: float | None = DEFAULT_ANOMALY_EPOCHS, max_seconds: float | None = None, cluster=None):
    """`anomaly_trainer` as a background task whose result is a NormalClassModel (scored in the background).
    With `cluster` (aeviz.jobs.executors.JobCluster: the app's Ray cluster) the model trains on a Ray worker, as
    the Train page's jobs do, and here if the cluster cannot take it (the result's `where` says which)."""
    classes = check_normal_classes(dataset, normal_classes)
    placed = {"where": ""}

    def build():
        source, placed["where"] = placed_trainer(cluster, run_config, dataset, classes, epochs, max_seconds)
        return source

    def outcome(finished) -> NormalClassModel | None:
        if finished.result is None:
            return None
        return NormalClassModel(classes, anomaly_report(finished.result.model, dataset, classes),
                                dict(finished.result.metrics), float(epochs or 0.0), placed["where"])

    return TrainerTask(label="model on the normal classes", describe=lambda p: f"loss {p.loss:.4f}",
                       outcome=outcome, build=build)


def held_out_task(run_config: TrainConfig, dataset: Dataset, epochs: float | None = DEFAULT_ANOMALY_EPOCHS,
                  max_seconds: float | None = None, cluster=None):
    """A HeldOutSweep as a background task whose result is its `to_json()` summary (None if no class was done);
    with `cluster`, each of its models trains on a Ray worker as normal_class_task's does."""
    def make_trainer(normal):
        return placed_trainer(cluster, run_config, dataset, normal, epochs, max_seconds)[0]

    sweep = HeldOutSweep(run_config, dataset, epochs, max_seconds, make_trainer=make_trainer)
    names = dataset.class_names

    def describe(progress) -> str:  # runs in the task's thread, which is the one that moves sweep.current
        held = sweep.current
        return f"holding out {names[held]} · loss {progress.loss:.4f}" if held is not None else ""

    return TrainerTask(sweep, f"{len(names)} models, one per held-out class", describe=describe,
                       outcome=lambda finished: sweep.to_json() if sweep.reports else None)
