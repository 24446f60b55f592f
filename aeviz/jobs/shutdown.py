"""Stopping the process politely: running training jobs are stopped and saved before it exits.

Without this, SIGTERM or Ctrl-C on the app's server ends the interpreter while a job's daemon thread is
inside torch, and the process aborts ("terminate called without an active exception") with nothing saved.
`stop_jobs_at_exit(manager)` (once per process; aeviz.jobs.manager.default_manager calls it) arranges two things:

- at interpreter exit (atexit: runs in the main thread after it returns, while daemon threads still run),
  every job is stopped and the process waits up to SHUTDOWN_SECONDS for them to save. Streamlit's own
  SIGTERM/SIGINT handler stops its server and lets the main thread return, so this covers the app;
- where it is called from the main thread (a script or the CLI), SIGTERM and SIGINT get a handler that
  stops and saves the jobs first, then hands the signal to the handler that was there before
  (SIGTERM's default, which would kill the process at once, becomes a clean exit with status 0). A signal
  the process was started ignoring stays ignored.

Streamlit runs the app's scripts in other threads, where signals cannot be handled; its handler stays.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading

SHUTDOWN_SECONDS = 20.0  # how long an exiting process waits for its jobs to save

_installed: set[int] = set()


def stop_jobs_at_exit(manager, timeout: float = SHUTDOWN_SECONDS) -> None:
    """Stop and save `manager`'s jobs when the process exits or gets SIGTERM/SIGINT (idempotent)."""
    if id(manager) in _installed:
        return
    _installed.add(id(manager))
    _register_exit_hooks_early()
    atexit.register(_stop_all, manager, timeout)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            _chain(signum, manager, timeout)


def _register_exit_hooks_early() -> None:
    """A job still importing torch when the process is told to stop finishes that import during shutdown,
    where Python refuses what the import registers then: concurrent.futures' thread-pool hooks (the import
    failed with a traceback, and the job with it) and weakref.finalize's exit hook (torch's finalizers then
    ran after their modules were torn down, printing a traceback each). Registered here, before shutdown,
    and earlier than _stop_all, so they run after the jobs are stopped and saved."""
    import concurrent.futures.process  # noqa: F401
    import concurrent.futures.thread  # noqa: F401
    import weakref

    weakref.finalize(_register_exit_hooks_early, lambda: None)  # a function lives until exit: never runs early


def _stop_all(manager, timeout: float) -> None:
    if manager.active_count():
        print(f"aeviz: stopping {manager.active_count()} training job(s) and saving them…", file=sys.stderr)
        manager.stop_all_and_wait(timeout)


def _chain(signum: int, manager, timeout: float) -> None:
    previous = signal.getsignal(signum)
    if previous == signal.SIG_IGN:
        # A process started with the signal ignored (`nohup`, or `&` in a script, which ignores SIGINT) was
        # told to carry on through it: a handler here stopped its jobs and then carried on, training nothing.
        return

    def handler(number, frame):
        _stop_all(manager, timeout)
        if callable(previous):
            previous(number, frame)
        else:  # SIG_DFL (or unknown): exit cleanly, the jobs are saved
            raise SystemExit(0)

    signal.signal(signum, handler)
