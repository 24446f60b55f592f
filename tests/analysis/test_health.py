"""run_health: a word when a run is far from converged, and none when it is fine."""

from __future__ import annotations

from aeviz.training.config import TrainConfig
from aeviz.analysis.health import run_health
from aeviz.runs.store import RunInfo
from aeviz.training.trainer import Trainer

PCA = [0.06, 0.04, 0.03, 0.02, 0.015]  # PCA's test MSE for k = 0 .. 4


def info(variant="plain", k=4, **metrics) -> RunInfo:
    return RunInfo("run-x", path=None, config={"variant": variant, "k": k, "dataset": "digits"},
                   metrics={"status": "completed", "pca_test_mse": PCA[min(k, 4)], **metrics})


def test_a_converged_run_gets_no_message():
    assert run_health(info(test_mse=0.012), PCA) == []


def test_worse_than_pca_with_one_component_says_train_longer():
    [message] = run_health(info(test_mse=0.05), PCA)
    assert "PCA with a single component (0.0400)" in message and "Train longer" in message


def test_collapsed_vae_dimensions():
    [message] = run_health(info("vae", k=16, test_mse=0.01, active_dims=3), PCA)
    assert "Only 3 of the 16 latent dimensions" in message
    assert run_health(info("vae", k=16, test_mse=0.01, active_dims=12), PCA) == []


def test_denoising_clean_against_noisy_is_explained():
    messages = run_health(info("denoising", test_mse=0.02, noisy_test_mse=0.03, noisy_input_mse=0.09), PCA)
    assert len(messages) == 1 and "expected of a denoising autoencoder" in messages[0]
    messages = run_health(info("denoising", test_mse=0.01, noisy_test_mse=0.09, noisy_input_mse=0.09), PCA)
    assert len(messages) == 1 and "does not remove noise yet" in messages[0]


def test_linear_far_from_pca_subspace():
    [message] = run_health(info("linear", test_mse=0.016, principal_angles_deg=[1.0, 2.0, 40.0]), PCA)
    assert "average 14°" in message and "largest 40°" in message
    # one large angle between nearly equal components, the rest small: close enough to say nothing
    assert run_health(info("linear", test_mse=0.016, principal_angles_deg=[0.2, 0.5, 1.8, 7.4, 61.0, 0, 0, 0]),
                      PCA) == []


def test_a_stopped_or_diverged_run():
    assert "stopped after" in run_health(info(test_mse=0.01, status="stopped", epochs=0.5), PCA)[0]
    assert "diverged" in run_health(info(test_mse=float("nan"), status="diverged"), PCA)[0]


def test_a_real_two_step_run_is_flagged_and_a_trained_one_is_not(digits):
    def trained(epochs):
        trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=4, epochs=epochs, device="cpu",
                                      params={"hidden": "64"}), digits)
        for _ in trainer.run():
            pass
        return trainer.finished.result

    short = trained(2 / 6)
    assert any("Far from converged" in m for m in run_health(short))  # PCA's curve loaded from the dataset
    long = trained(60)
    assert not any("Far from converged" in m for m in run_health(long))
