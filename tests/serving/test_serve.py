"""`aeviz serve`: the app answers on the port asked for, with the options' settings; a bad option is one line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import urllib.request

import pytest

from aeviz.serving import server
from tests.conftest import ROOT
from tests.e2e.conftest import free_port, wait_healthy

START_LIMIT = 180.0  # seconds: Streamlit's start takes a few seconds, far longer on a loaded 2-core machine


def serve(*options: str, cwd=ROOT, env=None) -> subprocess.Popen:
    env = {**os.environ, "AEVIZ_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "aeviz", "serve", *options], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_serve_answers_on_the_port_asked_for(tmp_path):
    port = free_port()
    process = serve("--port", str(port), "--runs-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=START_LIMIT)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read(2000).lower()
    finally:
        output = stop(process)
    assert f"http://localhost:{port}" in output
    assert "aeviz serve --address 0.0.0.0" in output  # bound to this machine only: says how to open it to a class
    assert (tmp_path / "runs").is_dir()


def test_bad_options_are_one_line(tmp_path):
    for options, message in ((["--port", "0"], "--port must be from 1 to 65535"),
                             (["--data-dir", str(tmp_path / "none")], "is not a folder"),
                             (["--ray-address", " "], "--ray-address needs an address")):
        out = subprocess.run([sys.executable, "-m", "aeviz", "serve", *options], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_the_server_command_carries_the_production_settings_and_the_student_urls():
    folder = server.app_folder()
    command = server.streamlit_command(folder, 8600, "0.0.0.0", ["http://192.168.1.20:8600"])
    assert command[1:5] == ["-m", "streamlit", "run", str(folder / "app.py")]
    assert "--server.port=8600" in command and "--server.address=0.0.0.0" in command
    assert "--server.enableXsrfProtection=true" in command and "--client.showErrorDetails=none" in command
    # the address students use passes Streamlit's origin check, and is what it prints
    assert "--server.corsAllowedOrigins=http://192.168.1.20:8600" in command
    assert "--browser.serverAddress=192.168.1.20" in command


def test_serving_never_imports_streamlit():
    code = ("import sys, aeviz.serving.server, aeviz.serving.addresses, aeviz.serving.qr, aeviz.cli.commands.serve; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_the_options_reach_the_server_as_the_apps_settings(tmp_path, monkeypatch):
    from aeviz.cli.commands.serve import server_environment

    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(port=8600, data_dir=".", runs_dir="runs", ray_address=" head:6379 ")
    env = server_environment(args)
    assert env["AEVIZ_DATA_DIR"] == str(tmp_path) and env["AEVIZ_RUNS_DIR"] == str(tmp_path / "runs")
    assert env["AEVIZ_RAY_ADDRESS"] == "head:6379"  # the app's JobManager trains its jobs there
