"""`python -m aeviz train`: train one run with a progress bar; the last stdout line is its JSON."""

from __future__ import annotations

import argparse
import sys
import time

from aeviz.cli.interrupt import first_interrupt_stops

EXIT_DIVERGED = 3    # the loss diverged; the last good weights were saved
EXIT_NOT_SAVED = 4   # trained, but the run could not be written (full disk, read-only folder)

HELP = "train an autoencoder; prints a JSON line with run_id, test_mse, epochs, train_seconds, samples_per_second, device"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="digits",
                        help="mnist, fashion-mnist, digits (default), a user dataset (user:…) or the path of your own "
                             ".zip / .npz / .csv file (see README: Bring your own data)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="with --dataset FILE: side of the converted square images, 4..64 (default: their own "
                             "size where square, else 28)")
    parser.add_argument("--variant", default="plain", help="see `python -m aeviz variants`")
    parser.add_argument("--k", type=int, default=None, help="bottleneck size (default: the variant's)")
    parser.add_argument("--epochs", type=float, default=None, help="epochs to train (default 5, 100 on digits, "
                        "unless --max-seconds)")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this many seconds of training")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"),
                        help="bf16 autocast for the forward pass; auto (default) uses it where the CPU has "
                             "AVX512-BF16/AMX or the GPU supports it")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="settings",
                        help="a variant or optimiser setting, repeatable (see `variants --json`)")
    parser.add_argument("--no-save", action="store_true", help="do not save the run")
    parser.add_argument("--resume", metavar="RUN_ID",
                        help="continue an interrupted run (see `runs`) from its last checkpoint to its original "
                             "budget; its own settings are used (the other options are ignored)")
    parser.add_argument("--reuse", action="store_true",
                        help="if a run with this exact configuration is saved (same dataset, variant, k, settings, "
                             "budget and seed), print its JSON instead of training")


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.runs.interrupted import job_trainer, resume_trainer
    from aeviz.runs.store import RunStore, new_run_id

    if args.resume:
        return train_and_report(resume_trainer(RunStore(), args.resume), f"resuming {args.resume}")
    valid = configure(args)
    config = valid.config
    if args.reuse:
        from aeviz.jobs.reuse import find_reusable

        found = find_reusable(RunStore(), config)
        if found is not None:
            print(f"reused run {found.run_id}: same configuration, trained {time.ctime(found.created)}",
                  file=sys.stderr)
            print_json({"run_id": found.run_id, **found.metrics, "reused": True})
            return 0
    if args.no_save:
        from aeviz.training.trainer import Trainer

        trainer = Trainer(valid)
    else:  # checkpointed as it trains: a crash leaves it interrupted, to resume or keep
        trainer = job_trainer(valid, None, RunStore(), new_run_id(config.variant, config.k, config.dataset), "")
    return train_and_report(trainer, f"{config.variant} k={config.k} {config.dataset}")


def configure(args: argparse.Namespace):
    """The run's configuration from the options, validated (a ValidConfig) before any data is loaded."""
    from aeviz.cli.settings import parse_settings
    from aeviz.training.config import TrainConfig
    from aeviz.data.datasets import get_spec
    from aeviz.training.device import resolve_device
    from aeviz.data.user import resolve_dataset
    from aeviz.variants import get_variant

    args.dataset = resolve_dataset(args.dataset, args.image_size)
    spec = get_spec(args.dataset)
    variant = get_variant(args.variant)
    config = TrainConfig(dataset=args.dataset, variant=args.variant,
                         k=args.k if args.k is not None else variant.default_k,
                         epochs=args.epochs, max_seconds=args.max_seconds, seed=args.seed, device=args.device,
                         precision=args.precision)
    defaults = variant.training_defaults(resolve_device(args.device).device)
    config.batch_size = args.batch_size if args.batch_size is not None else defaults["batch_size"]
    config.lr = args.lr if args.lr is not None else defaults["lr"]
    config.split_settings(parse_settings(args.settings))
    return config.validate(spec.image_shape)


def train_and_report(trainer, title: str) -> int:
    """Train with a progress bar (Ctrl-C stops after the step), then the JSON line; returns the exit code."""
    from aeviz.cli.output import follow, print_json, progress_bar

    bar = progress_bar(title)
    with first_interrupt_stops(lambda: trainer.stopped, trainer.stop, "stopping after this step (Ctrl-C again to abort)",
                               sys.stderr):
        finished = follow(trainer.run(), bar, describe_progress, started_lines)
    if finished.save_error:
        checkpointed = trainer.checkpointer is not None and trainer.checkpointer.writes > 0
        sys.stderr.write("error: the run was trained but NOT saved; " + (
            "its last checkpoint stays: `runs` lists it as interrupted, to keep once there is room\n"
            if checkpointed else "nothing was written\n"))
        print_json({"run_id": None, "saved": False, "save_error": finished.save_error, **finished.result.metrics})
        return EXIT_NOT_SAVED
    print_json({"run_id": finished.saved_run_id, **finished.result.metrics})
    return 0 if finished.status != "diverged" else EXIT_DIVERGED


def started_lines(event) -> list[str]:
    return [f"training on {event.device_name} ({event.train_size} images, batch {event.batch_size}, {event.precision})",
            *(f"warning: {warning}" for warning in event.warnings)]


def describe_progress(event) -> str:
    eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds is not None else ""
    return f"loss {event.loss:.4f} {event.samples_per_second:,.0f} samples/s{eta}"
