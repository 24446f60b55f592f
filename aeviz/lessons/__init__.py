"""Lessons: a question, a goal measured on the student's own run, the training it needs, hints and
an answer. Each lesson is one declarative file in `catalog/` (TOML); this module reads and checks
them. The goal's metric is a function in `aeviz.lessons.metrics`; preparing and checking are in
`aeviz.lessons.check`, and the app's check in the background (a check that trains) in
`aeviz.lessons.check_task`.

A lesson file:

    id, title, concepts (list), page (the app page it opens, a file in app_pages/), question,
    hints (list), answer
    [goal]      metric (a name in metrics.METRICS), comparison ("<", "<=", ">", ">="), target (a
                number), text (the goal in words), options (the metric's settings, optional)
    [run]       variant, k, seed, settings (variant and optimiser settings), lr, batch_size (optional)
    [run.budget.DATASET]  epochs or max_seconds, and anything of [run] that differs on that dataset;
                the first dataset listed is the lesson's own
    [reference] (optional) a second run the goal compares against: fields that differ from [run]
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aeviz.training.config import TrainConfig
from aeviz.errors import AevizError, InvalidConfig
from aeviz.lessons.metrics import METRICS
from aeviz.variants import get_variant
from aeviz.facts import placeholders
from aeviz.run_origin import prepared_tags

CATALOG = Path(__file__).resolve().parent / "catalog"
COMPARISONS = {"<": lambda v, t: v < t, "<=": lambda v, t: v <= t,
               ">": lambda v, t: v > t, ">=": lambda v, t: v >= t}
RULED_OPTIONS = {"kl_below", "threshold"}  # thresholds decided by aeviz.facts, never by one lesson
RUN_FIELDS = ("variant", "k", "seed", "settings", "lr", "batch_size", "epochs", "max_seconds")


class LessonNotFound(AevizError):
    """No lesson has this id."""


@dataclass(frozen=True)
class Goal:
    metric: str
    comparison: str
    target: float
    text: str
    options: dict[str, Any] = field(default_factory=dict)

    def reached(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison](value, self.target))

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "comparison": self.comparison, "target": self.target, "text": self.text,
                "options": dict(self.options)}


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    concepts: tuple[str, ...]
    page: str
    question: str
    hints: tuple[str, ...]
    answer: str
    goal: Goal
    run: dict[str, Any]                 # [run] without its budget table
    budgets: dict[str, dict[str, Any]]  # dataset -> what differs there (epochs or max_seconds at least)
    reference: dict[str, Any] | None = None

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.budgets)

    @property
    def dataset(self) -> str:
        """The dataset the lesson is written for (its budget reaches the goal there)."""
        return self.datasets[0]

    def config(self, dataset: str | None = None) -> TrainConfig:
        """The run the lesson asks for, on `dataset` (default: the lesson's own), tagged as prepared for the
        lesson (aeviz.run_origin): what trains it is the teacher's preparation, never a student's own run.
        Tags do not count in reuse's fingerprint, so a student's identical run still matches it."""

        config = _train_config(self._fields(dataset), self._dataset(dataset))
        config.tags = prepared_tags(self.id)
        return config

    def reference_config(self, dataset: str | None = None) -> TrainConfig | None:
        """The run the goal compares against, or None when the goal needs none."""
        if self.reference is None:
            return None
        fields = self._fields(dataset)
        if "settings" in self.reference:
            fields["settings"] = {}  # the reference names its settings in full
        fields.update(copy.deepcopy(self.reference))

        config = _train_config(fields, self._dataset(dataset))
        config.tags = prepared_tags(self.id, reference=True)
        return config

    def configs(self, dataset: str | None = None) -> list[TrainConfig]:
        """Every run the lesson needs: its own, then the reference if any."""
        return [c for c in (self.config(dataset), self.reference_config(dataset)) if c is not None]

    def _dataset(self, dataset: str | None) -> str:
        dataset = dataset or self.dataset
        if dataset not in self.budgets:
            raise InvalidConfig(f"lesson {self.id!r} is prepared for {', '.join(self.datasets)} (its budget is "
                                f"checked to reach the goal there), not {dataset!r}")
        return dataset

    def _fields(self, dataset: str | None) -> dict[str, Any]:
        fields = copy.deepcopy(self.run)
        fields.update(copy.deepcopy(self.budgets[self._dataset(dataset)]))
        return fields

    def to_json(self) -> dict[str, Any]:
        config = self.config()
        return {"id": self.id, "title": self.title, "concepts": list(self.concepts), "page": self.page,
                "question": self.question, "goal": self.goal.to_json(), "datasets": list(self.datasets),
                "run": config.to_json(), "needs_reference": self.reference is not None,
                "hints": list(self.hints), "answer": self.answer}


def _train_config(fields: dict[str, Any], dataset: str) -> TrainConfig:
    variant = get_variant(fields["variant"])
    defaults = variant.training_defaults()
    config = TrainConfig(dataset=dataset, variant=fields["variant"], k=int(fields["k"]),
                         epochs=fields.get("epochs"), max_seconds=fields.get("max_seconds"),
                         batch_size=int(fields.get("batch_size", defaults["batch_size"])),
                         lr=float(fields.get("lr", defaults["lr"])), seed=int(fields.get("seed", 0)))
    config.split_settings(dict(fields.get("settings", {})))
    return config


def parse_lesson(data: dict[str, Any], source: str = "lesson") -> Lesson:
    """A Lesson from a lesson file's table; raises InvalidConfig naming what is wrong."""

    def need(table: dict, key: str, kind, where: str):
        if key not in table or not isinstance(table[key], kind):
            raise InvalidConfig(f"{source}: {where}{key} is missing or not a {getattr(kind, '__name__', kind)}")
        return table[key]

    goal_table = need(data, "goal", dict, "")
    run_table = dict(need(data, "run", dict, ""))
    budgets = need(run_table, "budget", dict, "run.")
    del run_table["budget"]
    metric = need(goal_table, "metric", str, "goal.")
    if metric not in METRICS:
        raise InvalidConfig(f"{source}: unknown goal metric {metric!r}; known: {', '.join(METRICS)}")
    comparison = need(goal_table, "comparison", str, "goal.")
    if comparison not in COMPARISONS:
        raise InvalidConfig(f"{source}: goal.comparison must be one of {', '.join(COMPARISONS)}")
    target = need(goal_table, "target", (int, float), "goal.")
    options = dict(goal_table.get("options", {}))
    ruled = sorted(set(options) & RULED_OPTIONS)
    if ruled:
        raise InvalidConfig(f"{source}: goal.options {', '.join(ruled)} would set a threshold of its own; the "
                            f"app has one rule per fact (aeviz.facts), which every lesson and page uses")
    goal = Goal(metric, comparison, float(target), _words(need(goal_table, "text", str, "goal."), source), options)
    for dataset, budget in budgets.items():
        if not isinstance(budget, dict) or not ({"epochs", "max_seconds"} & set(budget)):
            raise InvalidConfig(f"{source}: run.budget.{dataset} needs epochs or max_seconds")
    unknown = (set(run_table) | {key for b in budgets.values() for key in b}) - set(RUN_FIELDS)
    if unknown:
        raise InvalidConfig(f"{source}: unknown run fields {', '.join(sorted(unknown))}")
    return Lesson(
        id=need(data, "id", str, ""), title=need(data, "title", str, ""),
        concepts=tuple(need(data, "concepts", list, "")), page=need(data, "page", str, ""),
        question=_words(need(data, "question", str, "").strip(), source),
        hints=tuple(_words(hint, source) for hint in need(data, "hints", list, "")),
        answer=_words(need(data, "answer", str, "").strip(), source), goal=goal, run=run_table, budgets=dict(budgets),
        reference=dict(data["reference"]) if "reference" in data else None)


def _words(text: str, source: str) -> str:
    """A lesson's text with the rules' numbers filled in: `{collapsed_kl_nats}` and the others of
    aeviz.facts.placeholders(), so a lesson quotes the threshold its check and the pages use."""

    try:
        return str(text).format_map(placeholders())
    except (KeyError, ValueError, IndexError) as exc:
        raise InvalidConfig(f"{source}: a text names {exc} in braces; the numbers a lesson may quote are "
                            f"{', '.join('{' + name + '}' for name in placeholders())}") from None


@lru_cache(maxsize=1)
def load_lessons() -> tuple[Lesson, ...]:
    """Every lesson in the catalog, in file-name order."""
    lessons = []
    for path in sorted(CATALOG.glob("*.toml")):
        with path.open("rb") as handle:
            lessons.append(parse_lesson(tomllib.load(handle), source=path.name))
    return tuple(lessons)


def get_lesson(lesson_id: str) -> Lesson:
    for lesson in load_lessons():
        if lesson.id == lesson_id:
            return lesson
    known = ", ".join(lesson.id for lesson in load_lessons())
    raise LessonNotFound(f"no lesson {lesson_id!r}; the lessons are: {known}")
