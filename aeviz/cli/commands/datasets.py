"""`python -m aeviz datasets`: which datasets are available here, and from where."""

from __future__ import annotations

import argparse

HELP = "list datasets, whether each is available here and from where"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON line")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.data import DATASET_NAMES, dataset_status

    statuses = [dataset_status(name).to_json() for name in DATASET_NAMES]
    if args.json:
        print_json(statuses)
        return 0
    for status in statuses:
        where = status["source"] if status["available"] else "not available: " + "; ".join(status["tried"])
        print(f"{status['name']:<14} {where}")
        if status["hint"]:
            print(f"{'':<14} to fix: {status['hint']}")
    return 0
