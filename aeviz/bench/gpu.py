"""GPU: samples/s of the trainer on CUDA for `plain` (target on an H100/H200-class GPU) and `conv` against
the CPU, `plain` against PCA after 1 s of GPU training, and the trainer's overhead against a hand-written
loop on the GPU. Each uses the defaults a user gets on that device (bf16 autocast and TF32 where the GPU
supports them, the variant's GPU batch size). Only where torch sees a CUDA device; `measure` runs the same
code on any device, which is how the tests check it without a GPU."""

from __future__ import annotations

from aeviz.bench import BenchContext, Result, Row, fashion_missing, skipped, verdict
from aeviz.bench.trainer_overhead import TARGET, aeviz_trainer_rate, measure_overhead
from aeviz.analysis.pca import pca_test_mse
from aeviz.bench.beat_pca import default_config
from aeviz.data.datasets import load_dataset
from aeviz.training.device import resolve_device
from aeviz.training.trainer import train
from aeviz.variants import get_variant

ROW_NAME = "gpu"
SAMPLES_TARGET = 1_000_000   # plain, samples/s, on an H100/H200-class GPU
MEASURED_VARIANTS = ("plain", "conv")  # the dense and the convolutional trainer
TARGETED_VARIANT = "plain"  # the samples/s target is set for the dense one
PCA_SECONDS = 1.0            # plain below PCA at k=32 within this much GPU training


def device_config(dataset, variant: str, device: str, seconds: float | None, seed: int = 0):
    """`variant` with the defaults the CLI and app give it on `device`."""

    config = default_config(dataset.name, min(32, dataset.input_size - 1), seconds or 1.0, seed)
    defaults = get_variant(variant).training_defaults(device)
    config.variant, config.device, config.max_seconds = variant, device, seconds
    config.batch_size, config.lr = defaults["batch_size"], defaults["lr"]
    return config


def run(context: BenchContext) -> list[Result]:
    import torch

    what = "CUDA samples/s, PCA in 1 s, trainer overhead on GPU"
    if not torch.cuda.is_available():
        return [skipped(ROW_NAME, what, "no CUDA GPU on this machine")]
    missing = fashion_missing(context)
    if missing:
        return [skipped(ROW_NAME, what, missing)]
    return measure(context, "cuda")


def measure(context: BenchContext, device: str) -> list[Result]:
    dataset = load_dataset(context.bench_dataset())
    name = resolve_device(device).name
    seconds = 0.3 if context.quick else 4.0
    results = []
    for variant in MEASURED_VARIANTS:
        config = device_config(dataset, variant, device, seconds)
        aeviz_trainer_rate(config, dataset, device)  # warm-up: CUDA context, kernels, cuBLAS handles
        rate = aeviz_trainer_rate(config, dataset, device)
        cpu = aeviz_trainer_rate(device_config(dataset, variant, "cpu", seconds), dataset, "cpu")
        what = (f"{variant} trainer samples/s on {name} ({dataset.name}, batch {config.batch_size}, "
                f"precision {config.precision})")
        target, status = "", "info"
        if variant == TARGETED_VARIANT:
            target, status = f">= {SAMPLES_TARGET:,} (H100/H200-class)", verdict(rate >= SAMPLES_TARGET)
        results.append(Result(ROW_NAME, what, "samples/s", rate, "same variant on the CPU", cpu,
                              rate / cpu if cpu else None, target, status))
    k = min(32, dataset.input_size - 1)
    pca = pca_test_mse(dataset, k)
    budget = 0.3 if context.quick else PCA_SECONDS
    trained = train(device_config(dataset, "plain", device, budget), dataset).metrics
    results.append(Result(ROW_NAME, f"plain test MSE after {budget:g} s on {name}, k={k} ({dataset.name})",
                          "MSE/pixel", trained["test_mse"], f"PCA k={k}", pca, trained["test_mse"] / pca,
                          "< PCA (ratio < 1)", verdict(trained["test_mse"] < pca),
                          f"{trained['epochs']:.1f} epochs at {trained['samples_per_second']:,.0f} samples/s"))
    repeats = context.repeats or (2 if context.quick else 5)
    m = measure_overhead(dataset, device, seconds, repeats, context.say)
    results.append(Result(ROW_NAME, f"Trainer samples/s vs hand-written loop on {name}", "samples/s", m["aeviz"],
                          "hand-written loop", m["hand"], m["ratio"], f">= {TARGET}", verdict(m["ratio"] >= TARGET),
                          f"median of {repeats} interleaved pairs", {"ratios": m["ratios"]}))
    return results


ROW = Row(ROW_NAME, "GPU throughput, PCA in 1 s and overhead", run, order=60)
