"""`python -m aeviz runs`: list or delete saved runs."""

from __future__ import annotations

import argparse

HELP = "list saved runs (damaged ones flagged), or delete one with --delete RUN_ID"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--delete", metavar="RUN_ID")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.runs import RunStore

    store = RunStore()
    if args.delete:
        store.delete(args.delete)
        print(f"deleted {args.delete}")
        return 0
    infos = store.list()
    if args.json:
        print_json([info.to_json() for info in infos])
        return 0
    for info in infos:
        mse = info.metrics.get("test_mse")
        if info.damaged:
            print(f"{info.label:<50} damaged: {info.problem}")
        else:
            print(f"{info.label:<50} {'test_mse %.5f' % mse if isinstance(mse, (int, float)) else ''}")
    return 0
