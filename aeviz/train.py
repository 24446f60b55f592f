"""The training engine: a generator of progress events over tensors already on the device.

    trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=8, epochs=5))
    for event in trainer.run():
        ...  # Started, Progress, Snapshot, then Finished

`trainer.stop()` (from any thread) ends training between two steps; `trainer.run()` again
resumes where it stopped with the budget that is left. A NaN or infinite loss stops training
and restores the last weights that gave a finite loss.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch

from aeviz.config import DEFAULT_EPOCHS, TrainConfig
from aeviz.data import Dataset, load_dataset
from aeviz.device import resolve_device
from aeviz.errors import AevizError
from aeviz.events import Finished, Progress, Snapshot, Started
from aeviz.precision import autocast, enable_tf32, resolve_precision
from aeviz.variants import Autoencoder, build_model

PROGRESS_SECONDS = 0.25       # how often a Progress event is emitted
SNAPSHOT_IMAGES = 8           # test images shown with their reconstructions
CODE_SUBSET = 2000            # test images whose codes are recorded at each snapshot
MAX_RECORDED_K = 128          # record codes only for bottlenecks up to this size
MAX_SNAPSHOT_SHARE = 0.02     # snapshots may take at most this share of the training time...
MAX_SNAPSHOT_GAP = 10.0       # ...but come at least this often (seconds), so live views keep moving on a slow machine
EVAL_BATCH = 2048
EXPLODED_FACTOR = 1e6         # a loss this many times its first value counts as diverged (finite or not)


@dataclass
class TrainResult:
    config: TrainConfig
    model: Autoencoder
    params: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, float]]          # one row per Progress event
    test_history: list[dict[str, float]]     # one row per Snapshot: step, elapsed, test_mse
    code_snapshots: dict[str, np.ndarray] = field(default_factory=dict)  # indices, steps, losses, codes


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


class Trainer:
    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, model: Autoencoder | None = None,
                 store=None):
        """`store`: a RunStore to save the finished run in (None: keep it in memory only)."""
        self.config = config
        self.store = store
        self.dataset = dataset if dataset is not None else load_dataset(config.dataset)
        self.params, self.trainer_params = config.validate(self.dataset.input_size)
        self.device_choice = resolve_device(config.device)
        self.device = torch.device(self.device_choice.device)
        self.precision = resolve_precision(config.precision, self.device.type)
        if self.device.type == "cuda":
            enable_tf32()
        self.warnings = [w for w in [self.device_choice.warning, self.precision.warning] if w]
        self.warnings += build_warnings(config, self.params, self.dataset)
        self.generator = seed_everything(config.seed)
        self.model = model if model is not None else build_model(
            config.variant, self.dataset.image_shape, config.k, self.params)
        self.model.to(self.device)
        self.train_x = self.dataset.train_images.to(self.device)
        self.test_x = self.dataset.test_images
        self.batch_size = min(config.batch_size, len(self.train_x))
        self.steps_per_epoch = math.ceil(len(self.train_x) / self.batch_size)
        epochs = config.epochs if config.epochs is not None else (None if config.max_seconds else DEFAULT_EPOCHS)
        self.total_steps = math.ceil(epochs * self.steps_per_epoch) if epochs else None
        self.stages = self.model.training_stages()
        self._stop = threading.Event()
        self.step = 0
        self.elapsed = 0.0
        self.samples_seen = 0
        self.history: list[dict[str, float]] = []
        self.test_history: list[dict[str, float]] = []
        self.finished: Finished | None = None
        self._stage_index = -1
        self._optimizer: torch.optim.Optimizer | None = None
        self._perm: torch.Tensor | None = None
        self._position = 0
        self._last_good = copy.deepcopy(self.model.state_dict())
        self._reference_loss: float | None = None  # the loss at the first step of the current stage
        self._fixed = fixed_test_indices(self.dataset, config.seed)
        self._code_steps: list[int] = []
        self._code_losses: list[float] = []
        self._codes: list[np.ndarray] = []

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Ask training to stop after the current step (thread-safe)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def fraction_done(self) -> float:
        parts = []
        if self.total_steps:
            parts.append(self.step / self.total_steps)
        if self.config.max_seconds:
            parts.append(self.elapsed / self.config.max_seconds)
        return min(1.0, max(parts)) if parts else 0.0

    # ------------------------------------------------------------------ the loop
    def run(self) -> Iterator[Started | Progress | Snapshot | Finished]:
        """Train until the budget is spent or stop() is called; resumable."""
        self._stop.clear()
        yield Started(self.device_choice.device, self.device_choice.name, list(self.warnings),
                      len(self.train_x), self.batch_size, [s.name for s in self.stages], self.precision.name)
        check_every = 1 if self.device.type == "cpu" else 25
        sums: dict[str, torch.Tensor] = {}
        sum_count = 0
        last_progress = last_snapshot = snapshot_cost = 0.0
        next_snapshot_gap = 0.0
        status, message = "completed", "training finished"
        self.model.train()
        if self.step == 0:
            yield self._snapshot()
        # The first optimiser is made before the clock starts: building one can import heavy
        # torch modules (seconds on a cold machine) that must not eat a time budget.
        self._enter_stage()
        segment_start = time.perf_counter() - self.elapsed
        while self.fraction_done() < 1.0:
            if self._stop.is_set():
                status, message = "stopped", "stopped by request; the weights learned so far are kept"
                break
            stage = self._enter_stage()
            batch = self._next_batch()
            lr = self._apply_lr()
            with autocast(self.device.type, self.precision):  # bf16 forward where fast; loss summed in fp32
                parts = stage.loss_parts(batch)
            total = parts.total().float()
            self._optimizer.zero_grad(set_to_none=True)
            total.backward()
            # math.isfinite(item()) rather than torch.isfinite(...).item(): same check, no extra kernel.
            if (self.step + 1) % check_every == 0 and not math.isfinite(total.detach().item()):
                self.model.load_state_dict(self._last_good)
                status = "diverged"
                message = (f"the loss became {float(total.detach()):g} at step {self.step + 1}; training stopped "
                           f"and the last weights that gave a finite loss were kept (try a smaller learning rate)")
                break
            if self._reference_loss is None:  # the loss of the stage's first step (one sync per stage)
                self._reference_loss = abs(float(total.detach()))
            self._optimizer.step()
            self.step += 1
            self.samples_seen += len(batch)
            for name, value in parts.items():
                detached = value.detach().float()  # a bf16 term summed over steps would round
                sums[name] = sums[name] + detached if name in sums else detached
            sum_count += 1
            self.elapsed = time.perf_counter() - segment_start
            if self.elapsed - last_progress >= PROGRESS_SECONDS or self.fraction_done() >= 1.0:
                losses = {name: float(value) / sum_count for name, value in sums.items()}
                sums, sum_count = {}, 0
                if not all(math.isfinite(v) for v in losses.values()):
                    continue  # the finite check above catches it on the next step
                if self._exploded(sum(losses.values())):
                    self.model.load_state_dict(self._last_good)
                    status = "diverged"
                    message = (f"the loss grew from {self._reference_loss:.4g} to {sum(losses.values()):.4g} by "
                               f"step {self.step}; training stopped and the last good weights were kept "
                               f"(try a smaller learning rate)")
                    break
                last_progress = self.elapsed
                yield self._progress(stage.name, losses, lr)
            if self.elapsed - last_snapshot >= max(self.config.snapshot_seconds, next_snapshot_gap):
                started = time.perf_counter()
                self._keep_if_finite()
                snapshot = self._snapshot()
                snapshot_cost = time.perf_counter() - started
                next_snapshot_gap = min(snapshot_cost / MAX_SNAPSHOT_SHARE, MAX_SNAPSHOT_GAP)
                segment_start += snapshot_cost  # snapshots are not training time
                last_snapshot = self.elapsed
                yield snapshot
        self.elapsed = time.perf_counter() - segment_start
        if status != "diverged":
            yield self._snapshot()
        result = self._result(status)
        self.finished = Finished(status, message, result)
        if self.store is not None:
            try:
                self.finished.saved_run_id = self.store.save(result)
            except AevizError as exc:
                self.finished.save_error = str(exc)
        yield self.finished

    # ------------------------------------------------------------------ pieces
    def _enter_stage(self):
        fraction = self.fraction_done()
        cumulative, index = 0.0, len(self.stages) - 1
        total_share = sum(s.share for s in self.stages)
        for i, stage in enumerate(self.stages):
            cumulative += stage.share / total_share
            if fraction < cumulative - 1e-12:
                index = i
                break
        if index != self._stage_index:
            self._stage_index = index
            self._reference_loss = None
            self._optimizer = make_optimizer(self.stages[index].parameters, self.config.lr, self.trainer_params)
        return self.stages[index]

    def _exploded(self, loss: float) -> bool:
        """Whether a finite loss has blown up (a learning rate far too large can do this without a NaN)."""
        return self._reference_loss is not None and abs(loss) > EXPLODED_FACTOR * max(self._reference_loss, 1e-3)

    def _keep_if_finite(self) -> None:
        """Remember the current weights as the last good ones, unless some are NaN or infinite."""
        state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        floats = [v for v in state.values() if v.is_floating_point()]
        if not floats or bool(torch.stack([torch.isfinite(v).all() for v in floats]).all()):
            self._last_good = state

    def _next_batch(self) -> torch.Tensor:
        n = len(self.train_x)
        if self._perm is None or self._position >= n:
            self._perm = torch.randperm(n, generator=self.generator).to(self.device)
            self._position = 0
        index = self._perm[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        return self.train_x.index_select(0, index)

    def _apply_lr(self) -> float:
        lr = self.config.lr
        if self.trainer_params["lr_schedule"] == "cosine":
            lr = self.config.lr * 0.5 * (1.0 + math.cos(math.pi * self.fraction_done()))
        for group in self._optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _progress(self, stage: str, losses: dict[str, float], lr: float) -> Progress:
        fraction = self.fraction_done()
        eta = self.elapsed * (1 - fraction) / fraction if fraction > 0 else None
        rate = self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0
        loss = sum(losses.values())
        self.history.append({"step": self.step, "epoch": self.step / self.steps_per_epoch,
                             "elapsed": self.elapsed, "loss": loss, **losses})
        return Progress(self.step, self.step / self.steps_per_epoch, stage, fraction, losses, loss, rate,
                        self.elapsed, eta, lr)

    @torch.no_grad()
    def _snapshot(self) -> Snapshot:
        was_training = self.model.training
        self.model.eval()
        subset = self.test_x[self._fixed["codes"]].to(self.device)
        codes = self.model.encode(subset)
        recon = self.model.decode(codes)
        error_sum, error_count = self.model.reconstruction_error_sums(subset, recon)
        test_mse = float(error_sum) / max(error_count, 1)
        shown = self._fixed["shown"]
        self.model.train(was_training)
        loss = self.history[-1]["loss"] if self.history else float("nan")
        recorded = None
        if self.config.k <= MAX_RECORDED_K:
            recorded = codes.float().cpu().numpy().astype(np.float16)
            self._code_steps.append(self.step)
            self._code_losses.append(loss)
            self._codes.append(recorded)
        self.test_history.append({"step": self.step, "elapsed": self.elapsed, "test_mse": test_mse})
        return Snapshot(self.step, self.elapsed, loss, test_mse, subset[shown].cpu().numpy(),
                        recon[shown].float().cpu().numpy(), recorded)

    def _result(self, status: str) -> TrainResult:
        from aeviz.pca import pca_test_mse

        self.model.eval()
        test_mse = reconstruction_mse(self.model, self.test_x, self.device)
        metrics = {
            "status": status,
            "test_mse": test_mse,
            "pca_test_mse": pca_test_mse(self.dataset, self.config.k) if self.model.pca_baseline else None,
            "epochs": self.step / self.steps_per_epoch,
            "steps": self.step,
            "train_seconds": self.elapsed,
            "samples_per_second": self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0,
            "device": self.device_choice.device,
            "device_name": self.device_choice.name,
            "precision": self.precision.name,
            "train_size": len(self.train_x),
            "test_size": len(self.test_x),
            "warnings": list(self.warnings),
        }
        metrics.update(self.model.extra_metrics(self.test_x.to(self.device)))
        codes = {}
        if self._codes:
            codes = {"indices": self._fixed["codes"].numpy(), "steps": np.array(self._code_steps),
                     "losses": np.array(self._code_losses, dtype=np.float32), "codes": np.stack(self._codes)}
        return TrainResult(self.config, self.model, self.params, metrics, list(self.history),
                           list(self.test_history), codes)


def make_optimizer(parameters, lr: float, trainer_params: dict[str, Any]) -> torch.optim.Optimizer:
    name, decay = trainer_params["optimizer"], trainer_params["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=decay)
    # fused: one pass over each parameter instead of ~10 elementwise kernels; on 2 CPU threads the
    # optimiser step of the default plain model drops from ~6 ms to ~1.5 ms (~20% of a step).
    parameters = list(parameters)
    fused = {"fused": True} if _fusable(parameters) else {}
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=decay, **fused)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=decay, **fused)


def _fusable(parameters) -> bool:
    """Fused Adam needs floating-point parameters, all on the CPU or all on one CUDA device."""
    devices = {p.device.type for p in parameters}
    return bool(parameters) and len(devices) == 1 and devices <= {"cpu", "cuda"} and all(
        p.is_floating_point() for p in parameters)


def fixed_test_indices(dataset: Dataset, seed: int) -> dict[str, torch.Tensor]:
    """Test images followed through training: a few to show (one per class where possible), and
    a subset whose codes are recorded. Fixed by the seed so runs are comparable."""
    n = len(dataset.test_images)
    generator = torch.Generator().manual_seed(seed + 1)
    codes = torch.randperm(n, generator=generator)[:min(CODE_SUBSET, n)].sort().values
    labels = dataset.test_labels[codes]
    shown: list[int] = []
    for label in torch.unique(labels).tolist():
        shown.append(int(torch.nonzero(labels == label)[0]))
        if len(shown) == SNAPSHOT_IMAGES:
            break
    extra = [i for i in range(len(codes)) if i not in shown][:SNAPSHOT_IMAGES - len(shown)]
    return {"codes": codes, "shown": torch.tensor(sorted(shown + extra))}


@torch.no_grad()
def reconstruction_mse(model: Autoencoder, images: torch.Tensor, device: torch.device | str = "cpu") -> float:
    """Mean squared error per pixel of the model's reconstructions of `images` (pixels in [0, 1])."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(images), EVAL_BATCH):
        batch = images[start:start + EVAL_BATCH].to(device)
        error_sum, error_count = model.reconstruction_error_sums(batch, model(batch))
        total += float(error_sum)
        count += error_count
    model.train(was_training)
    return total / max(count, 1)


def build_warnings(config: TrainConfig, params: dict[str, Any], dataset: Dataset) -> list[str]:
    from aeviz.variants import get_variant

    warnings = list(get_variant(config.variant).warnings(config.k, dataset.input_size, params))
    if config.batch_size > len(dataset.train_images):
        warnings.append(f"batch size {config.batch_size} is larger than the {len(dataset.train_images)} "
                        f"training images; using {len(dataset.train_images)}")
    return warnings


def train(config: TrainConfig, dataset: Dataset | None = None, store=None) -> TrainResult:
    """Train to the end without looking at events; returns the result."""
    trainer = Trainer(config, dataset, store=store)
    for event in trainer.run():
        pass
    return trainer.finished.result
