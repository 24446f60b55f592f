"""Shared CLI output: the final JSON line on stdout, and progress on stderr with tqdm."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Iterable

from tqdm import tqdm


def print_json(data: Any) -> None:
    """The machine-readable last line on stdout."""
    print(json.dumps(data, default=_default), flush=True)


def _default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def progress_bar(label: str, stream=None) -> tqdm:
    """A bar for a fraction 0..1 on stderr, redrawn at most twice a second on a terminal (every 5 s in a log)."""
    stream = stream or sys.stderr
    interactive = stream.isatty()
    return tqdm(total=1.0, desc=label, file=stream, mininterval=0.5 if interactive else 5.0,
                bar_format="{desc} |{bar:24}| {percentage:5.1f}%{postfix}", dynamic_ncols=interactive)


def show_fraction(bar: tqdm, fraction: float, detail: str = "", force: bool = False) -> None:
    """Move `bar` to `fraction` with `detail` beside it (`force`: redraw now, whatever the interval)."""
    bar.set_postfix_str(detail, refresh=False)
    fraction = max(0.0, min(1.0, fraction))
    if force:
        bar.n = fraction
        bar.refresh()
    else:
        bar.update(fraction - bar.n)


def close_bar(bar: tqdm, message: str = "") -> None:
    bar.close()
    if message:
        bar.fp.write(message + "\n")
        bar.fp.flush()


def follow(events: Iterable[Any], bar: tqdm, describe: Callable[[Any], str],
           started: Callable[[Any], Iterable[str]] | None = None):
    """Show a trainer's events (or anything yielding the same: Started, Progress, Finished) on `bar`:
    the lines `started(event)` when it starts, each Progress with `describe(progress)` beside the bar,
    and how it ended. Returns the Finished event (None if the events stop without one)."""
    from aeviz.training.events import Finished, Progress, Started

    fraction, finished = 0.0, None
    for event in events:
        if isinstance(event, Started) and started is not None:
            for line in started(event):
                bar.write(line, file=bar.fp)
        elif isinstance(event, Progress):
            fraction = event.fraction
            show_fraction(bar, fraction, describe(event))
        elif isinstance(event, Finished):
            finished = event
    show_fraction(bar, fraction, "", force=True)
    if finished is not None:
        close_bar(bar, f"{finished.status}: {finished.message}")
        if finished.save_error:
            bar.fp.write(f"error: {finished.save_error}\n")
    else:
        close_bar(bar)
    return finished
