"""k-sparse is compared with PCA at its number of active units, everywhere (issue 31, item 7): the lesson did,
the Train page, the frontier (Latent space, class view), the Reconstructions table and the report compared it
at k = 48, where it has more numbers to choose from than it uses per image."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from aeviz.analysis import comparison
from aeviz.analysis.comparison import frontier_points
from aeviz.training.config import TrainConfig
from aeviz.runs.store import RunInfo, RunStore
from aeviz.training.trainer import Trainer

CURVE = np.linspace(0.08, 0.001, 65)


def test_the_rule():
    assert comparison.pca_comparison_k("ksparse", 48, {}) == 12  # its default: a quarter of k
    assert comparison.pca_comparison_k("ksparse", 48, {"active_units": 6}) == 6
    assert comparison.pca_comparison_k("plain", 48, {}) == 48
    assert comparison.pca_comparison_words("plain", 8) == "PCA at the same k"
    assert "PCA with 6 components" in comparison.pca_comparison_words("ksparse", 48, {"active_units": 6})


def test_the_frontier_and_the_class_view_compare_k_sparse_at_its_active_units():
    info = RunInfo("ks", path=None, config={"variant": "ksparse", "k": 48, "dataset": "digits",
                                            "params": {"active_units": 6}},
                   metrics={"status": "completed", "test_mse": float(CURVE[20]), "pca_test_mse": float(CURVE[48])})
    [point] = frontier_points([info], "digits", CURVE)
    assert point.pca_k == 6 and point.pca_test_mse == CURVE[6]
    assert point.beats_pca  # worse than PCA at 48, better than PCA with 6 components
    plain = RunInfo("p", path=None, config={"variant": "plain", "k": 8, "dataset": "digits"},
                    metrics={"status": "completed", "test_mse": 0.01, "pca_test_mse": float(CURVE[8])})
    [point] = frontier_points([plain], "digits", CURVE)
    assert point.pca_k == 8 and point.pca_test_mse == CURVE[8]


def test_the_train_page_compares_k_sparse_at_its_active_units():
    from ui.train_live import compared_k, pca_mse_at_k

    view = SimpleNamespace(config=TrainConfig(dataset="digits", variant="ksparse", k=48, params={"active_units": 6}))
    assert compared_k(view) == 6 and pca_mse_at_k(view, CURVE) == CURVE[6]


def test_the_report_compares_k_sparse_at_its_active_units(tmp_path, digits):
    from aeviz.export.report import summary_sections

    trainer = Trainer(TrainConfig(dataset="digits", variant="ksparse", k=16, epochs=1, device="cpu",
                                  params={"active_units": 3}), digits, store=RunStore(tmp_path))
    for _ in trainer.run():
        pass
    html = summary_sections(RunStore(tmp_path).load(trainer.finished.saved_run_id))["metrics"]
    assert "PCA with 3 components" in html
