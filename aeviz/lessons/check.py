"""Checking a student's run against a lesson's goal, and training what a lesson needs ahead of class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from aeviz.analysis.pca import pca_test_mse_curve
from aeviz.errors import AevizError
from aeviz.facts import far_from_converged, undertrained_bar
from aeviz.lessons import Lesson
from aeviz.lessons.metrics import METRICS, TRAINING_METRICS, MetricInput, train_to_end
from aeviz.data.datasets import load_dataset
from aeviz.jobs.reuse import find_reusable
from aeviz.recommender.autorec import evaluation_report, ratings_dataset
from aeviz.recommender.movielens import load_movielens
from aeviz.runs.store import RunStore
from aeviz.training.result import reconstruction_mse
from aeviz.training.trainer import Trainer

RATINGS_DATASET = "ml-100k"  # I-AutoRec's ratings: read by aeviz.recommender.movielens, not aeviz.data.datasets


@dataclass
class CheckResult:
    lesson_id: str
    run_id: str
    passed: bool
    metric: str
    value: float
    comparison: str
    target: float
    goal: str
    numbers: dict[str, float] = field(default_factory=dict)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    reference_run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        """One line: passed or not, with the number and the target."""
        verdict = "passed" if self.passed else "not yet"
        unmet = [c["text"] for c in self.conditions if not c["met"]]
        extra = f"; not met: {'; '.join(unmet)}" if unmet else ""
        return f"{verdict}: {self.metric} = {self.value:.4g} (goal {self.comparison} {self.target:g}){extra}"


def lesson_dataset(name: str):
    """The dataset a lesson trains on: an image dataset, or MovieLens' ratings for I-AutoRec."""
    if name == RATINGS_DATASET:
        return ratings_dataset(load_movielens())

    return load_dataset(name)


def check_trains(lesson: Lesson) -> bool:
    """Whether checking a run for this lesson trains a model (the app then checks in the background)."""
    return lesson.goal.metric in TRAINING_METRICS


def check_run(lesson: Lesson, run_id: str, store=None, dataset_loader: Callable[[str], Any] = lesson_dataset,
              train: Callable[[Any, str], None] = train_to_end) -> CheckResult:
    """Whether run `run_id` reaches the lesson's goal, with the numbers. Raises AevizError (with what to
    do) when the run is not the kind the lesson asks for, or the reference run is not trained yet.
    `train(trainer, what)` runs a model the metric trains (see check_trains; default: to its end, here)."""

    store = store or RunStore()
    run = store.load(run_id)
    config = run.config
    if config.dataset not in lesson.datasets:
        raise AevizError(f"run {run_id} was trained on {config.dataset}; lesson {lesson.id!r} is for "
                         f"{', '.join(lesson.datasets)}")
    wanted = lesson.config(config.dataset)
    for name in ("variant", "k"):
        if getattr(config, name) != getattr(wanted, name):
            raise AevizError(f"run {run_id} has {name} = {getattr(config, name)}; lesson {lesson.id!r} asks for "
                             f"{name} = {getattr(wanted, name)} (open the lesson's setup to get its settings)")
    reference = None
    reference_config = lesson.reference_config(config.dataset)
    if reference_config is not None:
        found = find_reusable(store, reference_config)
        if found is None:
            raise AevizError(f"lesson {lesson.id!r} compares with a {reference_config.variant} run that is not "
                             f"trained on this server yet: run `python -m aeviz lessons prepare {lesson.id} "
                             f"--dataset {config.dataset}` (or press Prepare on the Lessons page)")
        reference = store.load(found.run_id)
    goal = lesson.goal
    dataset = dataset_loader(config.dataset)
    measured = METRICS[goal.metric](MetricInput(run, dataset, goal.options, reference, train))
    conditions = [{"text": text, "met": bool(met)} for text, met in measured.conditions]
    conditions += learned_something(run, dataset)
    passed = goal.reached(measured.value) and all(c["met"] for c in conditions)
    return CheckResult(lesson.id, run_id, passed, goal.metric, float(measured.value), goal.comparison, goal.target,
                       goal.text, measured.numbers, conditions, measured.note,
                       reference.run_id if reference is not None else None)


def learned_something(run, dataset) -> list[dict[str, Any]]:
    """Every lesson's first condition: the run has learned more than the mean. An image run must not be far
    from converged by the one rule of aeviz.facts (its test MSE under PCA's with one component); an I-AutoRec
    run's test RMSE must be under the mean training rating's. A run that learned nothing (the mean image, a
    collapsed code, units all dormant, ratings it never fitted) can meet a goal about its code, or one that
    compares it with other runs; this keeps it from passing."""
    if not run.model.pca_baseline:  # AutoRec's ratings: no pixels, no PCA; the mean rating is the bar
        return [mean_rating_condition(run)]
    mse, curve = reconstruction_mse(run.model, dataset.test_images), pca_test_mse_curve(dataset)
    words = (f"test MSE {mse:.4f} under PCA's with one component ({undertrained_bar(curve):.4f}): the run has "
             f"learned more than the mean image")
    return [{"text": words, "met": not far_from_converged(mse, curve)}]


def mean_rating_condition(run) -> dict[str, Any]:
    """An I-AutoRec run's test RMSE on u1.test under the one of predicting the mean training rating for all."""
    report = evaluation_report(run.model, load_movielens(download_missing=False))
    rmse, mean_rmse = report["test_rmse"], report["baselines"]["global_mean"]
    words = (f"test RMSE {rmse:.3f} under the mean rating's ({mean_rmse:.3f}): the run has learned more than "
             f"the mean rating")
    return {"text": words, "met": rmse < mean_rmse}


@dataclass
class Prepared:
    role: str           # "lesson" or "reference"
    run_id: str
    reused: bool        # found already trained on this server
    config: Any


def prepare_lesson(lesson: Lesson, dataset: str | None = None, store=None, reuse: bool = True,
                   on_trainer: Callable[[Any, str], None] | None = None,
                   dataset_loader: Callable[[str], Any] = lesson_dataset) -> list[Prepared]:
    """Train every run the lesson needs (its own, then its reference), reusing a run already trained with
    the same configuration. `on_trainer(trainer, role)` consumes the trainer's events (default: silently)."""

    store = store or RunStore()
    prepared = []
    for role, config in zip(("lesson", "reference"), lesson.configs(dataset)):
        found = find_reusable(store, config) if reuse else None
        if found is not None:
            prepared.append(Prepared(role, found.run_id, True, config))
            continue
        trainer = Trainer(config, dataset_loader(config.dataset), store=store)
        if on_trainer is not None:
            on_trainer(trainer, role)
        else:
            for _ in trainer.run():
                pass
        finished = trainer.finished
        if finished.saved_run_id is None:
            raise AevizError(f"the {role} run of lesson {lesson.id!r} was not saved: "
                             f"{finished.save_error or finished.message}")
        prepared.append(Prepared(role, finished.saved_run_id, False, config))
    return prepared
