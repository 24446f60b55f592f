"""The package imports without Streamlit and a short run trains end to end."""

import subprocess
import sys

from tests.conftest import ROOT


def test_library_does_not_import_streamlit():
    code = "import sys, aeviz.training.trainer, aeviz.runs.store, aeviz.data.datasets, aeviz.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_short_run_beats_its_untrained_self(digits):
    from aeviz.training.config import TrainConfig
    from aeviz.training.trainer import Trainer

    trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=8, epochs=20), digits)
    events = list(trainer.run())
    snapshots = [e for e in events if type(e).__name__ == "Snapshot"]
    assert trainer.finished.status == "completed"
    assert snapshots[-1].test_mse < 0.5 * snapshots[0].test_mse
