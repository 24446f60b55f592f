"""Data pipeline: the trainer's batches (one in-memory tensor, a shuffled index, index_select)
against the usual torchvision pipeline (a DataLoader over PIL images with a per-sample
`ToTensor`). Measured twice: batches alone, and a training loop fed by each."""

from __future__ import annotations

import time

from aeviz.bench import INFO, BenchContext, Result, Row, fashion_missing, median, skipped, verdict
from aeviz.data.datasets import load_dataset
from aeviz.training.config import TrainConfig
from aeviz.training.trainer import Trainer
from aeviz.variants import get_variant

TARGET = 2.5


class PILImages:
    """What torchvision's MNIST dataset does per item: a PIL image, then the transform."""

    def __init__(self, images_uint8, transform):
        from PIL import Image

        self.images = [Image.fromarray(a, mode="L") for a in images_uint8]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), 0


def pil_loader(dataset, batch_size: int, limit: int):
    import torch
    from torchvision import transforms

    images = (dataset.train_images[:limit, 0] * 255).round().to(torch.uint8).numpy()
    # num_workers=0: on a 2-core machine worker processes compete with training for the cores.
    return torch.utils.data.DataLoader(PILImages(images, transforms.ToTensor()), batch_size=batch_size,
                                       shuffle=True, num_workers=0)


def trainer_batches(trainer, samples: int):
    """The Trainer's own batch source, drawn until `samples` images have come out."""
    seen = 0
    while seen < samples:
        batch = trainer.next_batch()
        seen += len(batch)
        yield batch


def rate(batches, step=None) -> float:
    """Samples/s of iterating `batches`, optionally calling step(batch) on each."""
    seen, started = 0, time.perf_counter()
    for batch in batches:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if step is not None:
            step(batch)
        seen += len(batch)
    return seen / (time.perf_counter() - started)


def run(context: BenchContext) -> list[Result]:
    what = "batches/s of samples: Trainer in-memory batches vs DataLoader(PIL + ToTensor)"
    missing = fashion_missing(context)
    if missing:
        return [skipped("data_pipeline", what, missing, f">= {TARGET}x")]
    import torch
    import torch.nn.functional as F


    dataset = load_dataset(context.bench_dataset())
    defaults = get_variant("plain").training_defaults()
    batch_size = min(defaults["batch_size"], len(dataset.train_images))
    limit = min(len(dataset.train_images), 2000 if context.quick else 20000)
    repeats = context.repeats or (2 if context.quick else 5)
    config = TrainConfig(dataset=dataset.name, variant="plain", k=8, epochs=1, batch_size=batch_size,
                         lr=defaults["lr"], device="cpu")
    trainer = Trainer(config, dataset)
    loader = pil_loader(dataset, batch_size, limit)

    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(rate(trainer_batches(trainer, limit)))
        theirs.append(rate(loader))
    batch_ratio = median(ours) / median(theirs)
    context.say(f"  batches: trainer {median(ours):,.0f} vs DataLoader {median(theirs):,.0f} samples/s")

    # The same training step fed by each source (the model's own cost dilutes the difference).
    model = trainer.model
    optimizer = torch.optim.Adam(model.parameters(), lr=defaults["lr"])

    def step(batch):
        loss = F.mse_loss(model(batch), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    train_samples = min(limit, 512 if context.quick else 10000)
    fed_ours, fed_theirs = [], []
    small_loader = pil_loader(dataset, batch_size, train_samples)
    for _ in range(max(1, repeats // 2)):
        fed_ours.append(rate(trainer_batches(trainer, train_samples), step))
        fed_theirs.append(rate(small_loader, step))
    fed_ratio = median(fed_ours) / median(fed_theirs)
    return [
        Result("data_pipeline", f"{what} ({dataset.name}, batch {batch_size})", "samples/s", median(ours),
               "DataLoader, per-sample ToTensor", median(theirs), batch_ratio, f">= {TARGET}x",
               verdict(batch_ratio >= TARGET), f"median of {repeats}, {limit} samples each"),
        Result("data_pipeline", f"training samples/s, plain k=8 fed by each source ({dataset.name})",
               "samples/s", median(fed_ours), "same loop fed by the DataLoader", median(fed_theirs), fed_ratio,
               "", INFO, "the model's own cost is shared by both"),
    ]


ROW = Row("data_pipeline", "Data pipeline against a torchvision DataLoader", run, order=20)
