"""Loaded datasets are kept within AEVIZ_CACHE_DATASETS_MB, the least recently used out first (issue #33,
bounded memory): a dataset dropped from the cache stays valid for whoever holds it (a running job) and is
released once nobody does; a process loading dataset after dataset stays within its budget (checked in a
child process under an address-space limit)."""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest
import torch

from aeviz.data.datasets import dataset_loaded, load_dataset
from aeviz.data.user import import_file
from tests.conftest import ROOT


@pytest.fixture
def cache(tmp_path, monkeypatch, fresh_dataset_cache):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def user_dataset(count: int, seed: int, side: int = 64) -> str:
    """A converted user dataset of `count` random side x side images in three classes; its name."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=rng.integers(0, 256, size=(count, side, side), dtype=np.uint8),
                        labels=np.arange(count) % 3)
    return import_file(buffer.getvalue(), f"set{seed}.npz").name


def test_loading_three_datasets_keeps_the_two_most_recent_and_a_holder_keeps_its_own(cache, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DATASETS_MB", "2")
    names = [user_dataset(48, seed) for seed in range(3)]  # 48 x 64 x 64 float32: 0.79 MB each, two fit in 2 MB
    held = load_dataset(names[0])  # as a running job holds its dataset
    pixels = held.train_images.clone()
    released = weakref.ref(load_dataset(names[1]))
    load_dataset(names[2])
    assert not dataset_loaded(names[0]) and dataset_loaded(names[1]) and dataset_loaded(names[2])
    assert torch.equal(held.train_images, pixels)  # dropped from the cache, still whole for its holder
    load_dataset(names[0])  # read again: now the most recent, and names[1] the least recent goes
    assert [dataset_loaded(name) for name in names] == [True, False, True]
    gc.collect()
    assert released() is None  # nobody held it: its memory is free
    assert load_dataset(names[0]) is not held and torch.equal(load_dataset(names[0]).train_images, pixels)


CHILD = """
import gc, os, resource, sys
from aeviz.data.datasets import clear_cache, load_dataset
names = sys.argv[1:]
load_dataset(names[0])  # everything a load imports and allocates once, before the limit
clear_cache()
gc.collect()
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
limit = size + 100 * 2**20  # 100 MB more than now: about six of these datasets (16.4 MB each)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for name in names:
    load_dataset(name)
print("loaded", len(names))
"""


def test_a_process_loading_eight_datasets_stays_within_its_cache_budget(cache):
    names = [user_dataset(1000, seed) for seed in range(10, 18)]  # 16.4 MB each once loaded: 131 MB in all
    env = {**os.environ, "AEVIZ_CACHE_DIR": str(cache), "AEVIZ_CACHE_DATASETS_MB": "40",
           "MALLOC_MMAP_THRESHOLD_": "131072",  # large arrays come from mmap and go back when freed
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD, *names], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and "loaded 8" in result.stdout, result.stderr[-2000:]
