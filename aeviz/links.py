"""A training configuration as URL query parameters, and back: what a shared link carries.

    ?dataset=digits&variant=sparse_l1&k=48&epochs=60&seed=0&set=l1_weight=0.003&lesson=sparse-l1

`set` repeats, one `name=value` per variant or optimiser setting. Chosen runs travel as
`runs=ID,ID`. A browser session's id (`session`), its training job (`job`) and its projector mode
(`projector`) never belong in a link someone else opens: `shareable` drops them.
"""

from __future__ import annotations

from typing import Any, Mapping

from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.variants import get_variant

PRIVATE_PARAMS = ("session", "job", "projector")  # this browser tab's own: never in a shared link
MAX_PARAM_CHARS = 2000               # a query value longer than this is refused before parsing


def shareable(query: Mapping[str, Any]) -> dict[str, Any]:
    """The query without the parameters that belong to one browser session."""
    return {name: value for name, value in query.items() if name not in PRIVATE_PARAMS}


def config_query(config: TrainConfig, lesson: str | None = None) -> dict[str, Any]:
    """Query parameters that rebuild `config` (dataset, variant, k, budget, seed, lr, batch size, settings)."""
    query: dict[str, Any] = {"dataset": config.dataset, "variant": config.variant, "k": str(config.k),
                             "seed": str(config.seed), "lr": f"{config.lr:g}", "batch": str(config.batch_size)}
    if config.max_seconds:
        query["seconds"] = f"{config.max_seconds:g}"
    else:
        query["epochs"] = f"{config.epochs if config.epochs is not None else 5:g}"
    settings = {**config.params, **config.trainer}
    if settings:
        query["set"] = [f"{name}={_text(value)}" for name, value in settings.items()]
    if lesson:
        query["lesson"] = lesson
    return query


def query_config(query: Mapping[str, Any]) -> TrainConfig | None:
    """The TrainConfig a query describes (None without dataset and variant). Values are checked as
    the CLI checks them; raises InvalidConfig naming the bad parameter."""
    dataset, variant = _one(query, "dataset"), _one(query, "variant")
    if not dataset or not variant:
        return None

    model = get_variant(variant)
    defaults = model.training_defaults()
    config = TrainConfig(dataset=dataset, variant=variant,
                         k=_number(query, "k", int, model.default_k), seed=_number(query, "seed", int, 0),
                         epochs=_number(query, "epochs", float, None),
                         max_seconds=_number(query, "seconds", float, None),
                         lr=_number(query, "lr", float, defaults["lr"]),
                         batch_size=_number(query, "batch", int, defaults["batch_size"]))
    config.split_settings(query_settings(query))
    return config


def query_settings(query: Mapping[str, Any]) -> dict[str, str]:
    """The `set=name=value` pairs of a query."""
    raw = query.get("set") or []
    settings = {}
    for pair in [raw] if isinstance(raw, str) else list(raw):
        name, sep, value = str(pair)[:MAX_PARAM_CHARS].partition("=")
        if not sep or not name.strip():
            raise InvalidConfig(f"link parameter set={pair!r} should be name=value")
        settings[name.strip()] = value.strip()
    return settings


def query_runs(query: Mapping[str, Any]) -> list[str]:
    """Run ids from `runs=ID,ID` (at most 16; names only, existence is checked by the run store)."""
    text = _one(query, "runs") or ""
    return [part.strip() for part in text[:MAX_PARAM_CHARS].split(",") if part.strip()][:16]


def _one(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)[:MAX_PARAM_CHARS]


def _number(query: Mapping[str, Any], name: str, kind, default):
    text = _one(query, name)
    if text is None or text == "":
        return default
    try:
        return kind(float(text)) if kind is int and "e" in text.lower() else kind(text)
    except ValueError:
        words = "whole number" if kind is int else "number"
        raise InvalidConfig(f"link parameter {name}={text!r} is not a {words}") from None


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
