"""Every lesson holds in front of a class: at its own settings on its own dataset (the 8x8 digits, or MovieLens
100K for AutoRec), the student's run passes its goal on seeds 0, 1 and 2, in fp32 and in bf16; and a broken run
(one that has learned nothing, or a collapsed one) fails it. `pytest -s` prints the table of what each run
measured. The MovieLens lesson needs the real ratings (AEVIZ_DATA_DIR/ml-100k) and is skipped without them."""

from __future__ import annotations

import math

import pytest

from aeviz.lessons import load_lessons
from aeviz.lessons.check import RATINGS_DATASET, check_run, lesson_dataset
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from tests.conftest import real_data_dir

SEEDS = (0, 1, 2)
PRECISIONS = ("fp32", "bf16")
LESSONS = [lesson for lesson in load_lessons() if "digits" in lesson.datasets]
RATINGS_LESSONS = [lesson for lesson in load_lessons() if lesson.datasets[0] == RATINGS_DATASET]
needs_movielens = pytest.mark.skipif(real_data_dir() is None or not (real_data_dir() / RATINGS_DATASET).is_dir(),
                                     reason="MovieLens 100K is not under AEVIZ_DATA_DIR")


def train_saved(config, dataset, store) -> str:
    trainer = Trainer(config, dataset, store=store)
    for _ in trainer.run():
        pass
    assert trainer.finished.saved_run_id, trainer.finished.message
    return trainer.finished.saved_run_id


def with_reference(lesson, dataset, store, precision: str) -> None:
    """The lesson's reference run, as `lessons prepare` trains it (its own seed), in `precision`."""
    reference = lesson.reference_config(dataset.name)
    if reference is not None:
        reference.precision = precision
        train_saved(reference, dataset, store)


def passes_on_three_seeds(lesson, dataset, precision: str, store) -> None:
    with_reference(lesson, dataset, store, precision)
    results = []
    for seed in SEEDS:
        config = lesson.config(dataset.name)
        config.seed, config.precision = seed, precision
        result = check_run(lesson, train_saved(config, dataset, store), store)
        print(f"\n{lesson.id:14s} seed {seed} {precision}: {result.summary()}")
        results.append(result)
    assert all(result.passed for result in results), [r.summary() for r in results if not r.passed]


def test_every_lesson_is_held():
    """A lesson added on another dataset must join this matrix, not slip past it."""
    assert {lesson.id for lesson in LESSONS + RATINGS_LESSONS} == {lesson.id for lesson in load_lessons()}


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_the_lesson_passes_at_its_own_settings_on_three_seeds(lesson, precision, digits, tmp_path):
    passes_on_three_seeds(lesson, digits, precision, RunStore(tmp_path))


def one_step(config, dataset):
    """`config` with a budget of one optimiser step."""
    config.epochs = 1 / math.ceil(len(dataset.train_images) / config.batch_size)
    return config


def broken_runs(lesson, dataset):
    """Runs of the lesson's variant and k that learned nothing worth passing: one step of training (the mean
    image, or ratings near the initial weights' output), and for a sparsity lesson a code that collapsed: every
    L1 unit silenced by a huge penalty, or every KL unit held at ρ while the decoder draws the mean image (the
    lesson's old settings: Adam at 2e-3 for 60 epochs, where this lesson used to pass)."""
    yield "one step", one_step(lesson.config(dataset.name), dataset)
    collapsed = lesson.config(dataset.name)
    if collapsed.variant == "sparse_l1":
        collapsed.params["l1_weight"] = 1.0
        yield "every unit silenced", collapsed
    elif collapsed.variant == "sparse_kl":
        collapsed.lr, collapsed.epochs = 2e-3, 60.0
        yield "units at ρ and the mean image drawn", collapsed


def fails_when_broken(lesson, dataset, store) -> list:
    with_reference(lesson, dataset, store, "fp32")
    results = []
    for what, config in broken_runs(lesson, dataset):
        result = check_run(lesson, train_saved(config, dataset, store), store)
        print(f"\n{lesson.id:14s} {what}: {result.summary()}")
        assert not result.passed, f"{lesson.id}: a run with {what} passed: {result.summary()}"
        results.append(result)
    return results


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_a_broken_run_fails_the_lesson(lesson, digits, tmp_path):
    fails_when_broken(lesson, digits, RunStore(tmp_path))


# ---------------------------------------------------------------------------- MovieLens 100K (AutoRec)

@pytest.fixture(scope="module")
def ratings():
    return lesson_dataset(RATINGS_DATASET)


@needs_movielens
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("lesson", RATINGS_LESSONS, ids=lambda lesson: lesson.id)
def test_the_ratings_lesson_passes_at_its_own_settings_on_three_seeds(lesson, precision, ratings, tmp_path):
    passes_on_three_seeds(lesson, ratings, precision, RunStore(tmp_path))


@needs_movielens
@pytest.mark.parametrize("lesson", RATINGS_LESSONS, ids=lambda lesson: lesson.id)
def test_a_broken_ratings_run_fails_the_lesson_and_its_own_guard(lesson, ratings, tmp_path):
    """Not only the goal: the check's own condition (learned more than the mean rating) fails a run of one
    step, so a goal made easier later still cannot pass it."""
    [result] = fails_when_broken(lesson, ratings, RunStore(tmp_path))
    [guard] = result.conditions
    assert "learned more than the mean rating" in guard["text"] and not guard["met"], guard
