"""Lessons: every declaration is valid, a check passes on a run that reaches the goal and fails on one
that does not, and a configuration already trained is reused instead of trained again."""

from __future__ import annotations

import pytest

from aeviz.training.config import TrainConfig
from aeviz.data.types import SPECS
from aeviz.errors import AevizError, InvalidConfig
from aeviz.lessons import COMPARISONS, load_lessons, get_lesson, parse_lesson
from aeviz.lessons.check import check_run, prepare_lesson
from aeviz.lessons.metrics import METRICS
from aeviz.jobs.reuse import find_reusable
from aeviz.training.fingerprint import config_fingerprint
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from tests.conftest import ROOT

# The concepts the issue asks the lessons to cover, each by at least one lesson's concepts list.
COVERED = ["bottleneck", "PCA", "linear autoencoder", "L1 penalty", "KL divergence", "dormant units",
           "k-sparse autoencoder", "denoising autoencoder", "noise level", "contractive autoencoder",
           "overcomplete", "identity", "variational autoencoder", "surprise", "entropy", "cross-entropy",
           "collaborative filtering", "masked loss", "anomaly detection"]


def test_at_least_ten_lessons_each_valid_against_the_variants_ranges():
    lessons = load_lessons()
    assert len(lessons) >= 10
    assert len({lesson.id for lesson in lessons}) == len(lessons)
    for lesson in lessons:
        assert lesson.question and lesson.answer and len(lesson.hints) >= 2, lesson.id
        assert (ROOT / "app_pages" / lesson.page).is_file(), (lesson.id, lesson.page)
        assert lesson.goal.metric in METRICS and lesson.goal.comparison in COMPARISONS
        for dataset in lesson.datasets:
            for config in lesson.configs(dataset):
                assert config.epochs or config.max_seconds, lesson.id
                if dataset in SPECS:
                    config.validate(SPECS[dataset].input_size)  # raises on anything out of range
                else:  # MovieLens ratings: the model's own declaration still checks every setting
                    from aeviz.variants import get_variant

                    get_variant(config.variant).parse_params(config.params)
    concepts = {concept for lesson in lessons for concept in lesson.concepts}
    assert not [c for c in COVERED if c not in concepts]


def test_a_lesson_file_with_a_bad_field_is_refused_with_its_name():
    good = {"id": "x", "title": "t", "concepts": ["c"], "page": "train.py", "question": "q", "hints": ["h"],
            "answer": "a", "goal": {"metric": "error_ratio_to_pca", "comparison": "<", "target": 1, "text": "t"},
            "run": {"variant": "plain", "k": 8, "budget": {"digits": {"epochs": 2}}}}
    assert parse_lesson(good).config().k == 8
    with pytest.raises(InvalidConfig, match="unknown goal metric"):
        parse_lesson({**good, "goal": {**good["goal"], "metric": "vibes"}})
    with pytest.raises(InvalidConfig, match="needs epochs or max_seconds"):
        parse_lesson({**good, "run": {"variant": "plain", "k": 8, "budget": {"digits": {}}}})
    with pytest.raises(InvalidConfig, match="prepared for digits"):
        parse_lesson(good).config("mnist")


def train_saved(config: TrainConfig, dataset, store) -> str:
    trainer = Trainer(config, dataset, store=store)
    for _ in trainer.run():
        pass
    return trainer.finished.saved_run_id


def test_bottleneck_check_passes_on_the_prepared_run_and_fails_on_a_two_epoch_one(digits, tmp_path):
    store = RunStore(tmp_path)
    lesson = get_lesson("bottleneck")
    [prepared] = prepare_lesson(lesson, store=store, dataset_loader=lambda name: digits)
    assert not prepared.reused
    passed = check_run(lesson, prepared.run_id, store, dataset_loader=lambda name: digits)
    assert passed.passed and passed.value < 1.0
    assert passed.numbers["test_mse"] < passed.numbers["pca_test_mse"]

    short = lesson.config()
    short.epochs = 2
    failed = check_run(lesson, train_saved(short, digits, store), store, dataset_loader=lambda name: digits)
    assert not failed.passed and failed.value > 1.0
    assert "not yet" in failed.summary()

    # The same lesson prepared again trains nothing: its run is found by fingerprint.
    [again] = prepare_lesson(lesson, store=store, dataset_loader=lambda name: digits)
    assert again.reused and again.run_id == prepared.run_id


def test_a_check_refuses_a_run_of_another_variant_or_k(digits, tmp_path):
    store = RunStore(tmp_path)
    config = TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, params={"hidden": [16]})
    run_id = train_saved(config, digits, store)
    with pytest.raises(AevizError, match="asks for k = 8"):
        check_run(get_lesson("bottleneck"), run_id, store, dataset_loader=lambda name: digits)
    with pytest.raises(AevizError, match="asks for variant = linear"):
        check_run(get_lesson("linear-pca"), run_id, store, dataset_loader=lambda name: digits)


