"""Linear autoencoder: one linear map down to k, one back up, trained with MSE.

Baldi & Hornik (1989): its optimum spans the same subspace as the top-k principal
components, though its weights need not be orthogonal; it is PCA's twin.
"""

from torch import nn

from aeviz.variants.nets import Flatten, Unflatten
from aeviz.variants.base import Autoencoder


class LinearAutoencoder(Autoencoder):
    slug = "linear"
    title = "Linear (= PCA)"
    summary = ("No nonlinearity and MSE loss: the best it can do is the subspace of the top-k principal "
               "components, so it learns PCA's subspace (though not PCA's orthogonal axes).")
    menu_order = 20
    spans_pca_subspace = True
    uses_common_params = False
    # Adam at 1e-2: a linear map is easy to fit, and at the usual 2e-3 it needs several times the steps
    # to reach PCA's subspace (principal angles near 90° after a short run).
    default_lr = 1e-2
    common_defaults = {"output": "identity", "loss": "mse"}

    @classmethod
    def k_range(cls, input_size: int) -> tuple[int, int]:
        return 1, input_size

    def build(self):
        encoder = nn.Sequential(Flatten(), nn.Linear(self.input_size, self.k))
        decoder = nn.Sequential(nn.Linear(self.k, self.input_size), Unflatten(self.input_shape))
        return encoder, decoder

    def output_activation(self, logits):
        return logits

    def reconstruction_term(self, logits, target):
        return nn.functional.mse_loss(logits, target)
