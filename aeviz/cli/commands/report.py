"""`python -m aeviz report RUN_ID --output run.html`: a saved run as one self-contained HTML file."""

from __future__ import annotations

import argparse

HELP = "write a saved run as one self-contained HTML report (viewable offline); prints a JSON line"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="a run id from `python -m aeviz runs`")
    parser.add_argument("--output", "-o", default=None, help="the HTML file to write (default: RUN_ID.html)")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.export.report import write_report

    output = args.output or f"{args.run_id}.html"
    size = write_report(args.run_id, output)
    print(f"wrote {output} ({size / 1e6:.1f} MB)")
    print_json({"run_id": args.run_id, "output": output, "bytes": size})
    return 0
