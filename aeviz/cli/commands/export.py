"""`python -m aeviz export RUN --format FORMAT --output DIR`: a run's codes or models for other tools."""

from __future__ import annotations

import argparse

HELP = "export a run: Embedding Projector files, codes as .npy/.csv, encoder and decoder as ONNX or TorchScript"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from aeviz.export import FORMATS

    parser.add_argument("run", metavar="RUN", help="run id (see `python -m aeviz runs`)")
    parser.add_argument("--format", required=True, choices=tuple(FORMATS),
                        help="; ".join(f"{name}: {what}" for name, what in FORMATS.items()))
    parser.add_argument("--output", required=True, metavar="DIR", help="folder to write into (created if missing)")
    parser.add_argument("--max-points", type=int, default=None,
                        help="projector: at most this many test images (default 10000, fewer if the sprite is full)")
    parser.add_argument("--json", action="store_true", help="only the JSON line")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.data.datasets import load_dataset
    from aeviz.errors import InvalidConfig
    from aeviz.export import export_run
    from aeviz.runs.store import RunStore

    if args.max_points is not None and args.max_points < 1:
        raise InvalidConfig(f"--max-points must be at least 1 (got {args.max_points})")
    run = RunStore().load(args.run)
    dataset = load_dataset(run.config.dataset)
    result = export_run(run, dataset, args.format, args.output, args.max_points)
    if not args.json:
        print(f"wrote {', '.join(result.files)} into {result.folder}")
        for note in result.notes:
            print(f"  {note}")
    print_json(result.to_json())
    failed = [name for name, check in result.checks.items() if isinstance(check, dict) and not check["passed"]]
    return 3 if failed else 0
