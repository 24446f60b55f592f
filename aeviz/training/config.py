"""A training run's configuration: what to train (dataset, variant, k, the variant's parameters)
and how (budget, batch size, optimiser, seed, device). Validated once, before anything trains."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from aeviz.errors import InvalidConfig
from aeviz.training.precision import PRECISION_CHOICES
from aeviz.variants.trainer_settings import TRAINER_PARAM_NAMES, trainer_settings
from aeviz.variants import get_variant
from aeviz.variants.budget import ModelSize, check_training

DEFAULT_EPOCHS = 5.0
# Per dataset where 5 epochs is too short for the concepts to show: on the 8x8 digits (about 1,400
# training images, 6 steps an epoch) 5 epochs is 30 steps, a linear run is still far from PCA's subspace;
# 100 epochs (600 steps, a few seconds on a CPU) bring its test error within a few per cent of PCA's.
DEFAULT_EPOCHS_BY_DATASET = {"digits": 100.0}


def default_epochs(dataset: str) -> float:
    """Epochs a run on `dataset` trains for when neither epochs nor a time budget is given."""
    return DEFAULT_EPOCHS_BY_DATASET.get(dataset, DEFAULT_EPOCHS)


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
    precision: str = "auto"  # "auto" (bf16 where the hardware runs it fast), "bf16" or "fp32"; see aeviz.training.precision
    params: dict[str, Any] = field(default_factory=dict)   # the variant's parameters (overrides)
    trainer: dict[str, Any] = field(default_factory=dict)  # optimizer, weight_decay, lr_schedule
    tags: dict[str, Any] = field(default_factory=dict)     # e.g. {"sweep": id}; free-form
    snapshot_seconds: float = 2.0

    def validate(self, input_shape: int | tuple[int, ...]) -> "ValidConfig":
        """The one check of a configuration, wherever it comes from (a page, the CLI, a link, a job, a saved
        run): every field, the variant's settings and the model's size against the server's budget. Raises
        InvalidConfig (budget.OverBudget) with one line for the user; returns the ValidConfig that the job
        queue and the Trainer take without checking again. `input_shape`: the dataset's (C, H, W), or its
        input size alone for an image dataset of that many pixels."""

        input_shape = self._input_shape(input_shape)
        input_size = math.prod(input_shape)

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
        params = variant.parse_params(self.params, self.k)
        trainer = trainer_settings(variant, self.trainer)
        size = check_training(variant, input_shape, self.k, params, self.batch_size)
        return ValidConfig(self, input_shape, params, trainer, size)

    def _input_shape(self, given: int | tuple[int, ...]) -> tuple[int, ...]:
        if not isinstance(given, numbers.Integral):
            return tuple(int(n) for n in given)
        side = math.isqrt(int(given))
        return (1, side, side) if side * side == given else (1, 1, int(given))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["params"] = {name: list(v) if isinstance(v, tuple) else v for name, v in self.params.items()}
        return out

    @classmethod
    def from_json(cls, data: Any) -> "TrainConfig":
        """A configuration from JSON that came from outside (an upload, a run folder, a sweep): every
        field's type is checked here (InvalidConfig names the first one wrong); validate() then checks
        the values' ranges and the model's size."""
        if not isinstance(data, dict):
            raise InvalidConfig(f"a run configuration must be a JSON object (got {type(data).__name__})")
        known = {f for f in cls.__dataclass_fields__}
        fields = {key: value for key, value in data.items() if key in known}
        for name, value in fields.items():
            _check_field_type(name, value)
        return cls(**fields)

    def split_settings(self, settings: dict[str, Any]) -> None:
        """Sort `name=value` settings into variant params and trainer params."""
        for name, value in settings.items():
            (self.trainer if name in TRAINER_PARAM_NAMES else self.params)[name] = value


@dataclass(frozen=True)
class ValidConfig:
    """A configuration that passed TrainConfig.validate for a dataset of `input_shape`: its variant settings
    (`params`) and optimiser settings (`trainer`) parsed with defaults filled in, and its model's `size`
    measured against the budget. Made only by validate; carried to the queue and the Trainer."""

    config: TrainConfig
    input_shape: tuple[int, ...]
    params: dict[str, Any]
    trainer: dict[str, Any]
    size: ModelSize


# The schema of a configuration's fields (types; ranges are validate()'s): name -> (types, words).
_NUMBER = (numbers.Real,)  # numpy's numbers too
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "dataset": ((str,), "a dataset name"), "variant": ((str,), "a variant slug"),
    "k": ((numbers.Integral,), "a whole number"), "batch_size": ((numbers.Integral,), "a whole number"),
    "seed": ((numbers.Integral,), "a whole number"),
    "epochs": ((*_NUMBER, type(None)), "a number or null"), "max_seconds": ((*_NUMBER, type(None)), "a number or null"),
    "lr": (_NUMBER, "a number"), "snapshot_seconds": (_NUMBER, "a number"), "device": ((str,), "a device name"),
    "params": ((dict,), "an object of settings"), "trainer": ((dict,), "an object of settings"),
    "tags": ((dict,), "an object"), "precision": ((str,), "a precision name"),
}
MAX_TAGS_CHARS = 10_000


def _check_field_type(name: str, value: Any) -> None:
    import json

    # a field without a declared type is still checked to be plain JSON data, never left unchecked
    types, words = FIELD_TYPES.get(name, ((str, numbers.Real, type(None)), "a text, number or null"))
    if isinstance(value, bool) or not isinstance(value, types):
        raise InvalidConfig(f"{name} must be {words} (got {json.dumps(value, default=str)[:60]})")
    if name == "snapshot_seconds" and not (math.isfinite(value) and value >= 0):
        raise InvalidConfig(f"snapshot_seconds must be a finite number of at least 0 (got {value!r})")
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise InvalidConfig(f"{name} must have text keys")
        if len(json.dumps(value, default=str)) > MAX_TAGS_CHARS:
            raise InvalidConfig(f"{name} is longer than {MAX_TAGS_CHARS} characters")


def check_positive(what: str, value: Any) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidConfig(f"{what} must be a number (got {value!r})") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidConfig(f"{what} must be a positive finite number (got {value!r})")
