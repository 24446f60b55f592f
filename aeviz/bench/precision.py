"""Mixed precision on the CPU: samples/s of the default `plain` trained with bf16 autocast against fp32
(interleaved pairs, median of the per-pair ratios), and the test MSE both reach after the same epochs
from the same seed. The speed target holds only for CPUs with native bf16 (AVX512-BF16 or AMX), the
only ones where `precision=auto` picks bf16; elsewhere the speed is reported, not judged."""

from __future__ import annotations

from aeviz.bench import SKIPPED, BenchContext, Result, Row, fashion_missing, median, skipped, verdict
from aeviz.bench.beat_pca import default_config
from aeviz.bench.trainer_overhead import aeviz_trainer_rate
from aeviz.data.datasets import load_dataset
from aeviz.training.config import TrainConfig
from aeviz.training.precision import cpu_bf16_flags, cpu_has_fast_bf16
from aeviz.training.trainer import train
from aeviz.variants import VARIANTS

ROW_NAME = "precision"
SPEED_TARGET = 1.5      # bf16 samples/s over fp32, on a CPU with native bf16
MSE_TOLERANCE = 0.03    # bf16's test MSE at most 3% above fp32's after equal epochs


def plain_config(dataset, precision: str, seed: int = 0, seconds: float | None = None, epochs: float | None = None):
    config = default_config(dataset.name, min(32, dataset.input_size - 1), seconds or 1.0, seed)
    config.max_seconds, config.epochs, config.precision = seconds, epochs, precision
    config.trainer = {"lr_schedule": "constant"}  # a schedule over the budget would tie speed to the loss
    return config


def equal_epochs_mse(dataset, precision: str, epochs: float, seed: int) -> float:
    return train(plain_config(dataset, precision, seed, epochs=epochs), dataset).metrics["test_mse"]


def every_variant(context: BenchContext, epochs: float, seeds: tuple[int, ...]) -> Result:
    """Each variant with its defaults on the 8x8 digits, bf16 against fp32 after equal epochs: the ratio
    of their mean test MSE over `seeds` (the same seeds, so the same batches, in both precisions). On so
    small a test set one seed's ratio moves by a few percent either way with the seed alone."""

    digits = load_dataset("digits")
    ratios = {}
    for slug, variant in VARIANTS.items():
        low, high = variant.k_range(digits.input_size)
        defaults = variant.training_defaults()
        mse = {}
        for precision in ("fp32", "bf16"):
            mse[precision] = sum(
                train(TrainConfig(dataset="digits", variant=slug, k=max(low, min(variant.default_k, high)),
                                  epochs=epochs, device="cpu", precision=precision, seed=seed,
                                  batch_size=defaults["batch_size"], lr=defaults["lr"]), digits).metrics["test_mse"]
                for seed in seeds) / len(seeds)
        ratios[slug] = mse["bf16"] / mse["fp32"]
        context.say(f"  {slug}: bf16/fp32 mean test MSE {ratios[slug]:.3f}")
    kept = sorted(slug for slug in ratios if not VARIANTS[slug].trains_well_in_bf16)
    judged = {slug: ratio for slug, ratio in ratios.items() if slug not in kept}
    worst = max(judged, key=judged.get)
    note = f"worst: {worst}; mean of {len(seeds)} seed{'s' if len(seeds) > 1 else ''} each"
    if kept:  # measured and shown, but precision=auto never trains them in bf16
        note += "; kept in fp32 by precision=auto: " + ", ".join(f"{slug} {ratios[slug]:.2f}x" for slug in kept)
    return Result(ROW_NAME, f"test MSE after {epochs:g} epochs on digits, bf16 vs fp32, of every variant "
                  "precision=auto trains in bf16: the worst", "x", judged[worst], "fp32", 1.0, judged[worst],
                  f"<= {1 + MSE_TOLERANCE:g}x", verdict(judged[worst] <= 1 + MSE_TOLERANCE), note,
                  {"ratios": ratios, "seeds": list(seeds), "kept_in_fp32": kept})


def run(context: BenchContext) -> list[Result]:
    speed_what = "plain samples/s with bf16 autocast vs fp32, CPU"
    mse_what = "plain test MSE after equal epochs, bf16 vs fp32"
    missing = fashion_missing(context)
    if missing:
        return [skipped(ROW_NAME, speed_what, missing, f">= {SPEED_TARGET}x"),
                skipped(ROW_NAME, mse_what, missing, f"<= {1 + MSE_TOLERANCE:g}x")]

    dataset = load_dataset(context.bench_dataset())
    repeats = context.repeats or (2 if context.quick else 5)
    seconds = 0.3 if context.quick else 4.0
    ratios, rates = [], {"bf16": [], "fp32": []}
    for repeat in range(repeats):
        for precision in (("bf16", "fp32") if repeat % 2 == 0 else ("fp32", "bf16")):
            rates[precision].append(aeviz_trainer_rate(plain_config(dataset, precision, repeat, seconds), dataset))
        ratios.append(rates["bf16"][-1] / rates["fp32"][-1] if rates["fp32"][-1] else float("nan"))
        context.say(f"  repeat {repeat + 1}/{repeats}: bf16 {rates['bf16'][-1]:,.0f} vs fp32 "
                    f"{rates['fp32'][-1]:,.0f} samples/s")
    ratio = median(ratios)
    fast = cpu_has_fast_bf16()
    note = f"median of {repeats} interleaved pairs of {seconds:g} s"
    if fast:
        speed_status = verdict(ratio >= SPEED_TARGET)
        note += f"; CPU flags {', '.join(sorted(cpu_bf16_flags())) or 'per torch'}"
    else:
        speed_status = SKIPPED
        note = (f"target not applicable: this CPU has no AVX512-BF16 or AMX, so bf16 is emulated and "
                f"precision=auto trains in fp32; {note}")
    epochs = 3.0 if context.quick else 2.0
    seeds = (0, 1) if context.quick else (0,)
    context.say(f"  {epochs:g} epochs each in bf16 and fp32")
    mse = {p: sum(equal_epochs_mse(dataset, p, epochs, seed) for seed in seeds) / len(seeds) for p in ("fp32", "bf16")}
    mse_ratio = mse["bf16"] / mse["fp32"]
    k = min(32, dataset.input_size - 1)
    return [
        Result(ROW_NAME, f"{speed_what} ({dataset.name}, k={k})", "samples/s", median(rates["bf16"]), "fp32",
               median(rates["fp32"]), ratio, f">= {SPEED_TARGET}x (CPUs with native bf16)", speed_status, note,
               {"ratios": ratios, "cpu_has_fast_bf16": fast}),
        Result(ROW_NAME, f"{mse_what} ({dataset.name}, k={k}, {epochs:g} epochs)", "MSE/pixel", mse["bf16"], "fp32",
               mse["fp32"], mse_ratio, f"<= {1 + MSE_TOLERANCE:g}x", verdict(mse_ratio <= 1 + MSE_TOLERANCE),
               f"same seed{'s' if len(seeds) > 1 else ''} and batches; mean of {len(seeds)}"),
        every_variant(context, 3.0 if context.quick else 10.0, (0,) if context.quick else (0, 1, 2)),
    ]


ROW = Row(ROW_NAME, "Mixed precision (bf16) against fp32 on the CPU", run, order=15)
