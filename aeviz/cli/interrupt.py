"""Ctrl-C for long commands: the first asks the work to stop after its current step (what is finished is
kept and saved); a second aborts at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable


@contextlib.contextmanager
def first_interrupt_stops(stopping: Callable[[], bool], stop: Callable[[], None], message: str, stream):
    """While inside: SIGINT calls `stop()` and says so on `stream`, or raises KeyboardInterrupt when
    `stopping()` is already true. `message`: the line said on the first Ctrl-C. Only the main thread
    can take signals; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum, frame):
        if stopping():
            raise KeyboardInterrupt
        stop()
        stream.write(f"\n{message}\n")
        stream.flush()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
