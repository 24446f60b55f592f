"""A training run's configuration: what to train (dataset, variant, k, the variant's parameters)
and how (budget, batch size, optimiser, seed, device). Validated once, before anything trains."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from aeviz.errors import InvalidConfig
from aeviz.params import Param, ParamSet
from aeviz.precision import PRECISION_CHOICES

# Optimiser settings beyond lr and batch size; settable with --set like a variant's own.
TRAINER_PARAMS: tuple[Param, ...] = (
    Param("optimizer", "choice", "adam", "Optimiser.", choices=("adam", "adamw", "sgd")),
    Param("weight_decay", "float", 0.0, "L2 weight decay (decoupled for adamw).", low=0.0, high=1.0),
    Param("lr_schedule", "choice", "constant",
          "Learning-rate schedule over the budget: constant, or cosine decay to zero.",
          choices=("constant", "cosine")),
)
TRAINER_PARAM_NAMES = {p.name for p in TRAINER_PARAMS}
DEFAULT_EPOCHS = 5.0


@dataclass
class TrainConfig:
    dataset: str = "digits"
    variant: str = "plain"
    k: int = 32
    epochs: float | None = None
    max_seconds: float | None = None
    batch_size: int = 256
    lr: float = 2e-3
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto" (bf16 where the hardware runs it fast), "bf16" or "fp32"; see aeviz.precision
    params: dict[str, Any] = field(default_factory=dict)   # the variant's parameters (overrides)
    trainer: dict[str, Any] = field(default_factory=dict)  # optimizer, weight_decay, lr_schedule
    tags: dict[str, Any] = field(default_factory=dict)     # e.g. {"sweep": id}; free-form
    snapshot_seconds: float = 2.0

    def validate(self, input_size: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check every field; return (variant params, trainer params) fully parsed."""
        from aeviz.variants import get_variant

        variant = get_variant(self.variant)
        # whole numbers from numpy or a widget count as ints
        for name in ("k", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                setattr(self, name, int(value))
        if isinstance(self.k, bool) or not isinstance(self.k, int):
            raise InvalidConfig(f"k must be a whole number (got {self.k!r})")
        if self.k < 1:
            raise InvalidConfig(f"k must be at least 1 (got {self.k})")
        variant.check_k(self.k, input_size)
        check_positive("learning rate", self.lr)
        if self.lr > 10:
            raise InvalidConfig(f"learning rate {self.lr:g} is far too large (at most 10)")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise InvalidConfig(f"batch size must be a whole number of at least 1 (got {self.batch_size!r})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not -2**63 <= self.seed < 2**64:
            raise InvalidConfig(f"seed must be a whole number from -2**63 to 2**64-1 (got {self.seed!r})")
        if self.precision not in PRECISION_CHOICES:
            raise InvalidConfig(f"precision must be one of {', '.join(PRECISION_CHOICES)} (got {self.precision!r})")
        if self.epochs is not None:
            check_positive("epochs", self.epochs)
        if self.max_seconds is not None:
            check_positive("max seconds", self.max_seconds)
        params = variant.parse_params(self.params)
        trainer = ParamSet.from_overrides(TRAINER_PARAMS, self.trainer).values
        return params, trainer

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["params"] = {name: list(v) if isinstance(v, tuple) else v for name, v in self.params.items()}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})

    def split_settings(self, settings: dict[str, Any]) -> None:
        """Sort `name=value` settings into variant params and trainer params."""
        for name, value in settings.items():
            (self.trainer if name in TRAINER_PARAM_NAMES else self.params)[name] = value


def check_positive(what: str, value: Any) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidConfig(f"{what} must be a number (got {value!r})") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidConfig(f"{what} must be a positive finite number (got {value!r})")
