"""Linear autoencoder: one linear map down to k, one back up, trained with MSE.

Baldi & Hornik (1989): its optimum spans the same subspace as the top-k principal
components, though its weights need not be orthogonal; it is PCA's twin.
"""

from torch import nn

from aeviz.variants.nets import FlattenCentered, Unflatten
from aeviz.variants.base import Autoencoder


class LinearAutoencoder(Autoencoder):
    slug = "linear"
    title = "Linear (= PCA)"
    summary = ("No nonlinearity and MSE loss: the best it can do is the subspace of the top-k principal "
               "components, so it learns PCA's subspace (though not PCA's orthogonal axes).")
    menu_order = 20
    spans_pca_subspace = True
    uses_common_params = False
    # Defaults that show the idea in the Train page's default epochs (5 on Fashion-MNIST, 100 on the digits):
    # the largest principal angle to PCA's top 6 components at most 0.75° on Fashion-MNIST and 2.3° on the
    # digits, seeds 0-5, fp32 and bf16 (tests/app/test_train_linear_defaults.py; docs/results.md has the table).
    # What each choice does, on Fashion-MNIST, 5 epochs, seeds 0-2:
    # - k = 6. A run tells an inside direction from an outside one at a rate set by the gap between their
    #   variances, and the largest angle is the last pair to settle: the k-th against the (k+1)-th. Their
    #   variances differ by 32% at k = 6 (22% on MNIST's test images, 11% on the digits), by 0.5% at k = 32,
    #   where these settings leave 35°-87° after 5 epochs, and one seed is 81° off after 20. At k = 8
    #   one seed in three is 28° off on MNIST's test images (7.5% apart), and at k = 12 one Fashion-MNIST
    #   seed in six is 9° off.
    # - The mean image subtracted first, as PCA does (the decoder's bias adds it back): otherwise the mean,
    #   the largest direction of the raw images (|mean|^2 = 94 against the top variance 19.8), slows every
    #   step (10°-17°).
    # - Adam at 1e-2 decayed to zero along a cosine: held constant, the rate keeps the subspace jittering
    #   around PCA's (5.3°-6.5°). SGD with momentum fails here (lr 1: 79°-90°; lr 2 diverges): its step along
    #   each direction scales with that direction's variance and the rate is capped by the largest (19.8),
    #   so the 6th (2.4) is learnt about 8 times slower; Adam's per-weight scaling partly evens that out.
    # - Batches of 128, on the GPU too: the angle needs steps more than samples (batches of 1024: 71°-88°).
    # The old defaults (k = 32, no centring, 1e-2 held, batches of 256) left 84°-87° (at k = 6: 8°-15°).
    default_k = 6
    default_lr = 1e-2
    default_batch_size = 128
    default_gpu_batch_size = 128
    trainer_defaults = {"lr_schedule": "cosine"}
    centers_input = True
    k_note = ("The slider starts at k = 6 for a linear run: there, on the built-in datasets, a run of the default "
              "length comes within 5° of PCA's subspace. How fast a run tells two principal components apart "
              "depends on the gap between their variances; at larger k neighbours can be nearly tied "
              "(Fashion-MNIST's 32nd and 33rd differ by 0.5%), and the last principal angle then takes far longer "
              "to close.")
    common_defaults = {"output": "identity", "loss": "mse"}

    @classmethod
    def k_range(cls, input_size: int) -> tuple[int, int]:
        return 1, input_size

    def build(self):
        encoder = nn.Sequential(FlattenCentered(self.input_size), nn.Linear(self.input_size, self.k))
        decoder = nn.Sequential(nn.Linear(self.k, self.input_size), Unflatten(self.input_shape))
        return encoder, decoder

    def output_activation(self, logits):
        return logits

    def reconstruction_term(self, logits, target):
        return nn.functional.mse_loss(logits, target)
