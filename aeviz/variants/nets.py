"""Shared building blocks: fully connected and convolutional encoders and decoders."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def mlp(sizes: list[int], hidden_activation: str, last_activation: str = "identity", bias: bool = True) -> nn.Sequential:
    """Linear layers through `sizes` (input first) with `hidden_activation` between them."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, bias=bias))
        is_last = index == len(sizes) - 2
        name = last_activation if is_last else hidden_activation
        if name != "identity":
            layers.append(activation(name))
    return nn.Sequential(*layers)


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)


class FlattenCentered(Flatten):
    """Flatten, then subtract the mean training image, as PCA does before it projects: the layers after
    it see how an image differs from the average one. The mean is set once before training
    (train_setup.center_input) and saved with the model; weights saved without one load with a zero mean,
    which is what they were trained on."""

    def __init__(self, size: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) - self.mean

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.setdefault(prefix + "mean", torch.zeros_like(self.mean))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class Unflatten(nn.Module):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


def first_linear(modules: Iterable[nn.Module]) -> nn.Linear | None:
    for module in modules:
        if isinstance(module, nn.Linear):
            return module
    return None


def last_linear(modules: Iterable[nn.Module]) -> nn.Linear | None:
    found = None
    for module in modules:
        if isinstance(module, nn.Linear):
            found = module
    return found
