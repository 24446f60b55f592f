"""`python -m aeviz autorec`: train I-AutoRec on MovieLens 100K (u1.base) and report its test RMSE on
u1.test beside four baselines; progress on stderr, the JSON line last on stdout."""

from __future__ import annotations

import argparse

HELP = ("train I-AutoRec on MovieLens 100K (u1.base) and print a JSON line with test_rmse on u1.test and "
        "the baselines' RMSE (global mean, item mean, user mean, user+item biases)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from aeviz.recommender.autorec import DEFAULT_EPOCHS, IAutoRec

    parser.add_argument("--json", action="store_true", help="the JSON line is always printed last on stdout")
    parser.add_argument("--k", type=int, default=IAutoRec.default_k, help="hidden units (default 500)")
    parser.add_argument("--epochs", type=float, default=None, help=f"epochs (default {DEFAULT_EPOCHS:g} unless --max-seconds)")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this many seconds of training")
    parser.add_argument("--lr", type=float, default=IAutoRec.default_lr)
    parser.add_argument("--batch-size", type=int, default=IAutoRec.default_batch_size, help="movies per step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="settings",
                        help="a model or optimiser setting, repeatable (l2, activation, optimizer, lr_schedule, ...)")


def run(args: argparse.Namespace) -> int:
    from aeviz.recommender.autorec import DEFAULT_EPOCHS, autorec_config, evaluation_report, make_trainer
    from aeviz.cli.output import close_bar, follow, print_json, progress_bar, show_fraction
    from aeviz.cli.settings import parse_settings
    from aeviz.training.config import check_positive
    from aeviz.recommender.movielens import load_movielens

    check_positive("learning rate", args.lr)
    download_bar = []  # made at the first byte: nothing is drawn when the data is already here (or unavailable)

    def downloading(done: int, total: int, message: str) -> None:
        if not download_bar:
            download_bar.append(progress_bar("ml-100k download"))
        show_fraction(download_bar[0], done / total if total else 0.0, message)

    data = load_movielens(progress=downloading)
    if download_bar:
        close_bar(download_bar[0])
    epochs = args.epochs if args.epochs is not None else (None if args.max_seconds else DEFAULT_EPOCHS)
    config = autorec_config(k=args.k, epochs=epochs, max_seconds=args.max_seconds, lr=args.lr,
                            batch_size=args.batch_size, seed=args.seed, device=args.device)
    config.split_settings(parse_settings(args.settings))
    trainer = make_trainer(data, config)

    def started(event) -> list[str]:
        return [f"training I-AutoRec (k={config.k}) on {event.device_name}: {len(data.train):,} ratings "
                f"of {data.n_items:,} movies by {data.n_users:,} users (u1.base)"]

    def describe(event) -> str:
        eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds is not None else ""
        return f"epoch {event.epoch:.1f} masked MSE {event.losses['reconstruction']:.4f}{eta}"

    finished = follow(trainer.run(), progress_bar("autorec ml-100k"), describe, started)
    report = evaluation_report(finished.result.model, data)
    metrics = finished.result.metrics
    print_json({**report, **{name: rmse for name, rmse in report["baselines"].items()},
                "status": finished.status, "k": config.k, "epochs": metrics["epochs"],
                "train_seconds": metrics["train_seconds"], "device": metrics["device"], "source": data.source})
    return 0 if finished.status != "diverged" else 3
