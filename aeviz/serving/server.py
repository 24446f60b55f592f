"""The server `aeviz serve` starts: where the app's files are, and the Streamlit command that serves them
with the app's production settings.

The app (app.py, app_pages/, ui/, assets/, .streamlit/config.toml) is not part of the library, which never
imports Streamlit: it is the clone's when aeviz runs from a clone (or `pip install -e .`), and otherwise the
copy `pip install .` puts beside the library as the folder `aeviz_app` (setup.py).
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from aeviz.errors import AevizError

APP_FILES = ("app.py", "ui/page_registry.py", "app_pages/home.py")


def app_folder() -> Path:
    """The folder holding app.py, app_pages/ and ui/: the checkout's, else the installed `aeviz_app`."""
    checkout = Path(__file__).resolve().parents[2]
    candidates = [checkout]
    spec = importlib.util.find_spec("aeviz_app")
    if spec is not None:
        candidates += [Path(location) for location in spec.submodule_search_locations or ()]
    for folder in candidates:
        if all((folder / name).is_file() for name in APP_FILES):
            return folder
    raise AevizError("the app's files (app.py, app_pages/, ui/) were not found next to aeviz nor installed as "
                     "aeviz_app; install aeviz from a clone (`pip install .`) or run from the clone")


def streamlit_options(folder: Path) -> dict[str, str]:
    """The app's production settings (`folder`/.streamlit/config.toml) as Streamlit command-line options, so
    they hold from whatever folder the server is started in."""
    path = folder / ".streamlit" / "config.toml"
    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    return {f"{section}.{name}": _option_text(value)
            for section, values in table.items() for name, value in values.items()}


def _option_text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def streamlit_command(folder: Path, port: int, address: str, urls: list[str] = ()) -> list[str]:
    """The command that serves the app in `folder` on `address`:`port` with its production settings. `urls`:
    the addresses students open (`student_urls`), which Streamlit's cross-origin check then accepts; the
    first is the one it prints (so it never asks a web service for this machine's external address)."""
    options = {**streamlit_options(folder), "server.port": str(port), "server.address": address,
               "server.headless": "true",
               "server.enableXsrfProtection": "true"}  # what binds a session to its browser: never off
    if urls:
        options["browser.serverAddress"] = urlsplit(urls[0]).hostname
        options["browser.serverPort"] = str(port)
    flags = [f"--{name}={value}" for name, value in options.items()]
    flags += [f"--server.corsAllowedOrigins={origin}" for origin in urls]
    return [sys.executable, "-m", "streamlit", "run", str(folder / "app.py"), *flags]
