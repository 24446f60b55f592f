"""Browser end-to-end fixtures: `streamlit run app.py` on a free localhost port, driven by Playwright
through Debian's Chromium (never `playwright install`). Screenshots go to artifacts/screenshots/.

Skipped where Chromium or Playwright is missing, unless AEVIZ_REQUIRE_E2E=1 (CI sets it), where a
missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aeviz.serving.allocator import allocator_environment
from tests.conftest import ROOT

CHROMIUM = os.environ.get("AEVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401  (only: is it installed?)
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200 and response.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")


@pytest.fixture(scope="session")
def browser_or_skip():
    problem = _browser_missing()
    if problem:
        if os.environ.get("AEVIZ_REQUIRE_E2E") == "1":
            pytest.fail(f"browser tests required but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@contextlib.contextmanager
def running_app(runs_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free localhost port with its own run store; yields the base URL."""
    with running_app_process(runs_dir, log_path, extra_env) as (url, _):
        yield url


@contextlib.contextmanager
def running_app_process(runs_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None,
                        serve_allocator: bool = True):
    """As `running_app`, yielding the base URL and the server's process (to watch its memory); with the
    allocator's settings `aeviz serve` gives the server (`serve_allocator`; else the C library's defaults)."""
    port = free_port()
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(runs_dir), "AEVIZ_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "AEVIZ_UMAP_WARMUP": "0", **(extra_env or {})}
    env = allocator_environment(env) if serve_allocator else env
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, browser_or_skip):
    """Base URL of a running app with its own empty run store."""
    runs = tmp_path_factory.mktemp("e2e-runs")
    with running_app(runs, tmp_path_factory.mktemp("e2e-log") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser_or_skip):
    context = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until the script run has finished (no running indicator) and the app is rendered."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stApp"]');
                   const m = document.querySelector('[data-testid="stMain"]');
                   return s && s.getAttribute('data-test-script-state') === 'notRunning'
                     && m && m.innerText.trim().length > 0; }""", timeout=timeout)
    page.wait_for_timeout(300)


SCREENSHOT_TIMEOUT_MS = 120_000  # a full-page capture took over 30 s (the default) at a load average of 25 on 2 cores


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
    return path
