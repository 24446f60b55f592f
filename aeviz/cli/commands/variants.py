"""`python -m aeviz variants`: the registry, with each variant's parameters."""

from __future__ import annotations

import argparse

HELP = "list the autoencoder variants and their parameters"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON line")


def describe() -> list[dict]:
    from aeviz.variants.trainer_settings import TRAINER_PARAMS
    from aeviz.variants import VARIANTS

    return [{"slug": cls.slug, "title": cls.title, "summary": cls.summary, "default_k": cls.default_k,
             "k_range": {"mnist": list(cls.k_range(784)), "digits": list(cls.k_range(64))},
             "training_defaults": cls.training_defaults(),
             "params": [p.to_json() for p in cls.declared_params()],
             "trainer_params": [p.to_json() for p in TRAINER_PARAMS]}
            for cls in VARIANTS.values()]


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json

    variants = describe()
    if args.json:
        print_json(variants)
        return 0
    for variant in variants:
        print(f"{variant['slug']:<13} {variant['summary']}")
        for param in variant["params"]:
            print(f"    {param['name']:<16} default {param['default']!s:<10} {param['help']}")
    return 0
