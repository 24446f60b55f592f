"""`python -m aeviz lessons`: list the lessons, train what one needs ahead of class, check a run."""

from __future__ import annotations

import argparse

HELP = ("list the lessons (id, title, concepts, goal); `lessons prepare ID` trains what a lesson needs and "
        "prints the run ids; `lessons check ID --run RUN` says whether a run reaches the lesson's goal")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "prepare", "check"), default="list")
    parser.add_argument("lesson", nargs="?", help="the lesson's id (prepare, check)")
    parser.add_argument("--dataset", default=None, help="prepare on this dataset (default: the lesson's own)")
    parser.add_argument("--run", default=None, help="the run to check (check)")
    parser.add_argument("--no-reuse", action="store_true",
                        help="prepare: train even where a run with the same configuration is saved")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")


def run(args: argparse.Namespace) -> int:
    from aeviz.errors import InvalidConfig

    if args.action == "list":
        return list_lessons(args)
    if not args.lesson:
        raise InvalidConfig(f"lessons {args.action} needs a lesson id (see `python -m aeviz lessons`)")
    if args.action == "prepare":
        return prepare(args)
    if not args.run:
        raise InvalidConfig("lessons check needs --run RUN_ID (see `python -m aeviz runs`)")
    return check(args)


def list_lessons(args) -> int:
    from aeviz.cli.output import print_json
    from aeviz.lessons import load_lessons

    lessons = load_lessons()
    if args.json:
        print_json([lesson.to_json() for lesson in lessons])
        return 0
    for lesson in lessons:
        goal = lesson.goal
        print(f"{lesson.id}: {lesson.title}\n    concepts: {', '.join(lesson.concepts)}\n"
              f"    goal: {goal.text} ({goal.metric} {goal.comparison} {goal.target:g})")
    return 0


def prepare(args) -> int:
    from aeviz.cli.commands.train import describe_progress, started_lines
    from aeviz.cli.output import follow, print_json, progress_bar
    from aeviz.lessons import get_lesson
    from aeviz.lessons.check import prepare_lesson

    lesson = get_lesson(args.lesson)
    for config in lesson.configs(args.dataset):
        from aeviz.variants import get_variant

        get_variant(config.variant)  # unknown variant: one clear line before anything trains

    def watch(trainer, role):
        config = trainer.config
        bar = progress_bar(f"{lesson.id} ({role}): {config.variant} k={config.k} {config.dataset}")
        follow(trainer.run(), bar, describe_progress, started_lines)

    prepared = prepare_lesson(lesson, args.dataset, reuse=not args.no_reuse, on_trainer=watch)
    rows = [{"role": p.role, "run_id": p.run_id, "reused": p.reused} for p in prepared]
    if args.json:
        print_json({"lesson": lesson.id, "dataset": prepared[0].config.dataset, "runs": rows})
    else:
        for row in rows:
            print(f"{row['role']}: {row['run_id']}" + (" (already trained, reused)" if row["reused"] else ""))
    return 0


def check(args) -> int:
    from aeviz.cli.output import print_json
    from aeviz.lessons import get_lesson
    from aeviz.lessons.check import check_run

    result = check_run(get_lesson(args.lesson), args.run)
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
        for name, value in result.numbers.items():
            print(f"    {name}: {value:.4g}" if isinstance(value, float) else f"    {name}: {value}")
        if result.note:
            print(f"    {result.note}")
    return 0
