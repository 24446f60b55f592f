"""Widgets generated from a variant's declared parameters (aeviz.params.Param)."""

from __future__ import annotations

import math

import streamlit as st


def param_widget(param, key_prefix: str, where=None):
    """One widget for one Param; returns its value (parsed by the caller through the variant).

    A default fitted to k (Autoencoder.params_for_k) is where a new control starts; a value that no longer
    fits k is refused by the variant before Train is pressed."""
    where = where or st
    key = f"{key_prefix}.{param.name}"
    label = param.name.replace("_", " ")
    if param.kind == "bool":
        return where.checkbox(label, value=bool(param.default), help=param.help, key=key)
    if param.kind == "choice":
        choices = list(param.choices)
        index = choices.index(param.default) if param.default in choices else 0
        return where.selectbox(label, choices, index=index, help=param.help, key=key)
    if param.kind == "widths":
        default = ",".join(str(w) for w in (param.default or ()))
        return where.text_input(label, value=default, help=param.help + " Comma-separated.", key=key)
    if param.kind == "int":
        low, high = int_range(param)
        if high - low <= 1000:
            return where.slider(label, low, high, int(param.default), help=param.help, key=key)
        return where.number_input(label, low, high, int(param.default), help=param.help, key=key)
    if param.kind == "float":
        if param.log_scale and param.high is not None and (param.low or param.log_low):
            low, high = param.log_axis()
            return log_slider(label, low, high, float(param.default), param.help, key, where,
                              with_off=param.low is not None and param.low <= 0)
        low = float(param.low) if param.low is not None else None
        high = float(param.high) if param.high is not None else None
        if low is not None and high is not None:
            step = (high - low) / 100 if high > low else 0.01
            return where.slider(label, low, high, float(param.default), step=step, help=param.help, key=key,
                                format="%.4g")
        return where.number_input(label, min_value=low, max_value=high, value=float(param.default),
                                  help=param.help, key=key, format="%g")  # as typed: %.4g showed 0.123456 as 0.1235
    return where.text_input(label, value=str(param.default), help=param.help, key=key)


def int_range(param) -> tuple[int, int]:
    """(low, high) of a whole-number setting's widget."""
    low = int(param.low) if param.low is not None else 0
    high = int(param.high) if param.high is not None else max(int(param.default) * 10, 10)
    return low, high


def widget_problem(param, value) -> str | None:
    """None when `value` (a link's text, already accepted by the variant) fits `param`'s widget; else what
    the widget offers (a value outside it would stop the page)."""
    try:
        value = param.parse(value)
    except ValueError:
        return None  # the variant refuses it, and says so
    if param.kind == "int":
        low, high = int_range(param)
        return None if low <= value <= high else f"the {param.name} control runs from {low} to {high}"
    if param.kind == "float" and param.log_scale and param.high is not None and (param.low or param.log_low):
        low, high = param.log_axis()
        with_off = param.low is not None and param.low <= 0
        if low <= value <= high or (with_off and value == 0):
            return None
        return f"the {param.name} control runs from {low:g} to {high:g}" + (" or off" if with_off else "")
    if param.kind == "float" and param.low is not None and param.high is not None:
        low, high = float(param.low), float(param.high)
        return None if low <= value <= high else f"the {param.name} control runs from {low:g} to {high:g}"
    return None


def log_slider(label: str, low: float, high: float, default: float, help: str, key: str, where=None,
               with_off: bool = False) -> float:
    """A select slider over values evenly spaced on a log axis (3 per decade, plus the default); with
    `with_off`, its first stop is 0, shown as "off" (a penalty switched off)."""
    where = where or st
    stops = log_stops(low, high, default, with_off)
    current = st.session_state.get(key)  # a value set from a link may lie between the grid's
    if isinstance(current, float) and low <= current <= high and current not in stops:
        stops = sorted([*stops, current])
    return where.select_slider(label, stops, value=float(f"{default:.3g}"), help=help, key=key,
                               format_func=lambda v: "off" if v == 0 else f"{v:g}")


def log_stops(low: float, high: float, default: float, with_off: bool = False) -> list[float]:
    """The stops of log_slider: low … high, 3 per decade, plus the default (and 0 first, with_off)."""
    decades = math.log10(high) - math.log10(low)
    count = max(2, int(round(decades * 3)) + 1)
    values = {float(f"{v:.3g}") for v in [low * (high / low) ** (i / (count - 1)) for i in range(count)]}
    values |= {float(f"{default:.3g}")} | ({0.0} if with_off else set())
    return sorted(values)


def param_widgets(params, key_prefix: str, where=None) -> dict:
    """Widgets for every declared Param; returns {name: value}."""
    return {p.name: param_widget(p, key_prefix, where) for p in params}


def changed_params(params, values: dict) -> dict:
    """Only the values that differ from the declared defaults (what a config needs to record)."""
    from aeviz.params import parse_widths

    out = {}
    for p in params:
        value = values.get(p.name, p.default)
        default = p.default
        if p.kind == "widths":
            try:
                value = parse_widths(value)
            except ValueError:
                out[p.name] = value  # let the variant's parser produce the error message
                continue
            default = tuple(default or ())
        if value != default:
            out[p.name] = value
    return out
