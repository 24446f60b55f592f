"""A training configuration as URL query parameters, and back: what a shared link carries.

    ?dataset=digits&variant=sparse_l1&k=48&epochs=60&seed=0&set=l1_weight=0.003&lesson=sparse-l1

`set` repeats, one `name=value` per variant or optimiser setting. Chosen runs travel as
`runs=ID,ID`. Every value a page reads from its link goes through one check here (`link_config` for a
training configuration, `link_choice` for one of a few names, `link_runs` for runs), which names each value
it cannot use, so the page's warning says so (ui.links) instead of dropping it. A browser session's id (`session`), its training job (`job`) and its projector mode
(`projector`) never belong in a link someone else opens: `shareable` drops them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Mapping

from aeviz.training.config import TrainConfig, ValidConfig
from aeviz.errors import AevizError, InvalidConfig
from aeviz.variants import VARIANTS, get_variant

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


# query parameter -> (TrainConfig field, kind), in the order they are applied (k first: settings may depend on it)
LINK_FIELDS = (("k", "k", int), ("seed", "seed", int), ("epochs", "epochs", float), ("seconds", "max_seconds", float),
               ("lr", "lr", float), ("batch", "batch_size", int))
SHOWN_CHARS = 40  # of a value quoted in a warning


@dataclass
class LinkedConfig:
    """What a link asks for, through the one validation: `valid` is the configuration of every usable value
    (defaults elsewhere); `problems` names each value that could not be used, one line each ("the link's
    lr=1e+99 is out of range (…); kept the default"). `given`: the TrainConfig fields the link set."""

    valid: ValidConfig | None
    problems: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)


def link_config(query: Mapping[str, Any], input_shape: Callable[[str], tuple[int, ...]],
                fits: Callable[[str, Any], str | None] = lambda name, value: None) -> LinkedConfig | None:
    """The configuration a link describes (None without dataset and variant), each value applied on its own
    and kept only if TrainConfig.validate accepts the result and `fits(name, value)` (a page's widget range)
    returns None; every value left out is named in `problems`. `input_shape(dataset)` raises AevizError for a
    dataset this server does not have."""
    dataset, variant = _raw(query, "dataset"), _raw(query, "variant")
    if not dataset or not variant:
        return None
    if variant not in VARIANTS:
        return LinkedConfig(None, [f"the link's variant={shown(variant)} is not a variant here (one of "
                                   f"{', '.join(VARIANTS)}); none of its settings were applied"])
    try:
        shape = input_shape(dataset)
    except AevizError as exc:
        return LinkedConfig(None, [f"the link's dataset={shown(dataset)} cannot be used ({exc}); none of its "
                                   f"settings were applied"])
    model = get_variant(variant)
    defaults = model.training_defaults()
    low, high = model.k_range(math.prod(shape))
    config = TrainConfig(dataset=dataset, variant=variant, k=int(min(max(model.default_k, low), high)),
                         lr=defaults["lr"], batch_size=defaults["batch_size"])
    try:
        linked = LinkedConfig(config.validate(shape))
    except AevizError as exc:  # the variant's own defaults do not fit this dataset
        return LinkedConfig(None, [f"the link's variant={shown(variant)} cannot train on {shown(dataset)} ({exc}); "
                                   f"none of its settings were applied"])
    for name, attribute, kind in LINK_FIELDS:
        text = _raw(query, name)
        if text is None or text == "":
            continue
        value, problem = _parsed(name, text, kind)
        if problem is None:
            candidate = dataclasses.replace(config, **{attribute: value})
            if attribute == "max_seconds":  # a budget in seconds replaces one in epochs
                candidate.epochs = None
            problem = _tried(candidate, shape, linked, f"{name}={shown(text)}", fits(name, value))
        if problem is None:
            config = candidate
            linked.given.add(attribute)
        else:
            linked.problems.append(problem)
    raw = query.get("set") or []
    for pair in [raw] if isinstance(raw, str) else list(raw):
        try:
            ((name, text),) = query_settings({"set": [pair]}).items()
        except InvalidConfig as exc:
            linked.problems.append(f"{exc}; it was left out")
            continue
        candidate = dataclasses.replace(config, params=dict(config.params), trainer=dict(config.trainer))
        candidate.split_settings({name: text})
        problem = _tried(candidate, shape, linked, f"set={shown(name + '=' + text)}", fits(f"set:{name}", text))
        if problem is None:
            config = candidate
        else:
            linked.problems.append(problem)
    return linked


