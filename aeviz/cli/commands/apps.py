"""`python -m aeviz apps --run RUN_ID`: what a trained run is good for, each beside its baselines:
anomaly AUC (by default the mean over every class held out in turn, a fresh model per class),
retrieval precision@10, k-means NMI/ARI (means over 5 k-means runs) and linear-probe accuracy."""

from __future__ import annotations

import argparse
import sys

HELP = ("anomaly detection AUC (mean over each class held out in turn), precision@10, clustering NMI/ARI and "
        "linear-probe accuracy of a run's codes, each with PCA (same k) and pixel baselines; prints a JSON line")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="run id (see `python -m aeviz runs`)")
    parser.add_argument("--json", action="store_true", help="only the JSON line on stdout (it is always the last line)")
    parser.add_argument("--anomalous", default="each",
                        help="'each' (default): every class held out in turn, one fresh model per class, and the "
                             "mean AUC over the classes; or comma-separated classes held out together as the "
                             "anomalies (one model, e.g. 9)")
    parser.add_argument("--anomaly-epochs", type=float, default=None,
                        help="epochs for the model trained on the normal classes (default: the run's, at most 10)")
    parser.add_argument("--anomaly-seconds", type=float, default=120.0,
                        help="time budget for each such model (default 120)")
    parser.add_argument("--no-anomaly", action="store_true", help="skip anomaly detection (no training)")
    parser.add_argument("--sizes", default="20,100,500,2000", help="labelled-set sizes for the linear probe")
    parser.add_argument("--queries", type=int, default=2000, help="retrieval queries sampled from the test set")
    parser.add_argument("--cluster-images", type=int, default=5000, help="test images clustered (a random subset)")
    parser.add_argument("--cluster-repeats", type=int, default=5,
                        help="k-means runs per space (each the best of 10 starts); NMI and ARI are their means "
                             "(default 5)")
    parser.add_argument("--seed", type=int, default=0)


def _classes(text: str, n: int) -> list[int]:
    from aeviz.errors import InvalidConfig

    try:
        classes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InvalidConfig(f"--anomalous expects 'each' or class numbers like 8,9 (got {text!r})") from None
    if not classes or any(c < 0 or c >= n for c in classes):
        raise InvalidConfig(f"--anomalous classes must lie in 0..{n - 1} (got {text!r})")
    if len(classes) == n:
        raise InvalidConfig("--anomalous must leave at least one class normal")
    return classes


def run(args: argparse.Namespace) -> int:
    from aeviz.cli.output import print_json
    from aeviz.data.datasets import load_dataset
    from aeviz.errors import InvalidConfig
    from aeviz.runs.store import RunStore

    loaded = RunStore().load(args.run)
    config = loaded.config
    dataset = load_dataset(config.dataset)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise InvalidConfig(f"--sizes expects whole numbers like 20,100 (got {args.sizes!r})") from None
    each = args.anomalous.strip().lower() == "each"
    anomalous = None if each else _classes(args.anomalous, len(dataset.class_names))  # checked before any work
    out = {"run_id": args.run, "dataset": config.dataset, "variant": config.variant, "k": config.k}
    out.update(_code_uses(args, loaded.model, dataset, config.k, sizes))
    epochs = args.anomaly_epochs if args.anomaly_epochs is not None else min(config.epochs or 5.0, 10.0)
    if not args.no_anomaly and each:
        out.update(_each_class_held_out(args, config, dataset, epochs))
    elif not args.no_anomaly:
        out.update(_classes_held_out(args, config, dataset, epochs, anomalous))
    print_json(out)
    return 0


