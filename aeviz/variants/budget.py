"""The resource budget: how large a model this server lets anyone build or train, checked before
any memory is spent on it.

One setting (four hidden layers of 16384 units) asks for billions of weights; built for real, it
takes the whole server down with every session on it. So a model's size is worked out first on
PyTorch's "meta" device (shapes without storage: free), then compared with two limits:

- parameters: at most ``$AEVIZ_MAX_PARAMS`` (default DEFAULT_MAX_PARAMS, 20 million: the
  largest models in the lessons have under 3 million);
- memory: training needs the weights, their gradients, Adam's (or AdamW's) two moments and a last-good copy
  (WEIGHT_COPIES x 4 bytes per parameter) plus the batch's activations; together at most the
  machine's memory x MEMORY_SHARE / ``$AEVIZ_MAX_JOBS`` (jobs train at the same time).

    check_model(variant, input_shape, k, params)                  # building or loading a model
    check_training(variant, input_shape, k, params, batch_size)   # training it

`variant` is the variant's class (aeviz.variants.get_variant(slug)), so this module needs no registry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aeviz.errors import AevizError
from aeviz.server_settings import max_jobs_from_env, number_from_env

MAX_PARAMS_ENV = "AEVIZ_MAX_PARAMS"
DEFAULT_MAX_PARAMS = 20_000_000
MEMORY_SHARE = 0.5          # of the machine's memory, shared by the jobs that train at once
WEIGHT_COPIES = 5           # weights, gradients, Adam's two moments, the last finite weights
ACTIVATION_COPIES = 3       # each activation is kept for backward and gets a gradient (and a mask)
BYTES_PER_NUMBER = 4        # float32


class OverBudget(AevizError):
    """A model is larger than this server allows; the message gives its size and the limit."""


@dataclass(frozen=True)
class ModelSize:
    parameters: int
    activations_per_example: int  # numbers produced by the layers for one input (forward pass)

    def training_bytes(self, batch_size: int) -> int:
        return BYTES_PER_NUMBER * (WEIGHT_COPIES * self.parameters
                                   + ACTIVATION_COPIES * batch_size * self.activations_per_example)


def max_params() -> int:
    return number_from_env(MAX_PARAMS_ENV, DEFAULT_MAX_PARAMS, "a whole number of parameters, at least 1",
                           whole=True, minimum=1)


def machine_memory_bytes() -> int:
    """Physical memory, or the container's memory limit where that is lower (cgroup v2 or v1)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def memory_budget_bytes() -> int:
    """What one training job may use: a share of the machine divided among the jobs that run at once."""
    return int(machine_memory_bytes() * MEMORY_SHARE / max_jobs_from_env())


def measure(variant: type, input_shape: tuple[int, ...], k: int, params: dict[str, Any] | None) -> ModelSize:
    """The model's parameter count and activations per example, from a copy built on the meta device
    (no storage is allocated, whatever the size)."""
    import torch

    with torch.device("meta"):
        model = variant(tuple(input_shape), k, params)
        parameters = sum(p.numel() for p in model.parameters())
        activations = [0]

        def count(module, inputs, output):
            if isinstance(output, torch.Tensor):
                activations[0] += output[0].numel()

        leaves = [m for m in model.modules() if not list(m.children())]
        handles = [m.register_forward_hook(count) for m in leaves]
        try:
            model.loss_parts(torch.zeros(2, *input_shape))
        except Exception:  # a variant whose loss cannot run without data: count the layers' outputs instead
            activations[0] = sum(getattr(m, "out_features", 0) for m in leaves)
        finally:
            for handle in handles:
                handle.remove()
    return ModelSize(parameters, activations[0])


def check_model(variant: type, input_shape: tuple[int, ...], k: int, params: dict[str, Any] | None) -> ModelSize:
    """Refuse (OverBudget) a model with more parameters than the limit; returns its size."""
    size = measure(variant, input_shape, k, params)
    limit = max_params()
    if size.parameters > limit:
        raise OverBudget(f"this model has {size.parameters:,} parameters; this server allows at most {limit:,} "
                         f"({MAX_PARAMS_ENV}). Use fewer or narrower hidden layers")
    return size


def check_training(variant: type, input_shape: tuple[int, ...], k: int, params: dict[str, Any] | None,
                   batch_size: int) -> ModelSize:
    """check_model, then refuse a run whose training memory (weights, optimiser state, activations
    of a batch) is over this job's share of the machine."""
    size = check_model(variant, input_shape, k, params)
    need, budget = size.training_bytes(batch_size), memory_budget_bytes()
    if need > budget:
        raise OverBudget(f"training this model with batch size {batch_size} needs about {need / 2**30:.1f} GiB; "
                         f"each run may use {budget / 2**30:.1f} GiB here (half the machine's memory shared by "
                         f"AEVIZ_MAX_JOBS runs at once). Use a smaller batch or fewer or narrower hidden layers")
    return size
