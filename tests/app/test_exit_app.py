"""An AppTest script that opens every page (ui.page_registry), presses each page's train or start buttons
and exits returns exit code 0: the Train page's jobs, the pages' own trainings (Sparsity, Denoising,
Applications, Recommender), sweeps and lesson runs are all stopped and saved or cancelled at exit (it once
aborted with 134, "terminate called without an active exception")."""

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT
from tests.recommender.test_autorec import write_tiny_movielens

PRESS_EVERY_START_BUTTON = textwrap.dedent(r"""
    import json, re
    from streamlit.testing.v1 import AppTest
    from aeviz.data.datasets import load_dataset
    from aeviz.runs.store import RunStore
    from aeviz.training.config import TrainConfig
    from aeviz.training.trainer import Trainer
    from ui.page_registry import available_pages

    # one short run, so that the pages that work on a run (Denoising, Applications, lessons) show their buttons
    config = TrainConfig(dataset="digits", variant="plain", k=2, epochs=1, params={"hidden": [32]}, device="cpu")
    for _ in Trainer(config, load_dataset("digits"), store=RunStore()).run():
        pass
    START = re.compile(r"^(Train|Queue this run|Start the sweep|Run the sweep|Hold out|Prepare: train|Check my run)")
    pressed = {}
    for entry in available_pages():
        at = AppTest.from_file(str(entry.path), default_timeout=180)
        at.session_state["dataset"] = "digits"
        if entry.file == "lessons.py":  # the list of lessons first: open one, as its link does
            at.query_params["lesson"] = "bottleneck"
        at.run()
        for label in [b.label for b in at.button if START.match(b.label or "")]:
            button = next((b for b in at.button if b.label == label and not b.disabled), None)
            if button is not None:
                button.click().run()
                pressed.setdefault(entry.file, []).append(label)
    print(json.dumps(pressed), flush=True)
    # the main thread returns now, with the pages' work still running
""")


def test_opening_every_page_pressing_every_start_button_and_exiting_exits_cleanly(tmp_path):
    write_tiny_movielens(tmp_path / "data")
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path / "runs"), "AEVIZ_SWEEPS_DIR": str(tmp_path / "sweeps"),
           "AEVIZ_DATA_DIR": str(tmp_path / "data"), "AEVIZ_CACHE_DIR": str(tmp_path / "cache"),
           "AEVIZ_OFFLINE": "1", "OMP_NUM_THREADS": "1", "AEVIZ_UMAP_WARMUP": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PRESS_EVERY_START_BUTTON], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "terminate called" not in done.stderr, done.stderr[-4000:]
    pressed = json.loads(done.stdout.strip().splitlines()[-1])
    # the script did reach the buttons that start background work (so the exit had work to stop)
    assert {"train.py", "sparsity.py", "denoising.py", "sweeps.py", "applications.py", "recommender.py",
            "lessons.py"} <= set(pressed), pressed
