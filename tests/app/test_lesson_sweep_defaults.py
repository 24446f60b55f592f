"""Page sweeps default to the dataset's own budget and say when their runs are too short (issue 31, items 11
and 14): the Denoising heatmap and the Sparsity sweep trained 5 epochs per run on every dataset, a few dozen
steps on the 8x8 digits, and drew the unfinished models without a word."""

from __future__ import annotations

from types import SimpleNamespace

from aeviz.training.config import default_epochs
from aeviz.analysis.pca import pca_test_mse_curve
from aeviz.runs.store import RunStore
from aeviz.sweeps.spec import SweepPoint
from tests.apptest import open_page


def test_the_page_sweeps_start_at_the_datasets_budget(digits):
    from aeviz.training.config import TrainConfig
    from aeviz.training.trainer import Trainer

    for _ in Trainer(TrainConfig(dataset="digits", variant="plain", k=4, epochs=1, params={"hidden": [16]},
                                 device="cpu"), digits, store=RunStore()).run():
        pass  # the Denoising page needs a run before its sweep section
    for page, key in (("sparsity.py", "sparsity_sweep_epochs"), ("denoising.py", "denoising_heat_epochs")):
        at = open_page(page, 60).run()
        assert at.number_input(key=f"{key}.digits").value == default_epochs("digits") == 100


def test_a_sweep_with_unfinished_runs_says_so(digits):
    from ui.sweep_panel import undertrained_points

    curve = pca_test_mse_curve(digits)
    points = [SweepPoint(0, "plain", {"k": 8}, 0, "completed", "a", {"test_mse": float(curve[1]) * 1.2,
                                                                   "pca_test_mse": float(curve[8])}),
              SweepPoint(1, "plain", {"k": 16}, 0, "completed", "b", {"test_mse": float(curve[16]) * 0.9,
                                                                    "pca_test_mse": float(curve[16])})]
    sweep = SimpleNamespace(spec=SimpleNamespace(dataset="digits", epochs=5.0, max_seconds=None), points=points)
    assert [p.run_id for p in undertrained_points(sweep)] == ["a"]
