"""The HTML report of a saved run opens from a file:// path in a real browser with no console errors
(all of its JavaScript is inlined: nothing is fetched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.conftest import SCREENSHOTS


def test_report_opens_offline_without_console_errors(browser_or_skip, tmp_path, digits):
    from aeviz.training.config import TrainConfig
    from aeviz.runs.store import RunStore
    from aeviz.training.trainer import train

    store = RunStore(tmp_path / "runs")
    run_id = store.save(train(TrainConfig(dataset="digits", variant="plain", k=2, epochs=2, seed=0), digits))
    output = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "aeviz", "report", run_id, "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path / "runs")})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["output"] == str(output)

    context = browser_or_skip.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(output.as_uri())
    page.locator(".plotly-graph-div").first.wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.plotly-graph-div .main-svg').length > 0",
                           timeout=30_000)
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    context.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests
