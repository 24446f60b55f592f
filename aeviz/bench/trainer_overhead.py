"""Trainer overhead: samples/s of the aeviz Trainer (with the progress events and reconstruction
snapshots the app gets) against a minimal hand-written PyTorch loop over the same model, batch
size and in-memory data. The two run in turns, several times, and the median of the per-pair
ratios is reported, so a machine that slows down affects both alike."""

from __future__ import annotations

import time

from aeviz.bench import BenchContext, Result, Row, fashion_missing, median, skipped, verdict
from aeviz.data.datasets import load_dataset
from aeviz.training.config import TrainConfig
from aeviz.training.events import Progress, Snapshot, Started
from aeviz.training.precision import autocast, resolve_precision
from aeviz.training.setup import make_optimizer
from aeviz.training.trainer import Trainer
from aeviz.variants import build_model, get_variant
from aeviz.variants.trainer_settings import trainer_settings

TARGET = 0.95


def hand_written_loop(model, images, batch_size: int, lr: float, seconds: float, seed: int,
                      optimizer_settings: dict) -> float:
    """The baseline: shuffle, slice, forward, MSE, backward, optimiser step. Returns samples/s.
    The forward runs in the precision the trainer picks by default there (bf16 where fast), so the
    ratio measures only the loop around the step."""
    import torch
    import torch.nn.functional as F


    device_type = images.device.type
    precision = resolve_precision("auto", device_type)

    generator = torch.Generator().manual_seed(seed)

    # The trainer's own optimiser (fused Adam or AdamW, as the trainer's settings say), so the ratio
    # measures only the loop around it.
    optimizer = make_optimizer(model.parameters(), lr, optimizer_settings)
    model.train()
    n, seen, position, perm = len(images), 0, len(images), None
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if position >= n:
            perm, position = torch.randperm(n, generator=generator).to(images.device), 0
        batch = images.index_select(0, perm[position:position + batch_size])
        position += batch_size
        with autocast(device_type, precision):
            loss = F.mse_loss(model(batch), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(batch)
    if images.is_cuda:
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - started)


def aeviz_trainer_rate(config, dataset, device: str = "cpu") -> float:
    """Samples/s of Trainer.run() as the app consumes it: from Started to the last Progress,
    snapshots included (the trainer's own figure leaves snapshot time out)."""

    trainer = Trainer(config, dataset)
    started = last = None
    samples = 0
    kept = []  # the app keeps snapshots in session state; holding them costs the same here
    for event in trainer.run():
        if isinstance(event, Started):
            started = time.perf_counter()
        elif isinstance(event, Progress):
            last, samples = time.perf_counter(), trainer.samples_seen
        elif isinstance(event, Snapshot):
            kept.append(event)
    if started is None or last is None or last <= started:
        return 0.0
    return samples / (last - started)


def measure_overhead(dataset, device: str, seconds: float, repeats: int, say=lambda m: None) -> dict:
    """Interleaved runs of the trainer and the hand-written loop; medians and per-pair ratios."""
    import torch


    variant = get_variant("plain")
    defaults = variant.training_defaults(device)
    held = {"lr_schedule": "constant"}  # a schedule would tie the speed to the budget
    settings = trainer_settings(variant, held)
    k = 32 if dataset.input_size > 64 else 8
    ours, theirs, ratios = [], [], []
    images = dataset.train_images.to(device)
    for repeat in range(repeats):
        config = TrainConfig(dataset=dataset.name, variant="plain", k=k, max_seconds=seconds, device=device,
                             batch_size=defaults["batch_size"], lr=defaults["lr"], seed=repeat,
                             trainer=held)
        pair = {}
        for which in (("aeviz", "hand") if repeat % 2 == 0 else ("hand", "aeviz")):
            if which == "aeviz":
                pair[which] = aeviz_trainer_rate(config, dataset, device)
            else:
                torch.manual_seed(repeat)
                model = build_model("plain", dataset.image_shape, k, {}).to(device)
                pair[which] = hand_written_loop(model, images, defaults["batch_size"], defaults["lr"], seconds, repeat,
                                                settings)
        ours.append(pair["aeviz"])
        theirs.append(pair["hand"])
        ratios.append(pair["aeviz"] / pair["hand"] if pair["hand"] else float("nan"))
        say(f"  repeat {repeat + 1}/{repeats}: aeviz {pair['aeviz']:,.0f} vs hand {pair['hand']:,.0f} samples/s")
    return {"aeviz": median(ours), "hand": median(theirs), "ratio": median(ratios), "k": k,
            "batch_size": defaults["batch_size"], "ratios": ratios, "seconds_each": seconds}


def run(context: BenchContext) -> list[Result]:
    what = "Trainer samples/s (events + snapshots) vs hand-written loop, CPU"
    missing = fashion_missing(context)
    if missing:
        return [skipped("trainer_overhead", what, missing, f">= {TARGET}")]

    dataset = load_dataset(context.bench_dataset())
    repeats = context.repeats or (2 if context.quick else 5)
    seconds = 0.3 if context.quick else 6.0
    m = measure_overhead(dataset, "cpu", seconds, repeats, context.say)
    return [Result("trainer_overhead", f"{what} ({dataset.name}, plain k={m['k']}, batch {m['batch_size']})",
                   "samples/s", m["aeviz"], "hand-written loop", m["hand"], m["ratio"], f">= {TARGET}",
                   verdict(m["ratio"] >= TARGET), f"median of {repeats} interleaved pairs of {seconds:g} s",
                   {"ratios": m["ratios"]})]


ROW = Row("trainer_overhead", "Trainer overhead against a hand-written loop", run, order=10)
