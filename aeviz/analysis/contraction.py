"""How much a model's code moves when its input moves: ‖∂h/∂x‖_F, the Frobenius norm of the encoder's
Jacobian at each image, the quantity a contractive autoencoder (Rifai et al. 2011) penalises (squared)."""

from __future__ import annotations

import numpy as np
import torch

from aeviz.variants.contractive import jacobian_frobenius

CHUNK = 64  # images per batched Jacobian: k x 784 floats each


def jacobian_norms(model, images: torch.Tensor, count: int = 256) -> np.ndarray:
    """‖∂encode(x)/∂x‖_F for the first `count` images (N, C, H, W), one number per image. Uses the model's
    deterministic code (a VAE's mean, a k-sparse model's kept units)."""
    model.eval()
    x = images[:count].float()
    norms = []

    class Encode(torch.nn.Module):  # jacobian_frobenius differentiates a module; the code is model.encode
        def forward(self, batch):
            return model.encode(batch)

    encoder = Encode()
    for start in range(0, len(x), CHUNK):
        with torch.enable_grad():
            squared = jacobian_frobenius(encoder, x[start:start + CHUNK])
        norms.append(squared.detach().sqrt().cpu().numpy())
    return np.concatenate(norms) if norms else np.zeros(0)