def _code_uses(args: argparse.Namespace, model, dataset, k: int, sizes: list[int]) -> dict:
    """Retrieval, clustering and linear probes on the run's codes, PCA codes at k and raw pixels."""
    import numpy as np

    from aeviz.applications.clustering import clustering_report
    from aeviz.applications.features import feature_spaces
    from aeviz.applications.retrieval import retrieval_report
    from aeviz.applications.transfer import probe_curve
    from aeviz.analysis.pca import dataset_pca

    labels = dataset.test_labels.numpy()
    pca = dataset_pca(dataset)
    log = sys.stderr
    log.write("encoding the train and test sets (codes, PCA codes, pixels)\n")
    test_spaces = feature_spaces(model, dataset.train_images, dataset.test_images, k, pca)
    train_spaces = feature_spaces(model, dataset.train_images, dataset.train_images, k, pca)

    log.write("retrieval: precision@10 over the test set\n")
    precision = retrieval_report(test_spaces, labels, 10, args.queries, args.seed)

    rng = np.random.default_rng(args.seed)
    subset = np.arange(len(labels))
    if len(labels) > args.cluster_images:
        subset = np.sort(rng.choice(len(labels), args.cluster_images, replace=False))
    log.write(f"clustering: k-means on {len(subset)} test images, {args.cluster_repeats} runs per space\n")
    clusters = clustering_report({name: f[subset] for name, f in test_spaces.items()}, labels[subset],
                                 seed=args.seed, repeats=args.cluster_repeats)

    log.write(f"transfer: linear probes with {', '.join(map(str, sizes))} labelled images\n")
    probes = probe_curve(train_spaces, dataset.train_labels.numpy(), test_spaces, labels, sizes, args.seed)

    out = {"clustering": f"k-means (best of 10 starts) on {len(subset)} test images, {args.cluster_repeats} seeds; "
                         "nmi/ari are means over the seeds, *_std their spread"}
    for name, prefix in (("codes", ""), ("pca", "pca_"), ("pixels", "pixel_")):
        out[f"{prefix}precision_at_10"] = precision[name]
        out[f"{prefix}nmi"] = clusters[name]["nmi"]
        out[f"{prefix}ari"] = clusters[name]["ari"]
        out[f"{prefix}nmi_std"], out[f"{prefix}ari_std"] = clusters[name]["nmi_std"], clusters[name]["ari_std"]
        out[f"{prefix}probe_accuracy"] = {str(size): acc for size, acc in probes[name].items()}
    return out


def _each_class_held_out(args: argparse.Namespace, config, dataset, epochs: float) -> dict:
    """Anomaly AUC averaged over every class held out in turn (a fresh model each time)."""
    from aeviz.applications.anomaly import HeldOutSweep
    from aeviz.cli.output import follow, progress_bar
    from aeviz.errors import InvalidConfig

    sweep = HeldOutSweep(config, dataset, epochs, args.anomaly_seconds)
    sys.stderr.write(f"anomaly detection: each of the {len(sweep.classes)} classes held out in turn; each time a "
                     f"fresh {config.variant} (k={config.k}) trains on the other classes for up to {epochs:g} "
                     f"epochs / {args.anomaly_seconds:g}s (the run itself saw every class)\n")

    def describe(event) -> str:
        held = dataset.class_names[sweep.current] if sweep.current is not None else ""
        return f"held out {held} · loss {event.loss:.4f}"

    follow(sweep.run(), progress_bar("anomaly models"), describe)
    if not sweep.reports:
        raise InvalidConfig("no anomaly model finished training")
    summary = sweep.to_json()
    return {"auc": summary["auc"], "pca_auc": summary["pca_auc"], "anomaly": summary}


def _classes_held_out(args: argparse.Namespace, config, dataset, epochs: float, anomalous: list[int]) -> dict:
    """Anomaly AUC of one fresh model trained on the classes not in `anomalous`."""
    from aeviz.applications.anomaly import anomaly_report, anomaly_trainer
    from aeviz.cli.output import follow, progress_bar

    normal = [c for c in range(len(dataset.class_names)) if c not in anomalous]
    sys.stderr.write(f"anomaly detection: training a fresh {config.variant} (k={config.k}) on the normal classes "
                     f"{', '.join(dataset.class_names[c] for c in normal)} for up to {epochs:g} epochs / "
                     f"{args.anomaly_seconds:g}s (the run itself saw every class)\n")
    trainer = anomaly_trainer(config, dataset, normal, epochs, args.anomaly_seconds)
    finished = follow(trainer.run(), progress_bar("anomaly model"), lambda event: f"loss {event.loss:.4f}")
    report = anomaly_report(finished.result.model, dataset, normal)
    return {"auc": report.auc["autoencoder"], "pca_auc": report.auc["pca"],
            "anomaly": {**report.to_json(), "anomalous_classes": anomalous,
                        "trained": f"a fresh model like the run's, trained for "
                                   f"{finished.result.metrics['epochs']:.2f} epochs on the normal classes only"}}
