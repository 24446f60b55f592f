"""The server's memory allocator: settings that keep a long-running server's memory bounded, and giving freed
memory back to the system once a class has left.

A server is one process in which many threads allocate: each page's script run, each training job, the web
server. glibc's malloc gives threads their own arenas (up to 8 per core) and, after large blocks are freed,
raises the size from which it maps blocks directly, so memory freed by one class stays in the arenas, spread
thin, and the next class's pages often land in others. Measured on a 2-core machine
(tests/e2e/test_memory_classes.py: three classes of 8 sessions one after another, each training a digits
run; the server's resident memory after each class, above its idle level once warm; free pages given back
in both): glibc's defaults +43, +61, +64 MB, and +63 once the sessions were forgotten; with at most 2 arenas
and blocks of 4 MB and more always mapped directly +31, +37, +41 and +38. Training is as fast with these
settings (2 epochs of Fashion-MNIST, k = 32: 6.7 s against 6.4-7.1 s); a threshold of 256 KB or 1 MB instead
of 4 MB slowed it by 1.5-2.4x (every batch's activations were then mapped and unmapped at each step).

    env = allocator_environment(dict(os.environ))   # what `aeviz serve` starts Streamlit with
    give_back_free_memory()                         # after a class: free pages go back to the system

Both do nothing where the C library is not glibc (macOS, Windows, musl): the settings are glibc's.
"""

from __future__ import annotations

import ctypes
import functools
import platform
import sys

TUNABLES_ENV = "GLIBC_TUNABLES"
# glibc's tunables for the server (a value the environment already sets is kept)
SERVER_TUNABLES = {"glibc.malloc.arena_max": "2", "glibc.malloc.mmap_threshold": str(4 * 2**20)}


def uses_glibc() -> bool:
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def allocator_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` with SERVER_TUNABLES added to GLIBC_TUNABLES (glibc reads them when the process starts; each one
    `env` sets already stays as it is); `env` unchanged where the C library is not glibc."""
    if not uses_glibc():
        return dict(env)
    present = [item for item in env.get(TUNABLES_ENV, "").split(":") if "=" in item]
    named = {item.split("=", 1)[0] for item in present}
    added = [f"{name}={value}" for name, value in SERVER_TUNABLES.items() if name not in named]
    return {**env, TUNABLES_ENV: ":".join(present + added)}


def give_back_free_memory() -> bool:
    """Return the free pages inside malloc's arenas to the system (glibc's malloc_trim): True if any were.
    Takes milliseconds; call it when much was freed (a class's sessions forgotten, the last training ended)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, found once (the C library's symbols are the process's own: no search, which
    would run `ldconfig` at every call), or None where there is none."""
    if not uses_glibc():
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
