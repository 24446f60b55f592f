"""Beat PCA on a budget: the test MSE that `plain` with its default configuration (what the app
and CLI offer) reaches after 3 s and 60 s of CPU training, against PCA's at the same k."""

from __future__ import annotations

from aeviz.bench import INFO, BenchContext, Result, Row, fashion_missing, skipped, verdict
from aeviz.analysis.pca import pca_test_mse
from aeviz.data.datasets import load_dataset
from aeviz.training.config import TrainConfig
from aeviz.training.trainer import Trainer
from aeviz.variants import get_variant

KS = (2, 8, 32)
BUDGETS = (3.0, 60.0)
QUICK_BUDGETS = (0.3, 0.6)
TARGET_FRACTION_AT_32 = 0.45  # within the long budget, at most this share of PCA's error at k=32


def default_config(dataset_name: str, k: int, seconds: float, seed: int = 0):
    """`plain` exactly as the CLI and app start it, on the CPU, for `seconds`."""

    defaults = get_variant("plain").training_defaults()
    return TrainConfig(dataset=dataset_name, variant="plain", k=k, max_seconds=seconds, device="cpu",
                       batch_size=defaults["batch_size"], lr=defaults["lr"], seed=seed)


def train_for(dataset, k: int, seconds: float) -> dict:
    trainer = Trainer(default_config(dataset.name, k, seconds), dataset)
    for _ in trainer.run():
        pass
    metrics = trainer.finished.result.metrics
    return {"test_mse": metrics["test_mse"], "epochs": metrics["epochs"],
            "samples_per_second": metrics["samples_per_second"]}


def run(context: BenchContext) -> list[Result]:
    budgets = QUICK_BUDGETS if context.quick else BUDGETS
    what = "plain (defaults) test MSE after {:g} s CPU, k={}"
    missing = fashion_missing(context)
    if missing:
        return [skipped("beat_pca", what.format(b, k), missing) for b in budgets for k in KS]

    dataset = load_dataset(context.bench_dataset())
    results = []
    short, long = budgets
    for seconds in budgets:
        for k in KS:
            k_used = min(k, dataset.input_size - 1)
            pca = pca_test_mse(dataset, k_used)
            context.say(f"  training plain k={k_used} for {seconds:g} s on {dataset.name}")
            got = train_for(dataset, k_used, seconds)
            ratio = got["test_mse"] / pca if pca > 0 else float("nan")
            if seconds == short:
                target, status = "< PCA (ratio < 1)", verdict(ratio < 1.0)
            elif k == 32:
                target, status = f"<= {TARGET_FRACTION_AT_32} x PCA", verdict(ratio <= TARGET_FRACTION_AT_32)
            else:
                target, status = "", INFO
            note = f"{got['epochs']:.1f} epochs at {got['samples_per_second']:,.0f} samples/s"
            results.append(Result("beat_pca", f"{what.format(seconds, k_used)} ({dataset.name})", "MSE/pixel",
                                  got["test_mse"], f"PCA k={k_used}", pca, ratio, target, status, note, got))
    return results


ROW = Row("beat_pca", "Beat PCA on a budget", run, order=30)
