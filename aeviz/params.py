"""Declared hyperparameters: one `Param` describes a setting's type, default, range and help.

The CLI (`--set name=value`), the app's controls and sweeps are all generated from these
declarations, so a variant states its knobs once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aeviz.errors import InvalidConfig


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "float", "choice", "bool", "widths"
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    log_scale: bool = False  # a slider on a log axis (learning rates, penalty weights)
    # Smallest positive value of a log axis whose range starts at 0: a penalty weight's slider runs
    # "off" (0), then log_low ... high, so a run with and without the penalty can be compared.
    log_low: float | None = None

    def log_axis(self) -> tuple[float, float]:
        """(smallest positive, largest) value of this setting's log axis."""
        low = self.low if self.low is not None and self.low > 0 else self.log_low
        if low is None or self.high is None:
            raise ValueError(f"{self.name} has no positive log axis")
        return float(low), float(self.high)

    def parse(self, value: Any) -> Any:
        """Convert `value` (text from the CLI, or a Python value) and check it; raise InvalidConfig."""
        try:
            parsed = self._convert(value)
        except InvalidConfig:
            raise
        except (TypeError, ValueError):
            raise InvalidConfig(f"{self.name}: {value!r} is not a valid {self._kind_words()}") from None
        self._check_range(parsed)
        return parsed

    def _convert(self, value: Any) -> Any:
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
        if self.kind == "float":
            parsed = float(value)
            if not math.isfinite(parsed):
                raise ValueError
            return parsed
        if self.kind == "bool":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if self.kind == "choice":
            text = str(value)
            if text not in self.choices:
                raise InvalidConfig(f"{self.name}: {text!r} is not one of {', '.join(self.choices)}")
            return text
        if self.kind == "widths":
            return parse_widths(value)
        raise ValueError(self.kind)

    def _check_range(self, parsed: Any) -> None:
        if self.kind in ("int", "float"):
            if self.low is not None and parsed < self.low:
                raise InvalidConfig(f"{self.name} must be at least {self.low:g} (got {parsed:g})")
            if self.high is not None and parsed > self.high:
                raise InvalidConfig(f"{self.name} must be at most {self.high:g} (got {parsed:g})")
        if self.kind == "widths":
            for width in parsed:
                if width < 1 or width > 16384:
                    raise InvalidConfig(f"{self.name}: each width must be between 1 and 16384 (got {width})")

    def _kind_words(self) -> str:
        return {"int": "whole number", "float": "finite number", "bool": "true/false",
                "choice": "choice", "widths": "comma-separated list of layer widths"}[self.kind]

    def to_json(self) -> dict:
        out = {"name": self.name, "type": self.kind, "default": _jsonable(self.default), "help": self.help}
        if self.low is not None:
            out["min"] = self.low
        if self.high is not None:
            out["max"] = self.high
        if self.choices:
            out["choices"] = list(self.choices)
        if self.log_scale:
            out["log_scale"] = True
        if self.log_low is not None:
            out["log_low"] = self.log_low
        return out


def parse_widths(value: Any) -> tuple[int, ...]:
    """"512,256" or [512, 256] or "" -> (512, 256) / ()."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    text = str(value).strip().strip("()[]")
    if not text or text.lower() == "none":
        return ()
    return tuple(int(part) for part in text.replace(" ", "").split(",") if part)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class ParamSet:
    """Parsed values for a list of declarations, defaults filled in."""

    declared: tuple[Param, ...]
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_overrides(cls, declared: tuple[Param, ...], overrides: dict[str, Any] | None) -> "ParamSet":
        by_name = {p.name: p for p in declared}
        values = {p.name: p.default for p in declared}
        for name, raw in (overrides or {}).items():
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise InvalidConfig(f"unknown setting {name!r}; this variant accepts: {known}")
            values[name] = by_name[name].parse(raw)
        return cls(declared, values)
