"""The training engine: a generator of progress events over tensors already on the device.

    for event in Trainer(TrainConfig(dataset="digits", variant="plain", k=8, epochs=5)).run():
        ...  # Started, Progress, Snapshot, then Finished

`trainer.stop()` (from any thread) ends training between two steps; `trainer.run()` again
resumes where it stopped with the budget that is left. A NaN or infinite loss stops training
and restores the last weights that gave a finite loss.
"""

from __future__ import annotations

import collections
import copy
import math
import threading
import time
from typing import Any, Iterator

import numpy as np

import torch

from aeviz.training.config import TrainConfig, ValidConfig, default_epochs
from aeviz.data.types import Dataset
from aeviz.data.datasets import load_dataset
from aeviz.training.device import resolve_device
from aeviz.errors import AevizError, DamagedRun
from aeviz.training.events import Finished, Progress, Snapshot, Started
from aeviz.training.precision import autocast, enable_tf32, resolve_precision
from aeviz.training.result import CodeRecord, TrainResult, trainer_result
from aeviz.training.setup import (build_fresh_model, build_warnings, fixed_test_indices, make_optimizer,
                               scheduled_lr, seed_everything)
from aeviz.variants import Autoencoder, get_variant

PROGRESS_SECONDS = 0.25       # how often a Progress event is emitted
MAX_RECORDED_K = 128          # record codes only for bottlenecks up to this size
MAX_SNAPSHOT_SHARE = 0.02     # snapshots may take at most this share of the training time...
MAX_SNAPSHOT_GAP = 10.0       # ...but come at least this often (seconds), so live views keep moving on a slow machine
EXPLODED_FACTOR = 1e6         # a loss this many times its first value counts as diverged (finite or not)


