"""The optimiser settings beyond learning rate and batch size (optimizer, weight decay, learning-rate
schedule): what they are, a variant's defaults of them, and how the app says them in words."""

from __future__ import annotations

from typing import Any

from aeviz.params import Param, ParamSet

# tail_decay: the rate is held, then falls linearly to zero over this last share of the budget. Held high,
# the early steps move fast (what a short budget needs); annealed, the last steps settle into the minimum
# instead of bouncing around it (Fashion-MNIST, plain k=32: about 10% lower test error at equal samples).
TAIL_DECAY_SHARE = 0.3
SGD_MOMENTUM = 0.9

# Optimiser settings beyond lr and batch size; settable with --set like a variant's own.
TRAINER_PARAMS: tuple[Param, ...] = (
    Param("optimizer", "choice", "adam", "Optimiser. Unset, the variant's own default.",
          choices=("adam", "adamw", "sgd")),
    Param("weight_decay", "float", 0.0, "L2 weight decay (decoupled for adamw). Unset, the variant's own default.",
          low=0.0, high=1.0),
    Param("lr_schedule", "choice", "constant",
          "Learning-rate schedule over the budget: constant, cosine decay to zero, or tail_decay (held, then "
          f"a linear decay to zero over the last {TAIL_DECAY_SHARE:.0%}). Unset, the variant's own default.",
          choices=("constant", "cosine", "tail_decay")),
)
LR_SCHEDULE_WORDS = {"constant": "held constant over the budget", "cosine": "decayed to zero along a cosine",
                     "tail_decay": f"held, then decayed linearly to zero over the last {TAIL_DECAY_SHARE:.0%} "
                                   "of the budget"}
OPTIMIZER_WORDS = {"adam": "Adam", "adamw": "AdamW", "sgd": f"SGD with momentum {SGD_MOMENTUM:g}"}
TRAINER_PARAM_NAMES = {p.name for p in TRAINER_PARAMS}


def optimizer_words(settings: dict[str, Any]) -> str:
    """The optimiser of trainer `settings` in words: "AdamW with weight decay 0.05"."""
    name, decay = OPTIMIZER_WORDS[settings["optimizer"]], settings["weight_decay"]
    return f"{name} with weight decay {decay:g}" if decay else name


def trainer_settings(variant, overrides: dict[str, Any]) -> dict[str, Any]:
    """The optimiser settings a run of `variant` (its class) trains with: TRAINER_PARAMS' defaults, the
    variant's own (its trainer_defaults), then `overrides` (InvalidConfig on a bad value)."""
    return ParamSet.from_overrides(TRAINER_PARAMS, {**variant.trainer_defaults, **overrides}).values
