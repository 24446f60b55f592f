"""Every lesson holds in front of a class: at its own settings on the 8x8 digits, the student's run passes its
goal on seeds 0, 1 and 2, in fp32 and in bf16; and a broken run (one that has learned nothing, or a
collapsed one) fails it. `pytest -s` prints the table of what each run measured."""

from __future__ import annotations

import pytest

from aeviz.lessons import load_lessons
from aeviz.lessons.check import check_run
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer

SEEDS = (0, 1, 2)
PRECISIONS = ("fp32", "bf16")
LESSONS = [lesson for lesson in load_lessons() if "digits" in lesson.datasets]


def train_saved(config, dataset, store) -> str:
    trainer = Trainer(config, dataset, store=store)
    for _ in trainer.run():
        pass
    assert trainer.finished.saved_run_id, trainer.finished.message
    return trainer.finished.saved_run_id


def with_reference(lesson, digits, store, precision: str) -> None:
    """The lesson's reference run, as `lessons prepare` trains it (its own seed), in `precision`."""
    reference = lesson.reference_config("digits")
    if reference is not None:
        reference.precision = precision
        train_saved(reference, digits, store)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_the_lesson_passes_at_its_own_settings_on_three_seeds(lesson, precision, digits, tmp_path):
    store = RunStore(tmp_path)
    with_reference(lesson, digits, store, precision)
    results = []
    for seed in SEEDS:
        config = lesson.config("digits")
        config.seed, config.precision = seed, precision
        result = check_run(lesson, train_saved(config, digits, store), store)
        print(f"\n{lesson.id:14s} seed {seed} {precision}: {result.summary()}")
        results.append(result)
    assert all(result.passed for result in results), [r.summary() for r in results if not r.passed]


def broken_runs(lesson):
    """Runs of the lesson's variant and k that learned nothing worth passing: one step of training (the mean
    image), and for a sparsity lesson a code that collapsed: every L1 unit silenced by a huge penalty, or
    every KL unit held at ρ while the decoder draws the mean image (the lesson's old settings: Adam at
    2e-3 for 60 epochs, where this lesson used to pass)."""
    barely = lesson.config("digits")
    barely.epochs = 1 / 6  # one step of ~1,400 images in batches of 256
    yield "one step", barely
    collapsed = lesson.config("digits")
    if collapsed.variant == "sparse_l1":
        collapsed.params["l1_weight"] = 1.0
        yield "every unit silenced", collapsed
    elif collapsed.variant == "sparse_kl":
        collapsed.lr, collapsed.epochs = 2e-3, 60.0
        yield "units at ρ and the mean image drawn", collapsed


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_a_broken_run_fails_the_lesson(lesson, digits, tmp_path):
    store = RunStore(tmp_path)
    with_reference(lesson, digits, store, "fp32")
    for what, config in broken_runs(lesson):
        result = check_run(lesson, train_saved(config, digits, store), store)
        assert not result.passed, f"{lesson.id}: a run with {what} passed: {result.summary()}"
