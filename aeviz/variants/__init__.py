"""The registry of autoencoder variants: slug -> class. Slugs are part of the CLI contract.

Every module of this folder (except SHARED_MODULES and names starting with "_") is imported and each
`Autoencoder` subclass it defines with a slug is registered, in `menu_order`: adding a variant is
adding one file, as adding a CLI command is adding one module to aeviz/cli/commands/.
"""

from __future__ import annotations

import importlib
import pkgutil

from aeviz.errors import InvalidConfig
from aeviz.variants.base import Autoencoder, LossParts, Stage
from aeviz.variants.budget import check_model

# The autoencoder other variants are compared with, and the default choice in the CLI and menus.
REFERENCE_VARIANT = "plain"
# The modules of this folder that every variant shares and that define none: the base class, the network
# building blocks, the resource budget of a model, and the optimiser settings variants declare defaults of.
SHARED_MODULES = ("base", "nets", "budget", "trainer_settings")


def discover_variants(package: str) -> dict[str, type[Autoencoder]]:
    """slug -> class for every Autoencoder subclass with a slug defined in a module of `package`
    (SHARED_MODULES and modules starting with "_" skipped), in menu_order, then slug."""
    found: list[type[Autoencoder]] = []
    for module_info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if module_info.name in SHARED_MODULES or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{module_info.name}")
        found += [obj for obj in vars(module).values()
                  if isinstance(obj, type) and issubclass(obj, Autoencoder) and obj.__module__ == module.__name__
                  and obj.slug]
    registry: dict[str, type[Autoencoder]] = {}
    for cls in sorted(found, key=lambda cls: (cls.menu_order, cls.slug)):
        if cls.slug in registry:
            raise ImportError(f"two variants share the slug {cls.slug!r}: {registry[cls.slug].__module__} and "
                              f"{cls.__module__}")
        registry[cls.slug] = cls
    return registry


VARIANTS: dict[str, type[Autoencoder]] = discover_variants(__name__)


# Models trained by the same trainer on data other than images; kept out of VARIANTS (and so out of
# the image menus), imported on first use: slug -> (module, class name).
NON_IMAGE_MODELS: dict[str, tuple[str, str]] = {
    "autorec": ("aeviz.recommender.autorec", "IAutoRec"),
}


def get_variant(slug: str) -> type[Autoencoder]:
    if slug in NON_IMAGE_MODELS:
        module, name = NON_IMAGE_MODELS[slug]
        return getattr(importlib.import_module(module), name)
    try:
        return VARIANTS[slug]
    except KeyError:
        raise InvalidConfig(f"unknown variant {slug!r}; choose one of: {', '.join(VARIANTS)}") from None


def build_model(slug: str, input_shape: tuple[int, int, int], k: int, params: dict | None = None) -> Autoencoder:
    """The model, once its size is known to be within the server's budget (budget.OverBudget otherwise)."""

    variant = get_variant(slug)
    check_model(variant, input_shape, k, params)
    return variant(input_shape, k, params)


def variants_where(fact: str) -> tuple[str, ...]:
    """Slugs of the variants whose declared `fact` (a class attribute of Autoencoder) is set, in menu order."""
    return tuple(slug for slug, cls in VARIANTS.items() if getattr(cls, fact))


__all__ = ["VARIANTS", "REFERENCE_VARIANT", "Autoencoder", "LossParts", "Stage", "get_variant", "build_model",
           "variants_where"]
