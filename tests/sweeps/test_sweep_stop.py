"""A sweep stopped with Ctrl-C is recorded as `stopped`, keeps its finished points and still prints
its JSON summary (run as a real process receiving SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT


def test_ctrl_c_on_a_sweep_keeps_its_points_and_prints_the_summary(tmp_path):
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path / "runs"), "AEVIZ_SWEEPS_DIR": str(tmp_path / "sweeps")}
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "aeviz", "sweep", "--grid", "k=2,3,4,5,6,7,8,9",
                                    "--epochs", "2", "--set", "hidden=32", "--json"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            deadline = time.monotonic() + 240
            while "completed: " not in log.read_text() and time.monotonic() < deadline:  # one point kept
                time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            stdout, _ = process.communicate(timeout=120)
        finally:
            process.kill()
    stderr = log.read_text()
    assert process.returncode == 130, stderr[-2000:]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["status"] == "stopped"
    kept = [p for p in summary["points"] if p["status"] == "completed"]
    assert 1 <= len(kept) < 8 and all(p["run_id"] for p in kept)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    saved = json.loads(next((tmp_path / "sweeps").glob("*.json")).read_text())
    assert saved["status"] == "stopped"
