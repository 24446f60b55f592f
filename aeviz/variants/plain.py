"""Plain undercomplete autoencoder: an MLP squeezed through k code units, nothing else."""

from aeviz.variants.base import Autoencoder


class PlainAutoencoder(Autoencoder):
    slug = "plain"
    title = "Plain (undercomplete)"
    summary = ("An MLP forced through a bottleneck of k numbers: to rebuild the image it must keep "
               "what matters and drop the rest.")
    menu_order = 10
