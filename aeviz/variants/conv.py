"""Convolutional autoencoder: strided convolutions down to a k-number code, transposed ones back up.

Each encoder layer is a 3x3 convolution with stride 2 (28 → 14 → 7, or 8 → 4 → 2), then a
linear map to the code; the decoder mirrors it with 3x3 transposed convolutions whose output
padding is chosen to land exactly on the input size. Convolutions share weights across the
image, so the network has far fewer parameters than an MLP and knows that pixels have
neighbours.
"""

from __future__ import annotations

from torch import nn

from aeviz.variants.nets import Unflatten, activation
from aeviz.params import Param
from aeviz.variants.base import Autoencoder


class ConvAutoencoder(Autoencoder):
    slug = "conv"
    title = "Convolutional"
    summary = ("Strided convolutions squeeze the image to k numbers and transposed convolutions rebuild it: "
               "weights shared across positions, so few parameters and a sense of locality.")
    menu_order = 110
    extra_params = (
        Param("channels", "widths", (32, 64), "Channels of the convolution layers, each halving the image "
              "side (stride 2), e.g. 32,64; the decoder mirrors them.", ),
    )

    @classmethod
    def declared_params(cls):
        # A convolutional network has channels, not hidden widths.
        return tuple(p for p in super().declared_params() if p.name != "hidden")

    def build(self):
        channels = list(self.params["channels"])
        act = self.params["activation"]
        in_channels, height, width = self.input_shape
        sizes = [(height, width)]
        for _ in channels:
            h, w = sizes[-1]
            sizes.append(((h + 1) // 2, (w + 1) // 2))  # a 3x3 conv, stride 2, padding 1
        encoder: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *channels[:-1]], channels):
            encoder += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), activation(act)]
        flat = (channels[-1] if channels else in_channels) * sizes[-1][0] * sizes[-1][1]
        encoder += [nn.Flatten(), nn.Linear(flat, self.k)]

        top = (channels[-1] if channels else in_channels, *sizes[-1])
        decoder: list[nn.Module] = [nn.Linear(self.k, flat)]
        if channels:
            decoder.append(activation(act))
        decoder.append(Unflatten(top))
        outs = [in_channels, *channels[:-1]]
        for index in reversed(range(len(channels))):
            (h_out, w_out), (h_in, w_in) = sizes[index], sizes[index + 1]
            # A transposed 3x3 conv with stride 2 and padding 1 gives 2n - 1 + output_padding.
            padding = (h_out - (2 * h_in - 1), w_out - (2 * w_in - 1))
            decoder.append(nn.ConvTranspose2d(channels[index], outs[index], 3, stride=2, padding=1,
                                              output_padding=padding))
            if index > 0:
                decoder.append(activation(act))
        return nn.Sequential(*encoder), nn.Sequential(*decoder)

    def feature_images(self):
        """Convolution filters are not images of the input size; only a conv-free model has them."""
        return super().feature_images() if not self.params["channels"] else None
