"""UMAP of codes in seconds, not a minute: a persistent numba cache and exact neighbours.

umap-learn spends most of a fresh process's first call compiling numba kernels (47-57 s on a
2-core machine) because most of them are not cached on disk, and its approximate nearest-
neighbour search (pynndescent) compiles its own. Here:

* every numba function of umap is switched to on-disk caching in ``$AEVIZ_CACHE_DIR/numba``
  (or ``~/.cache/aeviz/numba``), so only the very first process on a machine compiles them;
* the k nearest neighbours are found exactly with scikit-learn (for ~10,000 codes of a few
  dozen dimensions brute force takes a fraction of a second) and handed to UMAP as
  ``precomputed_knn``, so pynndescent is never compiled or run;
* the layout starts from PCA instead of a spectral embedding (an eigensolve of seconds) and
  runs ``n_epochs=100`` (umap-learn uses 500 for up to 10,000 points). The layout is ~90% of a warm
  call and grows with the epochs; on 10,000 Fashion-MNIST codes (2 cores, seeds 0 and 1) 100, 150 and
  300 epochs kept the same share of each point's 15 neighbours (trustworthiness 0.980, 0.980, 0.979)
  and the same 15-NN class accuracy in 2-D (0.78), in 2.7, 4.0 and 7.5 s. (A parallel layout was no
  faster on 2 cores: its threads write to the same small coordinate array.)
* at most ``MAX_POINTS`` codes are embedded (callers take a stratified subsample);
* ``warm_up_umap()`` loads or compiles the kernels in a background thread when the app starts;
* ``EMBEDDINGS`` keeps the most recent ``$AEVIZ_CACHE_EMBEDDINGS`` (default 32) embeddings made for the
  pages (fitted in the background, in a training slot: aeviz.jobs.embeddings).

    from aeviz.analysis.umap_embed import umap_embedding
    xy = umap_embedding(codes)          # (N, 2) float32
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from dataclasses import dataclass

import numpy as np

from aeviz.lru import LRUCache
from aeviz.server_settings import cache_limits

DEFAULT_EPOCHS = 100
MAX_POINTS = 10000
_lock = threading.Lock()
_prepared = False
# Embeddings made for pages, by their own key (the Latent space page: run id, creation time, points), the most
# recently used kept (each at most MAX_POINTS x 2 float32: 80 KB).
EMBEDDINGS = LRUCache(max_entries=lambda: cache_limits()["embeddings"])


def numba_cache_dir() -> Path:
    """Where compiled UMAP kernels are kept between processes."""
    explicit = os.environ.get("AEVIZ_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit) / "numba"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "aeviz" / "numba"


def prepare_umap():
    """Import umap with its numba kernels cached on disk; returns the umap module. Idempotent."""
    global _prepared
    with _lock:
        if _prepared:
            return sys.modules["umap"]
        folder = numba_cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writable = os.access(folder, os.W_OK)
        except OSError:
            writable = False
        if writable and not os.environ.get("NUMBA_CACHE_DIR"):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
        import numba
        import umap  # noqa: F401  (imports umap.umap_, layouts, spectral, distances, utils, sparse)

        if writable:
            numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
        enable_disk_caching()
        _prepared = True
        return umap


def enable_disk_caching() -> int:
    """Turn on disk caching for every numba function of umap and pynndescent that lacks it (most of
    umap's layout and graph kernels are declared without ``cache=True``). Call after importing umap,
    with NUMBA_CACHE_DIR set; returns how many functions were switched. Safe to call again."""
    import numba

    if not numba.config.CACHE_DIR:
        return 0
    from numba.core.dispatcher import Dispatcher

    count = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("umap", "pynndescent")) or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and type(value._cache).__name__ == "NullCache":
                try:
                    value.enable_caching()
                    count += 1
                except Exception:  # a kernel that cannot be cached is simply compiled each time
                    pass
    return count


def exact_neighbors(points: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each point's n_neighbors nearest (itself first)."""
    from sklearn.neighbors import NearestNeighbors

    finder = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute").fit(points)
    distances, indices = finder.kneighbors(points)
    return indices.astype(np.int32), distances.astype(np.float32)


class _TqdmToCallback:
    """A file for umap's tqdm bar (bar_format "{n}/{total}") that reports the epoch fraction."""

    def __init__(self, progress, start: float, span: float):
        self.progress, self.start, self.span = progress, start, span

    def write(self, text: str) -> None:
        import re

        match = re.findall(r"(\d+)/(\d+)", text)
        if match:
            done, total = (int(v) for v in match[-1])
            if total:
                self.progress(self.start + self.span * done / total, f"UMAP layout: epoch {done} of {total}")

    def flush(self) -> None:
        pass


def umap_kernels_cached() -> bool:
    """Whether umap's compiled kernels are already in the on-disk numba cache (else the first call compiles)."""
    path = os.environ.get("NUMBA_CACHE_DIR") or str(numba_cache_dir())
    try:
        return any(name.startswith("umap") for name in os.listdir(path))
    except OSError:
        return False


def umap_embedding(codes: np.ndarray, progress=None, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0,
                   n_epochs: int = DEFAULT_EPOCHS) -> np.ndarray:
    """A 2-D UMAP embedding (N, 2) float32 of `codes` (N, k), reproducible for a given seed.

    `progress(fraction 0..1, message)`, if given, hears of the neighbour search and each layout
    epoch. Callers subsample beyond `MAX_POINTS` (see `aeviz.analysis.comparison.stratified_subsample`).
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "loading UMAP" if _warm.state == "done" or umap_kernels_cached() else
           "first use on this machine: compiling UMAP's numba kernels (about a minute, once; cached on disk)")
    points = np.ascontiguousarray(np.asarray(codes, dtype=np.float32).reshape(len(codes), -1))
    if len(points) <= n_neighbors + 1:
        raise ValueError(f"UMAP needs more than {n_neighbors + 1} points (got {len(points)})")
    umap = prepare_umap()
    report(0.05, "UMAP: finding nearest neighbours")
    indices, distances = exact_neighbors(points, n_neighbors)
    bar = {} if progress is None else {"tqdm_kwds": {"disable": False, "file": _TqdmToCallback(report, 0.3, 0.7),
                                                     "bar_format": "{n}/{total}", "mininterval": 0.2}}
    import warnings

    with warnings.catch_warnings():
        # umap warns that precomputed neighbours rule out transform() and that a seed disables
        # parallelism; both are what we want here.
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, init="pca",
                            n_epochs=n_epochs, precomputed_knn=(indices, distances, None), **bar)
        embedding = reducer.fit_transform(points)
    report(1.0, "UMAP done")
    return np.asarray(embedding, dtype=np.float32)


# ---------------------------------------------------------------------------- warm-up
@dataclass
class WarmUp:
    state: str = "idle"   # idle, running, done, failed
    seconds: float = 0.0
    error: str = ""


_warm = WarmUp()
_warm_lock = threading.Lock()


def warm_up_umap(background: bool = True) -> WarmUp:
    """Compile (or load from the disk cache) UMAP's numba kernels on a tiny problem, once per process."""
    with _warm_lock:
        if _warm.state != "idle":
            return _warm
        _warm.state = "running"

    def work():
        import time

        start = time.perf_counter()
        try:
            rng = np.random.default_rng(0)
            umap_embedding(rng.random((200, 8), dtype=np.float32), n_epochs=20)
            _warm.state = "done"
        except Exception as exc:  # a failed warm-up only means the first real call compiles
            _warm.state, _warm.error = "failed", f"{type(exc).__name__}: {exc}"
        _warm.seconds = time.perf_counter() - start

    if background:
        threading.Thread(target=work, name="aeviz-umap-warmup", daemon=True).start()
    else:
        work()
    return _warm


def umap_warm_state() -> WarmUp:
    return _warm