def test_a_check_that_needs_a_reference_says_how_to_train_it(digits, tmp_path):
    store = RunStore(tmp_path)
    lesson = get_lesson("denoising")
    config = lesson.config()
    config.epochs, config.params = 1, {**config.params, "hidden": [16]}
    run_id = train_saved(config, digits, store)
    with pytest.raises(AevizError, match="lessons prepare denoising"):
        check_run(lesson, run_id, store, dataset_loader=lambda name: digits)


def test_fingerprint_is_the_same_for_defaults_left_out_or_typed_and_differs_for_any_setting():
    base = TrainConfig(dataset="digits", variant="sparse_l1", k=8, epochs=3)
    typed = TrainConfig(dataset="digits", variant="sparse_l1", k=8, epochs=3.0, device="cpu",
                        params={"l1_weight": "1e-4", "hidden": []}, trainer={"optimizer": "adam"},
                        tags={"sweep": "s"})
    assert config_fingerprint(base) == config_fingerprint(typed)
    for change in ({"seed": 1}, {"k": 9}, {"epochs": 4}, {"lr": 1e-3}, {"params": {"l1_weight": 1e-3}},
                   {"trainer": {"lr_schedule": "cosine"}}, {"dataset": "mnist"}, {"max_seconds": 3}):
        other = TrainConfig(**{**base.__dict__, **change})
        assert config_fingerprint(other) != config_fingerprint(base), change


def test_find_reusable_skips_stopped_and_other_configurations(digits, tmp_path):
    store = RunStore(tmp_path)
    config = TrainConfig(dataset="digits", variant="plain", k=2, epochs=1, params={"hidden": [16]})
    assert find_reusable(store, config) is None
    run_id = train_saved(config, digits, store)
    assert find_reusable(store, config).run_id == run_id
    assert store.info(run_id).config["fingerprint"] == config_fingerprint(config)
    other = TrainConfig(**{**config.__dict__, "seed": 5})
    assert find_reusable(store, other) is None

    stopped = Trainer(TrainConfig(**{**config.__dict__, "seed": 7}), digits, store=store)
    events = stopped.run()
    next(events)
    stopped.stop()
    for _ in events:
        pass
    assert stopped.finished.status == "stopped"
    assert find_reusable(store, TrainConfig(**{**config.__dict__, "seed": 7})) is None


@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in load_lessons() if lesson.dataset == "digits"])
def test_every_digits_lessons_check_measures_a_short_run(lesson_id, digits, tmp_path):
    """Every metric computes from a run (one epoch here: the numbers, not the verdict, are tested)."""
    import math

    from dataclasses import replace

    store = RunStore(tmp_path)
    lesson = get_lesson(lesson_id)
    lesson = replace(lesson, budgets={"digits": {**lesson.budgets["digits"], "epochs": 1}})
    run_ids = [train_saved(config, digits, store) for config in lesson.configs()]
    result = check_run(lesson, run_ids[0], store, dataset_loader=lambda name: digits)
    assert math.isfinite(result.value) and result.metric == lesson.goal.metric
    assert result.passed == (lesson.goal.reached(result.value) and all(c["met"] for c in result.conditions))
    assert (result.reference_run_id is not None) == (lesson.reference is not None)


def test_checks_are_recorded_without_the_session_id_and_counted_per_lesson(tmp_path):
    from aeviz.analysis.comparison import FrontierPoint
    from aeviz.lessons.check import CheckResult
    from aeviz.lessons.record import beat_pca_table, pass_counts, read_checks, record_check, session_tag

    def result(lesson, passed):
        return CheckResult(lesson, "run", passed, "m", 0.5, "<", 1.0, "goal")

    alice, bob = session_tag("alice-secret-id"), session_tag("bob-secret-id")
    assert alice != bob and len(alice) == 6
    for lesson, who, passed in (("a", alice, False), ("a", alice, True), ("a", bob, False), ("b", bob, True)):
        record_check(result(lesson, passed), who, root=tmp_path)
    text = (tmp_path / ".lessons" / "checks.jsonl").read_text()
    assert "secret" not in text
    assert pass_counts(read_checks(root=tmp_path)) == {"a": {"sessions_tried": 2, "sessions_passed": 1},
                                                       "b": {"sessions_tried": 1, "sessions_passed": 1}}
    assert read_checks(since=1e12, root=tmp_path) == []

    points = [FrontierPoint("r1", "", "plain", 8, 0.01, 0.02), FrontierPoint("r2", "", "plain", 8, 0.03, 0.02),
              FrontierPoint("r3", "", "linear", 8, 0.021, 0.02)]
    rows = beat_pca_table(points, {"r1": alice})
    assert rows == [{"variant": "linear", "k": 8, "runs": 1, "beat PCA": 0, "best test MSE": 0.021,
                     "PCA test MSE": 0.02, "who beat PCA": ""},
                    {"variant": "plain", "k": 8, "runs": 2, "beat PCA": 1, "best test MSE": 0.01,
                     "PCA test MSE": 0.02, "who beat PCA": alice}]
