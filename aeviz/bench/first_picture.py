"""First picture: in headless Chromium, from pressing Train on the Train page to the run's first live
figure (test images and their reconstructions) drawn, against a one-line Streamlit app's cold start
(launch to first page rendered) in the same harness. The app server is started once, before timing;
each repeat is a fresh browser session whose run is stopped afterwards, so the next starts at once."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from aeviz.bench import FASHION, BenchContext, Result, Row, fashion_missing, median, python_executable, skipped, verdict
from aeviz.bench.cold_start import CHROMIUM_ARGS, ROOT, chromium_path, free_port, seconds_to_first_page

ROW_NAME = "first_picture"
TARGET = 1.5  # seconds from pressing Train to the first figure
FIGURE_DRAWN = """() => [...document.querySelectorAll('.gtitle')]
                      .some(t => t.textContent.includes('their reconstructions at step'))"""
APP_READY = """() => { const s = document.querySelector('[data-testid="stApp"]');
                       return s && s.getAttribute('data-test-script-state') === 'notRunning'
                         && document.body.innerText.includes('Train an autoencoder'); }"""
APP_SETTLED = """() => document.querySelector('[data-testid="stApp"]')
                              ?.getAttribute('data-test-script-state') === 'notRunning'"""
TITLES = {"digits": "8x8 digits", FASHION: "Fashion-MNIST"}


def start_app(runs_dir: str) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free port with its own run store; returns (process, base URL) once healthy."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AEVIZ_RUNS_DIR": runs_dir, "AEVIZ_UMAP_WARMUP": "0"}
    server = subprocess.Popen([python_executable(), "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                              cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise TimeoutError("the app did not become healthy within 120 s")


def choose_dataset(page, dataset: str) -> None:
    """Pick `dataset` in the Train page's own dataset selector (the first one in the main area)."""
    if dataset == "digits":
        return
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=re.compile(re.escape(TITLES[dataset]))).first.click()
    page.wait_for_function(f"() => document.body.innerText.includes('{TITLES[dataset]}:')", timeout=300_000)
    page.wait_for_function(APP_READY, timeout=300_000)


def seconds_to_first_picture(browser, url: str, dataset: str, timeout: float = 300.0) -> float:
    """Open the Train page in a new session, press Train, time until the first figure is drawn; then stop the run."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{url}/train", timeout=timeout * 1000)
        page.wait_for_function(APP_READY, timeout=timeout * 1000)
        choose_dataset(page, dataset)
        button = page.get_by_role("button", name=re.compile(r"^(play_arrow)?\s*Train$"))
        button.wait_for(state="visible", timeout=timeout * 1000)
        page.wait_for_timeout(500)  # let the page settle (late widgets, the device probe)
        started = time.perf_counter()
        button.click()
        page.wait_for_function(FIGURE_DRAWN, timeout=timeout * 1000, polling=20)
        seconds = time.perf_counter() - started
        stop_run(page, timeout)
        return seconds
    finally:
        context.close()


def stop_run(page, timeout: float) -> None:
    """Press Stop once the page has finished drawing, again if a click made mid-redraw went unheard, until it
    says Stopped (or Finished)."""
    ended = page.get_by_text(re.compile(r"^(Stopped|Finished): ")).first
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_function(APP_SETTLED, timeout=timeout * 1000)
        stop = page.get_by_role("button", name=re.compile(r"Stop$"))
        if stop.count():
            stop.first.click()
        try:
            ended.wait_for(timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError: press it again
            continue
    raise TimeoutError(f"the run did not stop within {timeout:g} s")


def run(context: BenchContext) -> list[Result]:
    what = "press Train to the first live figure drawn (headless Chromium), {}"
    datasets = ["digits"] + ([FASHION] if not fashion_missing(BenchContext(dataset=FASHION)) else [])
    if context.quick:
        return [skipped(ROW_NAME, what.format(d), "not in --quick", f"<= {TARGET:g} s") for d in datasets]
    chromium = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        return [skipped(ROW_NAME, what.format(d), "needs chromium and the playwright package", f"<= {TARGET:g} s")
                for d in datasets]
    repeats = context.repeats or 3
    times: dict[str, list[float]] = {d: [] for d in datasets}
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        hello = Path(folder) / "hello.py"
        hello.write_text("import streamlit as st\nst.title('hello')\n")
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        server, url = start_app(str(Path(folder) / "runs"))
        try:
            for dataset in datasets:  # a first, untimed run: the server's first imports and dataset load
                seconds_to_first_picture(browser, url, dataset)
            for repeat in range(repeats):
                bare.append(seconds_to_first_page(browser, hello))
                for dataset in datasets:
                    times[dataset].append(seconds_to_first_picture(browser, url, dataset))
                context.say(f"  repeat {repeat + 1}: " + ", ".join(f"{d} {times[d][-1]:.2f} s" for d in datasets)
                            + f"; hello cold start {bare[-1]:.2f} s")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            browser.close()
    base = median(bare)
    results = []
    for dataset in datasets:
        value = median(times[dataset])
        results.append(Result(ROW_NAME, what.format(dataset), "s", value, "one-line Streamlit app cold start", base,
                              value / base if base else None, f"<= {TARGET:g} s", verdict(value <= TARGET),
                              f"median of {repeats}; default plain, CPU", {"runs": times[dataset], "bare_runs": bare}))
    return results


ROW = Row(ROW_NAME, "First picture after pressing Train", run, order=55)
