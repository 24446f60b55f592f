"""`python -m aeviz sweep`: train a grid of short runs, locally or on Ray; progress on stderr, the
last stdout line a JSON object with the sweep id and one entry per point."""

from __future__ import annotations

import argparse
import sys
import threading

from aeviz.cli.interrupt import first_interrupt_stops

EXIT_STOPPED = 130  # stopped by Ctrl-C: finished points are kept, the summary is printed

HELP = ("sweep a grid of short runs (--grid k=2,8,32 --grid NAME=v1,v2 ...) over seeds, on the local or the "
        "ray executor; prints a JSON line with the sweep id and one entry per point")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="digits",
                        help="mnist, fashion-mnist, digits (default), user:… or the path of your own .zip / .npz / .csv")
    parser.add_argument("--variant", action="append", dest="variants", metavar="V",
                        help="a variant to sweep, repeatable (default: plain)")
    parser.add_argument("--grid", action="append", metavar="NAME=v1,v2,...",
                        help="values of k, lr, batch_size or a declared parameter (see `variants`), repeatable; "
                             "a widths parameter separates values with '|' (hidden=1024|512,256)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, each point is run for each (default 0)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=float, default=None, help="epochs per point (default 5)")
    budget.add_argument("--max-seconds", type=float, default=None, help="seconds of training per point")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="settings",
                        help="a setting held fixed across the sweep, repeatable")
    parser.add_argument("--sample", type=int, default=None, help="train only this many points drawn at random")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--executor", default="local", choices=("local", "ray"),
                        help="local: in this process, one point after another; ray: each point a Ray task")
    parser.add_argument("--ray-address", default=None,
                        help="an existing Ray cluster (default: $AEVIZ_RAY_ADDRESS, else a local Ray instance)")
    parser.add_argument("--workers", type=int, default=None,
                        help="CPUs of the local Ray instance (default: this machine's cores)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per point (local: default torch's; ray: 1 per worker, each worker "
                             "then takes this many CPUs)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line on stdout (no table)")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import close_bar, print_json, progress_bar
    from aeviz.cli.settings import parse_settings
    from aeviz.jobs.sweep_executors import make_executor
    from aeviz.sweeps import (LocalExecutor, Sweep, SweepSpec, iter_sweep, parse_grid_args, parse_seeds,
                              sweep_table)

    from aeviz.data.user import resolve_dataset

    spec = SweepSpec(dataset=resolve_dataset(args.dataset), variants=args.variants or ["plain"], grid=parse_grid_args(args.grid),
                     seeds=parse_seeds(args.seeds), epochs=args.epochs, max_seconds=args.max_seconds,
                     fixed=parse_settings(args.settings), sample=args.sample, device=args.device)
    sweep = Sweep.create(spec)  # a bad grid stops here, before anything trains
    if args.threads is not None and args.threads < 1:
        from aeviz.errors import InvalidConfig

        raise InvalidConfig(f"--threads must be at least 1 (got {args.threads})")
    if args.executor == "local":
        executor = LocalExecutor(threads=args.threads)
    else:
        executor = make_executor("ray", args.ray_address, args.workers)  # a missing Ray stops here too
        executor.cpus_per_point = args.threads or 1
    total = len(sweep.points)
    err = sys.stderr
    err.write(f"sweep {sweep.sweep_id}: {total} points on {args.executor}\n")
    if args.executor == "ray":
        err.write("starting Ray and loading the dataset in each worker...\n")
    bar = progress_bar(f"sweep {total} points")
    finished = 0
    stop = threading.Event()
    try:
        with first_interrupt_stops(stop.is_set, stop.set,
                                   "stopping the sweep after this step (Ctrl-C again to abort)", err):
            for event in iter_sweep(sweep, executor, stop=stop):
                finished = show_event(event, sweep, args, bar, finished, total)
    except KeyboardInterrupt:  # the second Ctrl-C: the sweep is recorded as stopped; its summary still prints
        close_bar(bar, f"{sweep.status}: {sweep.message}")
    rows = sweep_table(sweep)
    if not args.json:
        _print_table(rows)
    print_json({"sweep_id": sweep.sweep_id, "status": sweep.status, "executor": args.executor,
                "wall_seconds": sweep.wall_seconds, "startup_seconds": sweep.startup_seconds,
                "swept": sweep.spec.swept_names(), "points": rows})
    sys.stdout.flush()
    if sweep.status == "stopped":
        return EXIT_STOPPED
    return 0 if not any(p.status == "failed" for p in sweep.points) else 3


def show_event(event, sweep, args, bar, finished: int, total: int) -> int:
    """Draw one sweep event on the progress bar; returns the count of finished points."""
    from aeviz.cli.output import close_bar, show_fraction
    from aeviz.sweeps import PointFinished, PointProgress, PointStarted, SweepFinished

    if isinstance(event, PointStarted) and args.executor == "local":
        detail = f"point {event.point.index + 1}/{total}: {event.point.label}"
        show_fraction(bar, finished / total, detail, force=True)
    elif isinstance(event, PointProgress):
        detail = f"point {event.point.index + 1}/{total} {100 * event.fraction:3.0f}% loss {event.loss:.4f}"
        show_fraction(bar, (finished + event.fraction) / total, detail)
    elif isinstance(event, PointFinished):
        finished += 1
        point = event.point
        outcome = f"test_mse {point.metrics['test_mse']:.5f}" if point.metrics.get("test_mse") is not None \
            else point.error
        show_fraction(bar, finished / total, f"{point.status}: {point.label} {outcome}", force=True)
    elif isinstance(event, SweepFinished):
        startup = f" (+{sweep.startup_seconds:.1f}s Ray start-up)" if args.executor == "ray" else ""
        close_bar(bar, f"{sweep.status}: {sweep.message} in {sweep.wall_seconds:.1f}s{startup}")
    return finished


def _print_table(rows: list[dict]) -> None:
    if not rows:
        return
    columns = [c for c in rows[0] if c not in ("error",)]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row, cell in zip(rows, cells):
        print("  ".join(v.ljust(w) for v, w in zip(cell, widths)) + (f"  {row['error']}" if row.get("error") else ""))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.5f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)
