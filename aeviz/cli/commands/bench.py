"""`python -m aeviz bench`: measure speed against baselines; a table on stdout, progress on stderr."""

from __future__ import annotations

import argparse

HELP = "benchmark the trainer, data pipeline, budgeted accuracy, latent views, app start and memory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="a short version on the 8x8 digits (seconds, not minutes); skips the slowest parts")
    parser.add_argument("--only", action="append", metavar="ROW",
                        help="run only this row (repeatable, or comma-separated); rows: see --list")
    parser.add_argument("--skip", action="append", metavar="ROW", help="leave this row out (repeatable, or comma-separated)")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    parser.add_argument("--dataset", default=None, help="dataset the rows use (default fashion-mnist; digits with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats per row (default 5; 3 with --quick)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line at the end")


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from aeviz.bench import BenchContext, discover_rows, format_table, machine, run_rows
    from aeviz.cli.output import print_json
    from aeviz.errors import InvalidConfig

    rows = discover_rows()
    if args.list:
        for row in rows.values():
            print(f"{row.name:18s} {row.title}")
        return 0
    if args.repeats is not None and args.repeats < 1:
        raise InvalidConfig(f"--repeats must be at least 1 (got {args.repeats})")
    if args.dataset is not None:
        from aeviz.data.datasets import get_spec

        get_spec(args.dataset)
    only = [name.strip() for item in (args.only or []) for name in item.split(",") if name.strip()]
    skip = [name.strip() for item in (args.skip or []) for name in item.split(",") if name.strip()]
    unknown = [name for name in skip if name not in rows]
    if unknown:
        raise InvalidConfig(f"unknown bench row {', '.join(unknown)}; choose from: {', '.join(rows)}")
    if skip:
        only = [name for name in (only or list(rows)) if name not in skip]

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    context = BenchContext(quick=args.quick, progress=progress, dataset=args.dataset, repeats=args.repeats)
    started = time.perf_counter()
    results = run_rows(context, only or None)
    seconds = time.perf_counter() - started
    info = machine()
    print(f"machine: {info.get('processor')}, {info.get('cpus')} CPUs, torch {info.get('torch')}, "
          f"load average {info.get('load_average_1min', float('nan')):.1f} at the end")
    print(format_table(results))
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "miss", "skipped", "info")}
    print(f"{counts['pass']} pass, {counts['miss']} miss, {counts['skipped']} skipped, {counts['info']} info "
          f"({seconds:.0f} s)")
    if args.json:
        print_json({"quick": args.quick, "dataset": context.bench_dataset(), "seconds": seconds, "machine": info,
                    "counts": counts, "rows": [r.to_json() for r in results]})
    return 0
