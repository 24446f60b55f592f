"""SIGTERM on the app's server while a page-started job trains: the server stops the job, saves it as
stopped and exits 0 (it used to abort with 'terminate called without an active exception', nothing saved).
A one-line page starts the job through ui.common.job_manager(), as the Train page does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from aeviz.runs.store import RunStore
from tests.conftest import ROOT
from tests.e2e.conftest import free_port, wait_healthy

PAGE = """
import streamlit as st
from aeviz.training.config import TrainConfig
from ui.common import job_manager
manager = job_manager()
if not manager.jobs():
    manager.submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=100_000.0, batch_size=128,
                               snapshot_seconds=0.0), owner="page")
view = manager.jobs()[0]
st.write(f"job {view.status} step {view.progress.step if view.progress else 0}")
"""


def test_sigterm_saves_the_running_job_and_exits_cleanly(tmp_path, browser_or_skip):
    (tmp_path / "page.py").write_text(PAGE)
    runs, port = tmp_path / "runs", free_port()
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(runs), "AEVIZ_OFFLINE": "1", "PYTHONPATH": str(ROOT),
           "AEVIZ_UMAP_WARMUP": "0"}
    log = open(tmp_path / "log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(tmp_path / "page.py"), "--server.port",
                               str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page = browser_or_skip.new_page()
        page.goto(url)
        # until the job has taken a step, whatever the page calls its state (on a cold machine the first
        # page loads can take most of a minute; the test is about what SIGTERM does to a training job)
        deadline = time.monotonic() + 180
        while not (shown := re.search(r"job (\w+) step (\d+)", page.content())) or int(shown.group(2)) == 0:
            assert time.monotonic() < deadline, f"the job never started training: {shown and shown.group(0)}"
            time.sleep(1)
            page.reload()
            page.wait_for_selector("text=job", timeout=60_000)
        page.close()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    log.seek(0)
    output = log.read()
    assert code == 0, output
    assert "terminate called" not in output
    assert [info.metrics["status"] for info in RunStore(runs).list()] == ["stopped"], output
