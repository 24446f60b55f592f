"""A linear autoencoder trained with MSE to convergence reaches PCA's test error at the same k
(Baldi & Hornik 1989: its optimum spans the top-k principal subspace)."""

import pytest
import torch

from aeviz.training.config import TrainConfig
from aeviz.analysis.pca import dataset_pca, pca_test_mse
from aeviz.training.trainer import Trainer


@pytest.mark.parametrize("k", [4, 12])
def test_linear_autoencoder_reaches_pca_test_mse(digits, k):
    # Full-batch Adam: 800 steps converge on the 1437 digits in a couple of seconds.
    config = TrainConfig(dataset="digits", variant="linear", k=k, epochs=800, batch_size=len(digits.train_images),
                         lr=0.03, snapshot_seconds=600)
    trainer = Trainer(config, digits)
    list(trainer.run())
    metrics = trainer.finished.result.metrics
    pca = pca_test_mse(digits, k)
    assert metrics["pca_test_mse"] == pytest.approx(pca)
    assert metrics["test_mse"] == pytest.approx(pca, rel=0.02), (metrics["test_mse"], pca)

    # Same subspace, not the same basis: the decoder's columns span the top-k components.
    decoder = trainer.model.decoder[0].weight.detach().double()              # (64, k)
    components = torch.as_tensor(dataset_pca(digits).components[:k]).double()  # (k, 64)
    basis, _ = torch.linalg.qr(decoder)
    cosines = torch.linalg.svdvals(components @ basis)                          # of the principal angles
    assert float(cosines.min()) > 0.99
