"""The server's allocator (aeviz.serving.allocator): `aeviz serve` starts Streamlit with glibc told to keep few
arenas and to map large blocks directly, keeping what the environment already says; and free memory inside
the arenas goes back to the system when asked (in a child process with an address-space limit)."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import textwrap

import pytest

from aeviz.serving import allocator
from tests.conftest import ROOT

glibc_only = pytest.mark.skipif(not allocator.uses_glibc(), reason="the settings are glibc's")


@glibc_only
def test_the_server_environment_carries_the_allocator_settings_and_keeps_the_users(tmp_path, monkeypatch):
    from aeviz.cli.commands.serve import server_environment

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=6:glibc.malloc.tcache_count=0")
    env = server_environment(argparse.Namespace(port=8600, data_dir=None, runs_dir=None, ray_address=None))
    items = env["GLIBC_TUNABLES"].split(":")
    assert "glibc.malloc.arena_max=6" in items and "glibc.malloc.tcache_count=0" in items  # the user's stay
    assert f"glibc.malloc.mmap_threshold={4 * 2**20}" in items and "glibc.malloc.arena_max=2" not in items
    monkeypatch.delenv("GLIBC_TUNABLES")
    fresh = server_environment(argparse.Namespace(port=8600, data_dir=None, runs_dir=None, ray_address=None))
    assert set(fresh["GLIBC_TUNABLES"].split(":")) == {f"{k}={v}" for k, v in allocator.SERVER_TUNABLES.items()}


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))  # far above what the child needs


@glibc_only
def test_free_memory_inside_the_arenas_goes_back_to_the_system():
    """A child allocates 200 MB in 64 KB blocks (inside malloc's heap), frees all but every 32nd (the ones
    left pin the heap: glibc cannot shrink it by itself), and gives the free pages back."""
    code = textwrap.dedent("""
        import ctypes, json
        from aeviz.serving.allocator import give_back_free_memory

        def resident_mb():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        blocks = []
        for _ in range(3200):
            block = libc.malloc(64 * 1024)
            ctypes.memset(block, 1, 64 * 1024)  # touched: resident
            blocks.append(block)
        for number, block in enumerate(blocks):
            if number % 32:
                libc.free(block)
        before = resident_mb()
        gave = give_back_free_memory()
        print(json.dumps({"before": before, "after": resident_mb(), "gave": gave}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         preexec_fn=limit_memory, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["gave"] and figures["before"] - figures["after"] > 150, figures  # of the ~194 MB freed
