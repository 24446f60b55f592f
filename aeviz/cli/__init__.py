"""`python -m aeviz COMMAND ...`: every module in aeviz/cli/commands/ is a command.

A command module defines HELP (one line), add_arguments(parser) and run(args) -> exit code.
Errors meant for the user (AevizError) print as one line on stderr and exit 2; only the chosen
command's module is imported, so `python -m aeviz variants` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from aeviz.errors import AevizError

from aeviz.cli import commands as _commands_package


def command_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(_commands_package.__path__) if not m.name.startswith("_"))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, no usage dump
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    prog = "aeviz" if Path(sys.argv[0]).name == "aeviz" else "python -m aeviz"  # the console script, or -m
    parser = _Parser(prog=prog, description="aeviz: the autoencoder lab.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in command_names():
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = importlib.import_module(f"aeviz.cli.commands.{name}")
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(run_command=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = argv[0] if argv and argv[0] in command_names() else None
    parser = build_parser(only=chosen)
    args = parser.parse_args(argv)
    if not getattr(args, "run_command", None):
        parser.print_help()
        return 0 if not argv else 2
    try:
        return int(args.run_command(args) or 0)
    except AevizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
