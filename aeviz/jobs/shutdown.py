"""Stopping the process politely: running training jobs, and every other background task (a page's trainer, a
sweep), are stopped and saved before it exits.

Without this, SIGTERM or Ctrl-C on the app's server ends the interpreter while a task's daemon thread is
inside torch, and the process aborts ("terminate called without an active exception") with nothing saved.
Every background task is known to aeviz.training.tasks.TASKS, which stops and waits for them all at
interpreter exit. `stop_jobs_at_exit(manager)` (once per manager; aeviz.jobs.manager.default_manager calls it)
adds two things:

- the manager stops first (TASKS.stop_first): its queue is cleared, so no queued job starts as the running
  ones end, its queued jobs are cancelled and its running ones stopped; then every task is stopped, and
  the process waits up to SHUTDOWN_SECONDS for all of them to save. Streamlit's own SIGTERM/SIGINT handler
  stops its server and lets the main thread return, so the exit hook covers the app;
- where it is called from the main thread (a script or the CLI), SIGTERM and SIGINT get a handler that
  stops and saves all the work first, then hands the signal to the handler that was there before
  (SIGTERM's default, which would kill the process at once, becomes a clean exit with status 0). A signal
  the process was started ignoring stays ignored.

Streamlit runs the app's scripts in other threads, where signals cannot be handled; its handler stays.
"""

from __future__ import annotations

import signal
import threading

from aeviz.training.tasks import SHUTDOWN_SECONDS, TASKS

_installed: set[int] = set()


def stop_jobs_at_exit(manager, timeout: float = SHUTDOWN_SECONDS) -> None:
    """Stop and save `manager`'s jobs, and every other background task, when the process exits or gets
    SIGTERM/SIGINT (idempotent)."""
    if id(manager) in _installed:
        return
    _installed.add(id(manager))
    TASKS.stop_first(manager.stop_all)
    TASKS.install_at_exit(timeout)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            _chain(signum, timeout)


def _chain(signum: int, timeout: float) -> None:
    previous = signal.getsignal(signum)
    if previous == signal.SIG_IGN:
        # A process started with the signal ignored (`nohup`, or `&` in a script, which ignores SIGINT) was
        # told to carry on through it: a handler here stopped its jobs and then carried on, training nothing.
        return

    def handler(number, frame):
        TASKS.stop_at_exit(timeout, close=False)  # a handler that carries on (a notebook's Ctrl-C) may train again
        if callable(previous):
            previous(number, frame)
        else:  # SIG_DFL (or unknown): exit cleanly, the work is saved
            raise SystemExit(0)

    signal.signal(signum, handler)