class Trainer:
    def __init__(self, config: TrainConfig | ValidConfig, dataset: Dataset | None = None,
                 model: Autoencoder | None = None, store=None, run_id: str | None = None):
        """`config`: a ValidConfig (TrainConfig.validate's, not checked again) or a TrainConfig (validated
        here); `store`: a RunStore to save the finished run in (None: keep it in memory only); `run_id`: the
        id to save it under (a new one when None)."""
        valid = config if isinstance(config, ValidConfig) else None
        config = valid.config if valid is not None else config
        self.run_id = run_id
        self.config = config
        self.store = store
        self.dataset = dataset if dataset is not None else load_dataset(config.dataset)
        if valid is None or valid.input_shape != tuple(self.dataset.image_shape):
            valid = config.validate(self.dataset.image_shape)  # checked here when no caller did
        self.params, self.trainer_params = valid.params, valid.trainer
        self.device_choice = resolve_device(config.device)
        self.device = torch.device(self.device_choice.device)
        self.precision = resolve_precision(config.precision, self.device.type, get_variant(config.variant))
        if self.device.type == "cuda":
            enable_tf32()
        self.warnings = [w for w in [self.device_choice.warning, self.precision.warning] if w]
        self.warnings += build_warnings(config, self.params, self.dataset)
        self.generator = seed_everything(config.seed)
        self.model = model if model is not None else build_fresh_model(config, self.dataset, self.params)
        self.model.to(self.device)
        self.train_x = self.dataset.train_images.to(self.device)
        self.test_x = self.dataset.test_images
        self.batch_size = min(config.batch_size, len(self.train_x))
        self.steps_per_epoch = math.ceil(len(self.train_x) / self.batch_size)
        epochs = config.epochs if config.epochs is not None else (
            None if config.max_seconds else default_epochs(config.dataset))
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
        self.recorded = CodeRecord(self._fixed["codes"].numpy())
        self._sums: dict[str, torch.Tensor] = {}  # loss terms summed on the device over _sum_count steps
        self._sum_count = 0
        self.checkpointer = None  # aeviz.runs.checkpoints.Checkpointer: saves the state every few seconds

    def stop(self) -> None:
        """Ask training to stop after the current step (thread-safe)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The optimiser of the training stage under way (None before the first step)."""
        return self._optimizer

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training later, as plain values and tensors (loadable with
        torch.load(weights_only=True)): weights, the stage and its optimiser's state, step, time, the random
        generator, histories and the codes recorded so far. Call it between two steps (the training thread)."""
        record = self.recorded
        codes = ({"steps": list(record.steps), "losses": list(record.losses),
                  "codes": torch.from_numpy(np.stack(record.codes))} if record.codes else {})
        return {"step": self.step, "epochs": self.step / self.steps_per_epoch, "elapsed": self.elapsed,
                "samples_seen": self.samples_seen, "stage_index": self._stage_index,
                "weights": {name: t.detach() for name, t in self.model.state_dict().items()},
                "optimizer": self._optimizer.state_dict() if self._optimizer is not None else None,
                "generator": self.generator.get_state(),
                "history": list(self.history), "test_history": list(self.test_history), "codes": codes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state` (state_dict's, of a Trainer of the same configuration): run() then goes on
        from its step, with its optimiser's moments and history, to the original budget. Raises DamagedRun
        when its weights do not fit this model."""
        try:
            self.model.load_state_dict(state["weights"])
        except RuntimeError as exc:
            raise DamagedRun(f"the checkpoint's weights do not fit its model: {str(exc).splitlines()[0]}") from None
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.samples_seen = int(state["samples_seen"])
        self.history, self.test_history = list(state["history"]), list(state["test_history"])
        codes = state.get("codes") or {}
        if codes:
            self.recorded.steps, self.recorded.losses = list(codes["steps"]), list(codes["losses"])
            self.recorded.codes = [c.numpy() for c in codes["codes"]]
        self.generator.set_state(state["generator"])
        self._last_good = copy.deepcopy(self.model.state_dict())
        self._enter_stage()  # the stage (and its optimiser) that the state's step falls in
        if state.get("optimizer") is not None and self._stage_index == state["stage_index"]:
            self._optimizer.load_state_dict(state["optimizer"])  # moves the moments to the model's device

    def fraction_done(self) -> float:
        parts = []
        if self.total_steps:
            parts.append(self.step / self.total_steps)
        if self.config.max_seconds:
            parts.append(self.elapsed / self.config.max_seconds)
        return min(1.0, max(parts)) if parts else 0.0

    def run(self) -> Iterator[Started | Progress | Snapshot | Finished]:
        """Train until the budget is spent or stop() is called; resumable."""
        self._stop.clear()
        yield Started(self.device_choice.device, self.device_choice.name, list(self.warnings),
                      len(self.train_x), self.batch_size, [s.name for s in self.stages], self.precision.name)
        self.model.train()
        if self.step == 0:
            yield self._snapshot()
        status, message = yield from self._train()
        if status != "diverged":
            yield self._snapshot()
        result = trainer_result(self, status)
        self.finished = Finished(status, message, result)
        if self.store is not None:
            try:
                self.finished.saved_run_id = self.store.save(result, run_id=self.run_id)
            except AevizError as exc:
                self.finished.save_error = str(exc)
        if self.checkpointer is not None:  # saved: its checkpoint goes; not saved: it stays to recover from
            self.checkpointer.close(saved=self.finished.saved_run_id is not None)
        yield self.finished

    def _train(self) -> Iterator[Progress | Snapshot]:
        """The loop: steps, a Progress every PROGRESS_SECONDS and a Snapshot every few seconds; returns
        (status, message) when the budget is spent, a stop is asked or the loss diverges."""
        check_every = 1 if self.device.type == "cpu" else 25
        self._sums, self._sum_count = {}, 0
        last_progress = last_snapshot = next_snapshot_gap = 0.0
        status, message = "completed", "training finished"
        # The first optimiser is made before the clock starts: building one can import heavy
        # torch modules (seconds on a cold machine) that must not eat a time budget.
        self._enter_stage()
        segment_start = time.perf_counter() - self.elapsed
        while self.fraction_done() < 1.0:
            if self._stop.is_set():
                status, message = "stopped", "stopped by request; the weights learned so far are kept"
                break
            stage = self._enter_stage()
            lr = self._apply_lr()
            diverged = self._step(stage, check_every)
            if diverged:
                status, message = "diverged", diverged
                break
            self.elapsed = time.perf_counter() - segment_start
            if self.elapsed - last_progress >= PROGRESS_SECONDS or self.fraction_done() >= 1.0:
                losses = self._mean_losses()
                if not all(math.isfinite(v) for v in losses.values()):
                    continue  # the finite check in _step catches it on the next step
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
            if self.checkpointer is not None and self.checkpointer.due():
                segment_start += self.checkpointer.save(self)  # seconds spent writing: not training time
        self.elapsed = time.perf_counter() - segment_start
        return status, message

    def _step(self, stage, check_every: int) -> str | None:
        """One optimiser step on the next batch, its loss terms added to the running sums. Returns why
        training must stop when the loss became NaN or infinite (the last good weights are restored)."""
        batch = self.next_batch()
        with autocast(self.device.type, self.precision):  # bf16 forward where fast; loss summed in fp32
            parts = stage.loss_parts(batch)
        total = parts.total().float()
        self._optimizer.zero_grad(set_to_none=True)
        total.backward()
        # math.isfinite(item()) rather than torch.isfinite(...).item(): same check, no extra kernel.
        if (self.step + 1) % check_every == 0 and not math.isfinite(total.detach().item()):
            self.model.load_state_dict(self._last_good)
            return (f"the loss became {float(total.detach()):g} at step {self.step + 1}; training stopped "
                    f"and the last weights that gave a finite loss were kept (try a smaller learning rate)")
        if self._reference_loss is None:  # the loss of the stage's first step (one sync per stage)
            self._reference_loss = abs(float(total.detach()))
        self._optimizer.step()
        self.step += 1
        self.samples_seen += len(batch)
        for name, value in parts.items():
            detached = value.detach().float()  # a bf16 term summed over steps would round
            self._sums[name] = self._sums[name] + detached if name in self._sums else detached
        self._sum_count += 1
        return None

    def _mean_losses(self) -> dict[str, float]:
        """Each loss term's mean since the last call (one device sync per term), and the sums reset."""
        losses = {name: float(value) / self._sum_count for name, value in self._sums.items()}
        self._sums, self._sum_count = {}, 0
        return losses

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

    def next_batch(self) -> torch.Tensor:
        n = len(self.train_x)
        if self._perm is None or self._position >= n:
            self._perm = torch.randperm(n, generator=self.generator).to(self.device)
            self._position = 0
        index = self._perm[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        return self.train_x.index_select(0, index)

    def _apply_lr(self) -> float:
        lr = scheduled_lr(self.config.lr, self.trainer_params["lr_schedule"], self.fraction_done())
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
            recorded = self.recorded.add(self.step, loss, codes)
        self.test_history.append({"step": self.step, "elapsed": self.elapsed, "test_mse": test_mse})
        return Snapshot(self.step, self.elapsed, loss, test_mse, subset[shown].cpu().numpy(),
                        recon[shown].float().cpu().numpy(), recorded)


def train(config: TrainConfig, dataset: Dataset | None = None, store=None) -> TrainResult:
    """Train to the end without looking at events; returns the result."""
    trainer = Trainer(config, dataset, store=store)
    collections.deque(trainer.run(), maxlen=0)  # drain the events
    return trainer.finished.result
