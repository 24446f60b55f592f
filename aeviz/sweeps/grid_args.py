"""A sweep's grid and seeds as the command line writes them: 'k=2,8,32', 'hidden=1024|512,256', '0,1,2'."""

from __future__ import annotations

from aeviz.errors import InvalidConfig


def parse_grid_arg(text: str) -> tuple[str, list[str]]:
    """'k=2,8,32' -> ('k', ['2', '8', '32']). A widths parameter separates its values with '|' or ';'
    ('hidden=1024|512,256'), since a single value already holds commas."""
    name, sep, values = str(text).partition("=")
    name = name.strip()
    if not sep or not name:
        raise InvalidConfig(f"--grid expects NAME=v1,v2,... (got {text!r})")
    separator = "|" if "|" in values else ";" if ";" in values else ","
    parts = [part.strip() for part in values.split(separator)]
    if not any(parts):
        raise InvalidConfig(f"grid {name} has no values (write {name}=v1,v2,...)")
    if not all(parts):
        raise InvalidConfig(f"grid {name} has an empty value in {values!r}")
    return name, parts


def parse_grid_args(texts: list[str] | None) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for text in texts or []:
        name, values = parse_grid_arg(text)
        if name in grid:
            raise InvalidConfig(f"grid {name} is given twice; list all its values in one --grid {name}=...")
        grid[name] = values
    return grid


def parse_seeds(text: str | list | None) -> list[int]:
    if text is None or text == "":
        return [0]
    items = text if isinstance(text, (list, tuple)) else str(text).split(",")
    try:
        seeds = [int(str(s).strip()) for s in items if str(s).strip()]
    except ValueError:
        raise InvalidConfig(f"seeds must be whole numbers separated by commas (got {text!r})") from None
    if not seeds:
        raise InvalidConfig("give at least one seed")
    if any(s < 0 for s in seeds):
        raise InvalidConfig(f"seeds must be non-negative (got {text!r})")
    return list(dict.fromkeys(seeds))
