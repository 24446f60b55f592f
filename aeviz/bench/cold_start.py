"""App cold start: `streamlit run app.py` to the first page rendered in headless Chromium, against
a one-line Streamlit app in the same harness; and how long `import aeviz` takes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from aeviz.bench import BenchContext, Result, Row, median, python_executable, skipped, verdict

APP_TARGET = 5.0
IMPORT_TARGET = 1.0
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("AEVIZ_CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seconds_to_first_page(browser, script: Path, timeout: float = 60.0) -> float:
    """From launching `streamlit run script` to an h1 visible in the page (the first page rendered)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [python_executable(), "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.port", str(port), "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    page = browser.new_page()
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=str(script.parent), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{script.name} did not render within {timeout:g} s")
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {server.returncode}")
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                break
            except Exception:
                time.sleep(0.05)
        page.wait_for_selector("h1", state="visible", timeout=timeout * 1000)
        return time.perf_counter() - started
    finally:
        page.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def import_seconds(statement: str, repeats: int) -> float:
    """Median wall time of a fresh interpreter running `statement` (interpreter start included)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([python_executable(), "-c", statement], check=True, cwd=str(ROOT),
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        times.append(time.perf_counter() - started)
    return median(times)


def run(context: BenchContext) -> list[Result]:
    repeats = context.repeats or (3 if context.quick else 5)
    bare = import_seconds("pass", repeats)
    ours = import_seconds("import aeviz", repeats)
    results = [
        Result("cold_start", "`import aeviz` in a fresh interpreter", "s", ours, "python -c pass", bare,
               ours / bare, f"<= {IMPORT_TARGET:g} s", verdict(ours <= IMPORT_TARGET), f"median of {repeats}")]
    what = "`streamlit run app.py` to first page rendered (headless Chromium)"
    if context.quick:
        return results + [skipped("cold_start", "`import aeviz.training.trainer` (with torch)", "not in --quick"),
                          skipped("cold_start", what, "not in --quick", f"<= {APP_TARGET:g} s")]
    torch_only = import_seconds("import torch", repeats)
    trainer = import_seconds("import aeviz.training.trainer", repeats)
    results.append(Result("cold_start", "`import aeviz.training.trainer` (with torch)", "s", trainer, "import torch",
                          torch_only, trainer / torch_only, "", "info", f"median of {repeats}"))
    chromium = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        return results + [skipped("cold_start", what, "needs chromium and the playwright package",
                                  f"<= {APP_TARGET:g} s")]
    app_runs, bare_runs = [], []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        hello = Path(folder) / "hello.py"
        hello.write_text("import streamlit as st\nst.title('hello')\n")
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            for repeat in range(max(1, repeats - 2)):
                bare_runs.append(seconds_to_first_page(browser, hello))
                app_runs.append(seconds_to_first_page(browser, ROOT / "app.py"))
                context.say(f"  cold start {repeat + 1}: app {app_runs[-1]:.2f} s, hello {bare_runs[-1]:.2f} s")
        finally:
            browser.close()
    app, base = median(app_runs), median(bare_runs)
    return results + [Result("cold_start", what, "s", app, "one-line Streamlit app", base, app / base,
                             f"<= {APP_TARGET:g} s", verdict(app <= APP_TARGET), f"median of {len(app_runs)}",
                             {"app_runs": app_runs, "bare_runs": bare_runs})]


ROW = Row("cold_start", "App cold start and import time", run, order=50)
