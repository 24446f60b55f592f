"""What a sweep is: a grid over k and declared hyperparameters of one or more variants, repeated
over seeds, each point a short run with an epoch or time budget.

    spec = SweepSpec(dataset="digits", variants=["sparse_l1"],
                     grid={"k": [8, 16, 32], "sparsity_weight": [1e-4, 1e-3, 1e-2, 1e-1]}, epochs=5)
    spec = spec.validated()        # raises InvalidConfig with one clear line on a bad grid
    points = spec.points()         # 12 SweepPoints, variant-major, then grid order, then seed

Grid values are checked against each variant's declared `Param` (type and range) and its
`k_range`, so a bad grid is refused before anything trains.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from aeviz.training.config import DEFAULT_EPOCHS, TrainConfig, check_positive
from aeviz.variants.trainer_settings import TRAINER_PARAMS
from aeviz.sweeps.grid_args import parse_grid_arg, parse_seeds
from aeviz.errors import InvalidConfig
from aeviz.params import Param
from aeviz.data.datasets import get_spec
from aeviz.variants import get_variant

# Names every variant accepts besides its declared parameters.
TRAINING_NAMES = ("k", "lr", "batch_size")
MAX_POINTS = 5000


def input_size_of(dataset: str) -> int:
    """Pixels per image, without loading the dataset."""

    return get_spec(dataset).input_size  # raises on an unknown name


def parse_value(name: str, raw: Any, variant_cls, input_size: int) -> Any:
    """One grid value, converted and checked against what `variant_cls` declares."""
    if name == "k":
        try:
            k = int(raw) if not isinstance(raw, float) or raw.is_integer() else raw
        except (TypeError, ValueError):
            raise InvalidConfig(f"k: {raw!r} is not a whole number") from None
        if not isinstance(k, int):
            raise InvalidConfig(f"k: {raw!r} is not a whole number")
        variant_cls.check_k(k, input_size)
        return k
    if name == "lr":
        check_positive("lr", raw)
        if float(raw) > 10:
            raise InvalidConfig(f"lr {float(raw):g} is far too large (at most 10)")
        return float(raw)
    if name == "batch_size":
        return Param("batch_size", "int", 256, "", low=1, high=1_000_000).parse(raw)
    declared = {p.name: p for p in (*variant_cls.declared_params(), *TRAINER_PARAMS)}
    if name not in declared:
        raise InvalidConfig(f"{variant_cls.slug} has no parameter {name!r}; it accepts: "
                            f"{', '.join(sweepable_names(variant_cls))}")
    param = declared[name]
    if param.kind == "choice" and str(raw) not in param.choices:
        raise InvalidConfig(f"{name}: {str(raw)!r} is not one of {', '.join(param.choices)}")
    return param.parse(raw)


def sweepable_names(variant_cls) -> list[str]:
    return [*TRAINING_NAMES, *(p.name for p in variant_cls.declared_params()), *(p.name for p in TRAINER_PARAMS)]


def declared_param(variant_cls, name: str) -> Param | None:
    for param in (*variant_cls.declared_params(), *TRAINER_PARAMS):
        if param.name == name:
            return param
    return None


def suggest_values(variant_cls, name: str, input_size: int, count: int = 4) -> list[Any]:
    """Grid values to start from for `name`, taken from its declared range (for the page)."""
    if name == "k":  # powers of two in the allowed range, nearest the variant's default
        low, high = variant_cls.k_range(input_size)
        cap = min(high, max(4 * variant_cls.default_k, 2 * low))
        values = [2 ** i for i in range(0, 16) if low <= 2 ** i <= cap] or [low]
        if len(values) < 2 and cap > low:
            values = sorted({low, cap})
        values = sorted(values, key=lambda k: abs(math.log2(k) - math.log2(max(variant_cls.default_k, 1))))[:count]
        return sorted(values)
    if name == "lr":
        return [3e-4, 1e-3, 3e-3]
    if name == "batch_size":
        return [64, 256]
    param = declared_param(variant_cls, name)
    if param is None:
        return []
    if param.kind == "choice":  # those that run with the variant's other defaults (a VAE's bce needs sigmoid)
        return [c for c in param.choices if _runs_with_defaults(variant_cls, name, c)] or list(param.choices)
    if param.kind == "bool":
        return [False, True]
    if param.kind == "widths":
        return [list(param.default), [256]]
    if param.kind in ("int", "float"):
        low = -math.inf if param.low is None else param.low
        high = math.inf if param.high is None else param.high
        default = param.default
        if param.kind == "int":  # around the default, by factors of two
            raw = [int(round(default * f)) for f in (0.25, 0.5, 1, 2)] if default else [0, 1, 2, 4]
        elif param.log_scale and default and default > 0:  # decades around the default
            raw = [float(f"{default * 10.0 ** e:.2g}") for e in (-2, -1, 0, 1)]
            if low == 0:  # a penalty that can be switched off: compare with it off
                raw = [0.0, *raw[1:]]
        elif math.isfinite(low) and math.isfinite(high):  # evenly inside the range, ends left out
            raw = [float(f"{low + (high - low) * (i + 1) / (count + 1):.2g}") for i in range(count)]
        else:
            raw = [float(f"{(default or 1) * f:.3g}") for f in (0.5, 1, 2, 4)]
        return list(dict.fromkeys(min(max(v, low), high) for v in raw))
    return [param.default]


@dataclass
class SweepPoint:
    index: int
    variant: str
    values: dict[str, Any]          # this point's swept settings (k, sparsity_weight, ...)
    seed: int
    status: str = "pending"         # pending, queued (ray), running, completed, diverged, failed, stopped
    run_id: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def done(self) -> bool:
        return self.status in ("completed", "diverged", "failed")

    @property
    def label(self) -> str:
        values = " ".join(f"{name}={format_value(v)}" for name, v in self.values.items())
        return f"{self.variant} {values} seed={self.seed}".strip()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass
class SweepSpec:
    dataset: str = "digits"
    variants: list[str] = field(default_factory=lambda: ["plain"])
    grid: dict[str, list[Any]] = field(default_factory=dict)   # name -> values (text or parsed)
    seeds: list[int] = field(default_factory=lambda: [0])
    epochs: float | None = None
    max_seconds: float | None = None
    fixed: dict[str, Any] = field(default_factory=dict)        # settings held at one value
    sample: int | None = None        # train this many points drawn at random from the grid
    device: str = "auto"

    # ------------------------------------------------------------------ checking
    def validated(self) -> "SweepSpec":
        """A copy with every grid value parsed and checked for every variant; raises InvalidConfig."""

        input_size = input_size_of(self.dataset)
        variants = list(dict.fromkeys(self.variants or []))
        if not variants:
            raise InvalidConfig("choose at least one variant")
        classes = [get_variant(v) for v in variants]
        if not self.grid:
            raise InvalidConfig("the grid is empty; give at least one NAME=v1,v2,... (e.g. k=2,8,32)")
        grid: dict[str, list[Any]] = {}
        for name, raw_values in self.grid.items():
            if not isinstance(raw_values, (list, tuple)):
                raw_values = parse_grid_arg(f"{name}={raw_values}")[1]
            if len(raw_values) == 0:
                raise InvalidConfig(f"grid {name} has no values (write {name}=v1,v2,...)")
            parsed_per_variant = [[parse_value(name, raw, cls, input_size) for raw in raw_values] for cls in classes]
            parsed = parsed_per_variant[0]
            grid[name] = _unique([list(v) if isinstance(v, tuple) else v for v in parsed])
        fixed: dict[str, Any] = {}
        for name, value in self.fixed.items():
            if name in grid:
                raise InvalidConfig(f"{name} is both swept and fixed")
            parsed = [parse_value(name, value, cls, input_size) for cls in classes][0]
            fixed[name] = list(parsed) if isinstance(parsed, tuple) else parsed
        if self.epochs is not None and self.max_seconds is not None:
            raise InvalidConfig("give an epoch budget or a time budget per point, not both")
        if self.epochs is not None:
            check_positive("epochs", self.epochs)
        if self.max_seconds is not None:
            check_positive("max seconds", self.max_seconds)
        seeds = parse_seeds(self.seeds)
        full = len(variants) * math.prod(len(v) for v in grid.values()) * len(seeds)
        if self.sample is not None and (isinstance(self.sample, bool) or int(self.sample) < 1):
            raise InvalidConfig(f"sample must be a whole number of at least 1 (got {self.sample!r})")
        count = min(full, int(self.sample)) if self.sample else full
        if count > MAX_POINTS:
            raise InvalidConfig(f"the grid has {count} points; at most {MAX_POINTS} per sweep (use --sample N)")
        spec = SweepSpec(self.dataset, variants, grid, seeds, self.epochs, self.max_seconds, fixed,
                         self.sample, self.device)
        spec.check_combinations(input_size)
        return spec

    def check_combinations(self, input_size: int) -> None:
        """Every point's whole configuration is valid (settings that must fit k, say), so that no point
        fails after the grid was accepted; raises InvalidConfig naming the first point that cannot run."""
        for point in self.points():
            if point.seed != self.seeds[0]:
                continue  # the seed changes nothing that is checked
            try:
                self.config_for(point).validate(input_size)
            except InvalidConfig as exc:
                raise InvalidConfig(f"the point {point.label} cannot run: {exc}") from None

    # ------------------------------------------------------------------ expanding
    def swept_names(self) -> list[str]:
        """Grid names with more than one value: the axes of the figures."""
        return [name for name, values in self.grid.items() if len(values) > 1]

    def points(self) -> list[SweepPoint]:
        names = list(self.grid)
        combos = list(itertools.product(*(self.grid[n] for n in names)))
        points = [SweepPoint(0, variant, dict(zip(names, combo)), seed)
                  for variant in self.variants for combo in combos for seed in self.seeds]
        if self.sample and self.sample < len(points):
            chosen = sorted(random.Random(0).sample(range(len(points)), int(self.sample)))
            points = [points[i] for i in chosen]
        for index, point in enumerate(points):
            point.index = index
        return points

    def config_for(self, point: SweepPoint, sweep_id: str = "") -> TrainConfig:
        """The ordinary training configuration of one point, tagged with its sweep."""

        variant = get_variant(point.variant)
        settings = {**self.fixed, **point.values}
        defaults = variant.training_defaults()
        config = TrainConfig(dataset=self.dataset, variant=point.variant,
                             k=int(settings.pop("k", variant.default_k)),
                             epochs=self.epochs, max_seconds=self.max_seconds,
                             batch_size=int(settings.pop("batch_size", defaults["batch_size"])),
                             lr=float(settings.pop("lr", defaults["lr"])), seed=point.seed, device=self.device,
                             tags={"sweep": sweep_id, "sweep_point": point.index} if sweep_id else {})
        config.split_settings(settings)
        return config

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SweepSpec":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def _runs_with_defaults(variant_cls, name: str, value: Any) -> bool:
    if name not in {p.name for p in variant_cls.declared_params()}:
        return True
    try:
        variant_cls.parse_params({name: value}, variant_cls.default_k)
    except InvalidConfig:
        return False
    return True


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def sweep_cost(spec: SweepSpec, points: int | None = None) -> str:
    """What a sweep will cost, said before it starts: its points times the budget of each, in all."""
    count = len(spec.points()) if points is None else points
    if spec.max_seconds is not None:
        total = count * float(spec.max_seconds)
        each, whole = f"{spec.max_seconds:g} s", f"{total:,.0f} s of training" + (
            f" (about {total / 3600:.1f} hours)" if total >= 3600 else f" (about {total / 60:.0f} min)" if total >= 120
            else "")
    else:
        epochs = float(spec.epochs if spec.epochs is not None else DEFAULT_EPOCHS)
        total = f"{count * epochs:,.1f}".rstrip("0").rstrip(".")
        each, whole = f"{epochs:g} epochs", f"{total} epochs of training"
    return f"{count} points × {each} each = {whole} in all."
