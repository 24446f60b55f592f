"""Parsing `--set name=value` pairs."""

from __future__ import annotations

from aeviz.errors import InvalidConfig


def parse_settings(pairs: list[str] | None) -> dict[str, str]:
    settings: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidConfig(f"--set expects name=value (got {pair!r})")
        settings[name.strip()] = value.strip()
    return settings
