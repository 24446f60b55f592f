"""`aeviz serve`: the app for a class. Prints the URLs students can open and a QR code of the first, then
becomes the Streamlit server (same process id, so Ctrl-C or a SIGTERM stops it as they stop Streamlit)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HELP = "serve the app (for a class: --address 0.0.0.0); prints the URLs students can open and a QR code"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8501, help="the port to serve on (default 8501)")
    parser.add_argument("--address", default="localhost",
                        help="the address to listen on: localhost (the default: this machine only) or 0.0.0.0 "
                             "(every network interface: what a class needs, and anyone on the network can "
                             "then open the app)")
    parser.add_argument("--data-dir", help="the folder with MNIST, Fashion-MNIST or MovieLens files "
                                           "(sets AEVIZ_DATA_DIR)")
    parser.add_argument("--runs-dir", help="where runs are saved (sets AEVIZ_RUNS_DIR)")
    parser.add_argument("--ray-address", help="a Ray cluster (HEAD:6379) that trains the app's jobs "
                                              "(sets AEVIZ_RAY_ADDRESS; needs `pip install 'aeviz[ray]'`)")
    parser.add_argument("--no-qr", action="store_true", help="print the URLs without the QR code")


def run(args: argparse.Namespace) -> int:
    from aeviz.serving import addresses, server

    env = server_environment(args)
    folder = server.app_folder()
    urls = addresses.student_urls(args.address, args.port)
    if urls:  # the Class view's QR code carries it; without one the page says students cannot reach the app
        env[addresses.SERVE_URL_ENV] = urls[0]
    else:
        env.pop(addresses.SERVE_URL_ENV, None)
    print(banner(args, urls, encoding=sys.stdout.encoding), flush=True)
    command = server.streamlit_command(folder, args.port, args.address, urls)
    if os.name == "posix":
        os.execve(command[0], command, env)  # does not return
    return subprocess.call(command, env=env)


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The server's environment with the options' settings and the allocator's; a bad option raises
    InvalidConfig."""
    import importlib.util

    from aeviz.errors import InvalidConfig
    from aeviz.serving.allocator import allocator_environment

    env = dict(os.environ)
    if not 1 <= args.port <= 65535:
        raise InvalidConfig(f"--port must be from 1 to 65535 (got {args.port})")
    if args.data_dir is not None:
        data = Path(args.data_dir).expanduser().resolve()
        if not data.is_dir():
            raise InvalidConfig(f"--data-dir {args.data_dir} is not a folder")
        env["AEVIZ_DATA_DIR"] = str(data)
    if args.runs_dir is not None:
        runs = Path(args.runs_dir).expanduser().resolve()
        try:
            runs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidConfig(f"--runs-dir {args.runs_dir} cannot be made a folder ({exc.strerror})") from None
        env["AEVIZ_RUNS_DIR"] = str(runs)
    if args.ray_address is not None:
        if not args.ray_address.strip():
            raise InvalidConfig("--ray-address needs an address, e.g. --ray-address HEAD:6379")
        if importlib.util.find_spec("ray") is None:
            raise InvalidConfig("--ray-address needs Ray, which is not installed: pip install 'aeviz[ray]'")
        env["AEVIZ_RAY_ADDRESS"] = args.ray_address.strip()
    return allocator_environment(env)  # a long-running server's memory stays bounded (aeviz.serving.allocator)


def banner(args: argparse.Namespace, urls: list[str], encoding: str | None = "utf-8") -> str:
    """What the terminal shows before the server starts: where to open the app, and the QR code."""
    from aeviz.serving import addresses, qr

    local = addresses.url("localhost", args.port)
    lines = [f"aeviz: serving the app on {local} (this machine)"]
    if urls:
        lines += ["Students open:", *[f"  {address}" for address in urls]]
        if not args.no_qr:
            lines += [f"or scan (the code of {urls[0]}):", qr.terminal_text(urls[0], encoding)]
    elif args.address in addresses.EVERY_INTERFACE:
        lines.append("No network address found on this machine: students cannot reach it yet.")
    else:
        lines.append(f"Only this machine can open it. For a class, serve on every network interface: "
                     f"aeviz serve --address 0.0.0.0 --port {args.port}")
    if args.ray_address:
        lines.append(f"Training jobs go to the Ray cluster at {args.ray_address.strip()}.")
    return "\n".join(lines)