def shown(text: str) -> str:
    """A value from a link as a warning quotes it: at most SHOWN_CHARS characters."""
    text = str(text)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… ({len(text):,} characters)"


def _tried(candidate: TrainConfig, shape: tuple[int, ...], linked: LinkedConfig, what: str,
           unfit: str | None) -> str | None:
    """None when `candidate` validates (linked.valid becomes it), else the problem naming `what`."""
    try:
        valid = candidate.validate(shape)
    except AevizError as exc:
        return f"the link's {what} is out of range ({exc}); kept the default"
    if unfit:
        return f"the link's {what} is out of range ({unfit}); kept the default"
    linked.valid = valid
    return None


def _parsed(name: str, text: str, kind) -> tuple[Any, str | None]:
    if len(text) > MAX_PARAM_CHARS:
        return None, f"the link's {name} is {len(text):,} characters long (at most {MAX_PARAM_CHARS:,}); kept the default"
    try:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(text)
        value = kind(number) if kind is int else number
        if kind is int and value != number:
            raise ValueError(text)
    except (ValueError, OverflowError):
        words = "a whole number" if kind is int else "a finite number"
        return None, f"the link's {name}={shown(text)} is not {words}; kept the default"
    return value, None


def _raw(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)


def query_settings(query: Mapping[str, Any]) -> dict[str, str]:
    """The `set=name=value` pairs of a query."""
    raw = query.get("set") or []
    settings = {}
    for pair in [raw] if isinstance(raw, str) else list(raw):
        if len(str(pair)) > MAX_PARAM_CHARS:
            raise InvalidConfig(f"the link's set={shown(pair)} is longer than {MAX_PARAM_CHARS:,} characters")
        name, sep, value = str(pair).partition("=")
        if not sep or not name.strip():
            raise InvalidConfig(f"link parameter set={shown(pair)} should be name=value")
        settings[name.strip()] = value.strip()
    return settings


MOST_NAMED = 5  # values of one parameter a warning names one by one; the rest are counted


def link_choice(query: Mapping[str, Any], name: str, allowed: Collection[str], expected: str,
                kept: str) -> tuple[str | None, list[str]]:
    """The link's `name` when it is one of `allowed`: (value, []); else (None, [the problem]), naming the value,
    what was `expected` ("a lesson here (one of …)") and what was `kept` instead; (None, []) without one."""
    text = _raw(query, name)
    if text is None or text == "":
        return None, []
    if text in allowed:
        return text, []
    return None, [f"the link's {name}={shown(text)} is not {expected}; {kept}"]


def link_runs(query: Mapping[str, Any], name: str, known: Collection[str], most: int,
              offered: str) -> tuple[list[str], list[str]]:
    """(the runs of `runs=ID,ID` that are `known`, at most `most`, in the link's order; the problems): each run
    left out is named, one line each, because it is not a run the picker `offered` ("saved here on digits")
    or because the picker shows fewer."""
    text = _raw(query, name)
    if text is None or not text.strip():
        return [], []
    if len(text) > MAX_PARAM_CHARS:
        return [], [f"the link's {name} is {len(text):,} characters long (at most {MAX_PARAM_CHARS:,}); no run was chosen"]
    wanted = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    usable = [run_id for run_id in wanted if run_id in known]
    problems = [f"the link's {name} names {shown(run_id)}, which is not a run {offered}; it was left out"
                for run_id in wanted if run_id not in known]
    if len(usable) > most:
        shows = "one run" if most == 1 else f"at most {most} runs"
        problems.append(f"the link's {name} names {len(usable)} runs and this picker shows {shows}; "
                        f"{', '.join(shown(run_id) for run_id in usable[most:])} left out")
    if len(problems) > MOST_NAMED + 1:
        problems = problems[:MOST_NAMED] + [f"… and {len(problems) - MOST_NAMED} more of the link's {name} left out"]
    return usable[:most], problems


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
