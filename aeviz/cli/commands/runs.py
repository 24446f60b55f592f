"""`python -m aeviz runs`: list saved and interrupted runs, keep an interrupted one, or delete a run."""

from __future__ import annotations

import argparse

HELP = ("list saved runs (damaged ones flagged) and interrupted ones (resume with `train --resume RUN_ID`, or "
        "--keep RUN_ID); delete one with --delete RUN_ID")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--delete", metavar="RUN_ID", help="delete a saved run, or an interrupted run's checkpoint")
    parser.add_argument("--keep", metavar="RUN_ID",
                        help="save an interrupted run as it stands, as a stopped run that every page and command uses")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.runs.interrupted import discard_interrupted, interrupted_runs, keep_interrupted
    from aeviz.runs.store import RunStore

    store = RunStore()
    if args.keep:
        run_id = keep_interrupted(store, args.keep)
        print(f"kept {run_id} as a stopped run (test_mse {store.info(run_id).metrics['test_mse']:.5f})")
        return 0
    if args.delete:
        if (store.root / args.delete).is_dir() or not any(r.run_id == args.delete for r in interrupted_runs(store)):
            store.delete(args.delete)
        else:
            discard_interrupted(store, args.delete)
        print(f"deleted {args.delete}")
        return 0
    interrupted, infos = interrupted_runs(store), store.list()
    if args.json:
        print_json([run.to_json() for run in interrupted]
                   + [{**info.to_json(), "status": info.metrics.get("status")} for info in infos])
        return 0
    for run in interrupted:
        if run.damaged:
            print(f"{run.label:<50} interrupted, damaged: {run.problem}")
        else:
            print(f"{run.label:<50} resume: `train --resume {run.run_id}`; keep: `runs --keep {run.run_id}`")
    for info in infos:
        mse = info.metrics.get("test_mse")
        if info.damaged:
            print(f"{info.label:<50} damaged: {info.problem}")
        else:
            print(f"{info.label:<50} {'test_mse %.5f' % mse if isinstance(mse, (int, float)) else ''}")
    return 0
