"""The bounded cache (aeviz.lru): at most N values and B bytes, the least recently used out first, a value
made once when several threads ask for it at once, and sizes counted from the arrays a value holds."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from aeviz.lru import LRUCache, nbytes


def test_at_most_n_values_least_recently_used_out_first():
    cache = LRUCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used: "b" goes first
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"] and "b" not in cache and len(cache) == 2
    assert cache.get("b", "missing") == "missing"


def test_a_byte_budget_read_at_each_insertion():
    budget = {"bytes": 2500}
    cache = LRUCache(max_bytes=lambda: budget["bytes"])
    for name in "abc":
        cache.put(name, np.zeros(1000, dtype=np.uint8))
    assert cache.keys() == ["b", "c"] and cache.total_bytes() == 2000
    budget["bytes"] = 1000  # a smaller budget applies from the next insertion
    cache.put("d", np.zeros(500, dtype=np.uint8))
    assert cache.keys() == ["d"] and cache.total_bytes() == 500
    cache.put("huge", np.zeros(5000, dtype=np.uint8))  # over the budget alone: kept alone
    assert cache.keys() == ["huge"] and cache.total_bytes() == 5000
    cache.discard("huge")
    assert len(cache) == 0 and cache.total_bytes() == 0


def test_a_replaced_value_is_counted_once():
    cache = LRUCache(max_bytes=3000)
    cache.put("a", np.zeros(1000, dtype=np.uint8))
    cache.put("a", np.zeros(2000, dtype=np.uint8))
    assert len(cache) == 1 and cache.total_bytes() == 2000


def test_sizes_count_the_arrays_and_tensors_a_value_holds():
    @dataclass
    class Held:
        name: str
        images: torch.Tensor
        parts: tuple
        extra: dict

    value = Held("x", torch.zeros(10, 4), (np.zeros(3, dtype=np.float64), "text"), {"a": torch.zeros(2, dtype=torch.int64)})
    assert nbytes(value) == 10 * 4 * 4 + 3 * 8 + 2 * 8
    assert nbytes("text") == nbytes(None) == 0


def test_a_missing_value_is_made_once_for_threads_asking_together():
    cache = LRUCache(max_entries=4)
    made, start = [], threading.Barrier(4)

    def make():
        made.append(1)
        return object()

    results = []

    def ask():
        start.wait()
        results.append(cache.get_or_make("key", make))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(made) == 1 and len(results) == 4 and all(r is results[0] for r in results)
