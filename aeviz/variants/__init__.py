"""The registry of autoencoder variants: slug -> class. Slugs are part of the CLI contract."""

from __future__ import annotations

from aeviz.errors import InvalidConfig
from aeviz.variants.base import Autoencoder, LossParts, Stage
from aeviz.variants.contractive import ContractiveAutoencoder
from aeviz.variants.conv import ConvAutoencoder
from aeviz.variants.denoising import DenoisingAutoencoder
from aeviz.variants.ksparse import KSparseAutoencoder
from aeviz.variants.linear import LinearAutoencoder
from aeviz.variants.overcomplete import OvercompleteAutoencoder
from aeviz.variants.plain import PlainAutoencoder
from aeviz.variants.sparse_kl import SparseKLAutoencoder
from aeviz.variants.sparse_l1 import SparseL1Autoencoder
from aeviz.variants.stacked import StackedAutoencoder
from aeviz.variants.vae import VariationalAutoencoder

VARIANTS: dict[str, type[Autoencoder]] = {
    cls.slug: cls
    for cls in (
        PlainAutoencoder,
        LinearAutoencoder,
        SparseL1Autoencoder,
        SparseKLAutoencoder,
        KSparseAutoencoder,
        OvercompleteAutoencoder,
        DenoisingAutoencoder,
        ContractiveAutoencoder,
        VariationalAutoencoder,
        StackedAutoencoder,
        ConvAutoencoder,
    )
}


# Models trained by the same trainer on data other than images; kept out of VARIANTS (and so out of
# the image menus), imported on first use: slug -> (module, class name).
NON_IMAGE_MODELS: dict[str, tuple[str, str]] = {
    "autorec": ("aeviz.autorec", "IAutoRec"),
}


def get_variant(slug: str) -> type[Autoencoder]:
    if slug in NON_IMAGE_MODELS:
        import importlib

        module, name = NON_IMAGE_MODELS[slug]
        return getattr(importlib.import_module(module), name)
    try:
        return VARIANTS[slug]
    except KeyError:
        raise InvalidConfig(f"unknown variant {slug!r}; choose one of: {', '.join(VARIANTS)}") from None


def build_model(slug: str, input_shape: tuple[int, int, int], k: int, params: dict | None = None) -> Autoencoder:
    return get_variant(slug)(input_shape, k, params)


__all__ = ["VARIANTS", "Autoencoder", "LossParts", "Stage", "get_variant", "build_model"]
