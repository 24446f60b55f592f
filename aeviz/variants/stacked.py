"""Stacked autoencoder: greedy layer-wise pre-training, then fine-tuning of the whole.

The deep autoencoder x → h1 → h2 → ... → code → ... → x̂ is first trained one layer at a
time (Bengio et al. 2007; Hinton & Salakhutdinov 2006 used RBMs): stage i trains a shallow
autoencoder h_{i-1} → h_i → ĥ_{i-1} on the codes of the (frozen) layers before it, and its
decoder becomes the matching layer of the deep decoder. A last stage fine-tunes every layer
on the image reconstruction. The trainer gives each stage its share of the budget and a
fresh optimiser.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aeviz.variants.nets import Flatten, Unflatten, activation
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts, Stage


class StackedAutoencoder(Autoencoder):
    slug = "stacked"
    title = "Stacked (layer-wise)"
    summary = ("Pre-trains one shallow autoencoder per layer, each on the codes of the layers before it, "
               "then fine-tunes the whole deep network end to end.")
    menu_order = 100
    common_defaults = {"hidden": (256, 128)}
    extra_params = (
        Param("pretrain_share", "float", 0.5, "Share of the training budget spent on layer-wise "
              "pre-training (split evenly between the layers); the rest fine-tunes the whole network.",
              low=0.05, high=0.95),
    )

    def build(self):
        self.widths = [self.input_size, *self.params["hidden"], self.k]
        act = self.params["activation"]
        encoder: list[nn.Module] = [Flatten()]
        for i, (fan_in, fan_out) in enumerate(zip(self.widths[:-1], self.widths[1:])):
            encoder.append(nn.Linear(fan_in, fan_out))
            if i < len(self.widths) - 2:
                encoder.append(activation(act))
        decoder: list[nn.Module] = []
        for i, (fan_in, fan_out) in reversed(list(enumerate(zip(self.widths[:-1], self.widths[1:])))):
            decoder.append(nn.Linear(fan_out, fan_in))
            if i > 0:
                decoder.append(activation(act))
        decoder.append(Unflatten(self.input_shape))
        return nn.Sequential(*encoder), nn.Sequential(*decoder)

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def encoder_block(self, i: int) -> nn.Sequential:
        """Layer i (0-based) of the encoder with its activation: h_i → h_{i+1}."""
        linears = [j for j, m in enumerate(self.encoder) if isinstance(m, nn.Linear)]
        end = linears[i + 1] if i + 1 < len(linears) else len(self.encoder)
        return self.encoder[linears[i]:end]

    def decoder_block(self, i: int) -> nn.Sequential:
        """The decoder layer that inverts encoder layer i: h_{i+1} → ĥ_i (with its activation, except
        at the image, where the output activation is applied by the loss)."""
        linears = [j for j, m in enumerate(self.decoder) if isinstance(m, nn.Linear)]
        position = self.depth - 1 - i  # the decoder runs the layers in reverse
        end = linears[position + 1] if position + 1 < len(linears) else len(self.decoder) - 1
        return self.decoder[linears[position]:end]

    def layer_input(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """h_i: the input of encoder layer i, from the layers before it (no gradient)."""
        with torch.no_grad():
            h = self.encoder[0](x)
            for j in range(i):
                h = self.encoder_block(j)(h)
        return h

    def layer_loss(self, i: int):
        """The loss of the shallow autoencoder that pre-trains layer i."""

        def loss_parts(x: torch.Tensor) -> LossParts:
            h = self.layer_input(x, i)
            out = self.decoder_block(i)(self.encoder_block(i)(h))
            if i == 0:
                return LossParts(reconstruction=self.reconstruction_term(out.reshape(x.shape), x))
            return LossParts(reconstruction=F.mse_loss(out, h))

        return loss_parts

    def training_stages(self) -> list[Stage]:
        share = self.params["pretrain_share"] / self.depth
        stages = [Stage(f"pre-train layer {i + 1} ({self.widths[i]}→{self.widths[i + 1]})", self.layer_loss(i),
                        [*self.encoder_block(i).parameters(), *self.decoder_block(i).parameters()], share)
                  for i in range(self.depth)]
        stages.append(Stage("fine-tune", self.loss_parts, list(self.parameters()),
                            1 - self.params["pretrain_share"]))
        return stages
