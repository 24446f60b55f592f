"""Test defaults: never download, keep runs in a temporary folder, small thread count."""

import os
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("AEVIZ_OFFLINE", "1")
# Test models are tiny and the CI machine has 2 cores: one intra-op thread per process is much faster
# than several threads competing (read by torch when it starts, so set before any test imports it).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_runs_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own empty run store unless it sets AEVIZ_RUNS_DIR itself."""
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(autouse=True)
def no_kept_ray_workers():
    """Ray workers a test's jobs kept (aeviz.cluster.worker_pool) hold CPUs: let go before the next test."""
    yield
    pool = sys.modules.get("aeviz.cluster.worker_pool")
    if pool is not None:
        pool.WORKERS.let_go()


@pytest.fixture
def store_env(runs_dir, monkeypatch):
    """A RunStore over the requesting module's `runs_dir` fixture, which the app under test also uses."""
    from aeviz.runs.store import RunStore

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(runs_dir))
    return RunStore(runs_dir)


@pytest.fixture(scope="module")
def ray_instance():
    """A local Ray instance with two CPUs for one test module (skipped where Ray is not installed)."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture
def fresh_dataset_cache():
    """Datasets are loaded once per process: forget them around a test that points at other data."""
    from aeviz.data.datasets import clear_cache

    clear_cache()
    yield
    clear_cache()


@pytest.fixture(scope="session")
def digits():
    from aeviz.data.datasets import load_dataset

    return load_dataset("digits")


def real_data_dir() -> Path | None:
    value = os.environ.get("AEVIZ_DATA_DIR")
    return Path(value) if value and Path(value).is_dir() else None


requires_real_data = pytest.mark.skipif(real_data_dir() is None, reason="AEVIZ_DATA_DIR is not set")


def wait_until(condition, timeout: float = 60.0, what: str = "the condition", every: float = 0.05):
    """Poll `condition` until it returns something true (returned), failing after `timeout` seconds: tests wait
    on conditions with generous limits, never on fixed sleeps."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(every)


def manager_with_one_busy_slot(**settings):
    """A JobManager that trains one thing at once (no abandonment, no queue limit, unless `settings` say
    otherwise), its only slot held by another session's training: (manager, that hold; release it to go on)."""
    import threading

    from aeviz.jobs.manager import JobManager

    manager = JobManager(**{"max_running": 1, "ray_address": None, "abandon_seconds": None, "max_queued": None,
                            **settings})
    busy = manager.hold_slot("someone", "another training")
    assert busy.wait_turn(threading.Event())
    return manager, busy


def forgotten_by_presence(session: str, monkeypatch, timeout: float = 60.0) -> None:
    """`session` has a tab, the tab closes, and the presence sweep forgets the session (grace 0 s)."""
    from aeviz.jobs.presence import PRESENCE

    monkeypatch.setattr(PRESENCE, "grace_seconds", 0.0)
    PRESENCE.join(session, f"tab-of-{session}")
    wait_until(lambda: session in PRESENCE.sweep(lambda tab: tab != f"tab-of-{session}"), timeout=timeout,
               what="the presence sweep to forget the session")


def save_short_runs(root: Path, dataset: str, ks, data=None) -> Path:
    """Short plain runs of `dataset` (1 epoch, one hidden layer of 16 units), one per bottleneck size in `ks`,
    saved in the run folder `root` (`data`: the loaded dataset, else the trainer loads it); returns `root`."""
    from aeviz.runs.store import RunStore
    from aeviz.training.config import TrainConfig
    from aeviz.training.trainer import Trainer

    for k in ks:
        trainer = Trainer(TrainConfig(dataset=dataset, variant="plain", k=k, epochs=1, params={"hidden": [16]},
                                      device="cpu"), data, store=RunStore(root))
        for _ in trainer.run():
            pass
    return root


def digits_npz(labelled: bool = True) -> bytes:
    """The 8x8 digits as an upload would bring them: a compressed NPZ of uint8 images (0-255), with their
    labels when `labelled`."""
    import io

    import numpy as np
    from sklearn.datasets import load_digits

    bunch = load_digits()
    arrays = {"images": np.round(bunch.images * 255 / 16).astype(np.uint8)}
    if labelled:
        arrays["labels"] = bunch.target
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()
