"""A process-wide cache that keeps the values used most recently within a count and a byte budget: the
least recently used go first. Datasets, PCA fits and embeddings are cached with it, each within its budget
from the server's settings (aeviz.server_settings.cache_limits).

    datasets = LRUCache(max_bytes=lambda: 1024 * 10**6)
    dataset = datasets.get_or_make("mnist", lambda: read("mnist"))

Eviction only drops the cache's reference: whoever holds a value (a running job, its dataset) keeps it
valid. The value just stored is never evicted, even when it alone is over the budget (it is kept alone).
Thread-safe.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

Bound = int | None | Callable[[], int | None]  # a number, None (no bound), or read at each insertion


def nbytes(value: Any) -> int:
    """The bytes held by the arrays and tensors in `value` (numpy, torch: their `nbytes`), in its dataclass
    fields, tuples, lists and dict values; anything else counts 0."""
    size = getattr(value, "nbytes", None)
    if isinstance(size, int):
        return size
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, field.name)) for field in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return sum(nbytes(item) for item in value)
    if isinstance(value, dict):
        return sum(nbytes(item) for item in value.values())
    return 0


def _read(bound: Bound) -> int | None:
    return bound() if callable(bound) else bound


class LRUCache:
    """{key: value}, at most `max_entries` values and `max_bytes` bytes (as `size` counts them; default
    `nbytes`), each bound a number, None or a function giving one (a server setting, read when a value is
    stored)."""

    def __init__(self, max_entries: Bound = None, max_bytes: Bound = None, size: Callable[[Any], int] = nbytes):
        self.max_entries, self.max_bytes, self.size = max_entries, max_bytes, size
        self._lock = threading.RLock()
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._making: dict[Hashable, list] = {}  # key: [its lock while being made, callers using that lock]

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value for `key` (now the most recently used), or `default`."""
        with self._lock:
            if key not in self._values:
                return default
            self._values.move_to_end(key)
            return self._values[key][0]

    def put(self, key: Hashable, value: Any) -> Any:
        """Store `value` as the most recently used, evicting the least recently used past the bounds;
        returns `value`."""
        size = self.size(value)
        with self._lock:
            if key in self._values:
                self._bytes -= self._values.pop(key)[1]
            self._values[key] = (value, size)
            self._bytes += size
            self._evict(_read(self.max_entries), _read(self.max_bytes))
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value for `key`, made by `make()` and stored when missing. Each key is made under its own lock
        (the cache's lock is not held meanwhile): two threads asking for the same missing value make it once,
        while a value that takes long to make (a 64x64 dataset's PCA: ~25 s) never holds up another key's."""
        with self._lock:
            if key in self._values:
                return self.get(key)
            making = self._making.setdefault(key, [threading.Lock(), 0])
            making[1] += 1  # callers waiting on this key's lock: the last one out removes it
        try:
            with making[0]:
                with self._lock:
                    if key in self._values:  # made while this caller waited
                        return self.get(key)
                return self.put(key, make())
        finally:
            with self._lock:
                making[1] -= 1
                if not making[1] and self._making.get(key) is making:
                    del self._making[key]

    def _evict(self, max_entries: int | None, max_bytes: int | None) -> None:
        while len(self._values) > 1 and ((max_entries is not None and len(self._values) > max_entries)
                                         or (max_bytes is not None and self._bytes > max_bytes)):
            _, (_, size) = self._values.popitem(last=False)
            self._bytes -= size

    def discard(self, key: Hashable) -> None:
        with self._lock:
            if key in self._values:
                self._bytes -= self._values.pop(key)[1]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0

    def keys(self) -> list:
        """The keys, least recently used first."""
        with self._lock:
            return list(self._values)

    def total_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
