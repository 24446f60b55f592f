"""`python -m aeviz pca`: PCA fitted on the train split; test MSE per pixel at k."""

from __future__ import annotations

import argparse

HELP = "PCA's test MSE at k (fitted on the train split); prints a JSON line"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="digits", help="a dataset name, or the path of your own .zip / .npz / .csv")
    parser.add_argument("--k", type=int, required=True)


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.data.datasets import get_spec, load_dataset
    from aeviz.errors import InvalidConfig
    from aeviz.analysis.pca import pca_test_mse

    from aeviz.data.user import resolve_dataset

    args.dataset = resolve_dataset(args.dataset)
    input_size = get_spec(args.dataset).input_size
    if not 1 <= args.k <= input_size:
        raise InvalidConfig(f"k must be between 1 and {input_size} for {args.dataset} (got {args.k})")
    dataset = load_dataset(args.dataset)
    print_json({"dataset": args.dataset, "k": args.k, "test_mse": pca_test_mse(dataset, args.k)})
    return 0
