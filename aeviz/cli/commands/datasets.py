"""`python -m aeviz datasets`: which datasets are available here, and from where; add or remove your own."""

from __future__ import annotations

import argparse

HELP = "list datasets (yours included), whether each is available here and from where; --add FILE to import your own"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON line")
    parser.add_argument("--add", metavar="FILE", help="import your own .zip (class folders of images), .npz "
                        "(images, labels) or Kaggle-MNIST .csv; prints its name (user:…)")
    parser.add_argument("--size", type=int, default=None, help="with --add: side of the converted square images, "
                        "4..64 (default: their own size where square, else 28)")
    parser.add_argument("--remove", metavar="NAME", help="delete a converted user dataset (user:…) from the cache")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.data.datasets import all_dataset_names, dataset_status

    if args.add:
        return _add(args)
    if args.remove:
        from aeviz.data.user import remove

        remove(args.remove)
        print(f"removed {args.remove}")
        return 0
    statuses = [dataset_status(name).to_json() for name in all_dataset_names()]
    if args.json:
        print_json(statuses)
        return 0
    width = max([14] + [len(status["name"]) + 1 for status in statuses])
    for status in statuses:
        where = status["source"] if status["available"] else "not available: " + "; ".join(status["tried"])
        print(f"{status['name']:<{width}} {where}")
        if status["hint"]:
            print(f"{'':<{width}} to fix: {status['hint']}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aeviz.cli.output import print_json
    from aeviz.data.user import import_file

    info = import_file(Path(args.add).expanduser(), size=args.size)
    if not args.json:
        labels = f"{len(info.class_names)} classes" if info.labelled else "no labels"
        print(f"{info.name}: {info.file_name}, {info.train_count} train / {info.test_count} test images of "
              f"{info.size}x{info.size}, {labels}. Train on it with: python -m aeviz train --dataset {info.name}")
        for note in info.notes:
            print(f"  note: {note}")
    print_json(info.to_json())
    return 0
