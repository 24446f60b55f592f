"""GPU: samples/s of the trainer on CUDA against the CPU for `plain` and `conv`, and the trainer's
overhead against a hand-written loop on the GPU. Only where torch sees a CUDA device."""

from __future__ import annotations

from aeviz.bench import BenchContext, Result, Row, fashion_missing, skipped, verdict
from aeviz.bench.trainer_overhead import TARGET, aeviz_trainer_rate, measure_overhead


def run(context: BenchContext) -> list[Result]:
    import torch

    if not torch.cuda.is_available():
        return [skipped("gpu", "CUDA vs CPU samples/s; trainer overhead on GPU", "no CUDA GPU on this machine")]
    missing = fashion_missing(context)
    if missing:
        return [skipped("gpu", "CUDA vs CPU samples/s; trainer overhead on GPU", missing)]
    from aeviz.bench.beat_pca import default_config
    from aeviz.data import load_dataset
    from aeviz.variants import VARIANTS

    dataset = load_dataset(context.bench_dataset())
    name = torch.cuda.get_device_name(0)
    seconds = 1.0 if context.quick else 4.0
    results = []
    for variant in [v for v in ("plain", "conv") if v in VARIANTS]:
        config = default_config(dataset.name, min(32, dataset.input_size - 1), seconds)
        config.variant = variant
        defaults = VARIANTS[variant].training_defaults()
        config.batch_size, config.lr = defaults["batch_size"], defaults["lr"]
        config.device = "cuda"
        aeviz_trainer_rate(config, dataset, "cuda")  # warm-up: CUDA context, kernels
        cuda = aeviz_trainer_rate(config, dataset, "cuda")
        config.device = "cpu"
        cpu = aeviz_trainer_rate(config, dataset, "cpu")
        results.append(Result("gpu", f"{variant} trainer samples/s on {name} ({dataset.name}, batch "
                                     f"{config.batch_size})", "samples/s", cuda, "same on the CPU", cpu,
                              cuda / cpu if cpu else None, "", "info"))
    repeats = context.repeats or (2 if context.quick else 5)
    m = measure_overhead(dataset, "cuda", seconds, repeats, context.say)
    results.append(Result("gpu", f"Trainer samples/s vs hand-written loop on {name}", "samples/s", m["aeviz"],
                          "hand-written loop", m["hand"], m["ratio"], f">= {TARGET}", verdict(m["ratio"] >= TARGET),
                          f"median of {repeats} interleaved pairs", {"ratios": m["ratios"]}))
    return results


ROW = Row("gpu", "GPU throughput and overhead", run, order=60)
