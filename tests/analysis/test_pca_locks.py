"""A PCA of one dataset never waits for another's (issue 33, item 5): `dataset_pca` held one process-wide lock
while fitting, so a 64x64 dataset's ~25 s fit made every other session needing a PCA, of any dataset, wait.
Now each dataset has its own lock, and sessions asking for the same dataset's PCA share one fit."""

from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace

import numpy as np

from aeviz.analysis import pca
from tests.conftest import wait_until

WAIT = 30.0  # seconds: a bound on waits that end in well under a second when the code is right


def fake_dataset(seed: int) -> SimpleNamespace:
    """A small dataset with a name no other test uses (PCAs are cached per process, by name and source)."""
    rng = np.random.default_rng(seed)
    return SimpleNamespace(name=f"fake-{uuid.uuid4().hex}", source="made by the test",
                           train_images=rng.random((200, 16), dtype=np.float32),
                           test_images=rng.random((50, 16), dtype=np.float32))


def gated_fit(monkeypatch, blocked: SimpleNamespace):
    """Patch fit_pca: a fit of `blocked`'s images waits for the returned `release` event (after setting
    `entered`); every call is counted in `calls`."""
    real = pca.fit_pca
    entered, release, calls, lock = threading.Event(), threading.Event(), [], threading.Lock()

    def fit(images, *args, **kwargs):
        with lock:
            calls.append(images)
        if images is blocked.train_images:
            entered.set()
            assert release.wait(WAIT), "the test never released the blocked fit"
        return real(images, *args, **kwargs)

    monkeypatch.setattr(pca, "fit_pca", fit)
    return entered, release, calls


def in_thread(function, *args) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(function(*args)), daemon=True)
    thread.start()
    return thread, out


def test_a_pca_of_one_dataset_returns_while_another_dataset_is_still_fitting(monkeypatch):
    a, b = fake_dataset(0), fake_dataset(1)
    entered, release, _ = gated_fit(monkeypatch, a)
    fitting_a, got_a = in_thread(pca.dataset_pca, a)
    try:
        wait_until(entered.is_set, WAIT, "dataset A's fit to start")
        fitting_b, got_b = in_thread(pca.pca_test_mse_curve, b)  # the fit of B, and its curve
        fitting_b.join(WAIT)
        assert got_b, "dataset B's PCA waited for dataset A's fit"
        assert not got_a and fitting_a.is_alive()  # A is still fitting: B did not wait for it to end
        assert got_b[0].shape == (17,) and got_b[0][0] > got_b[0][-1]
    finally:
        release.set()
    fitting_a.join(WAIT)
    assert got_a and got_a[0].components.shape == (16, 16)


def test_four_sessions_asking_for_one_dataset_fit_it_once(monkeypatch):
    a = fake_dataset(2)
    entered, release, calls = gated_fit(monkeypatch, a)
    start = threading.Barrier(4)

    def ask():
        start.wait(WAIT)
        return pca.dataset_pca(a)

    threads = [in_thread(ask) for _ in range(4)]
    try:
        wait_until(entered.is_set, WAIT, "the first fit to start")
    finally:
        release.set()
    for thread, _ in threads:
        thread.join(WAIT)
    fits = [out[0] for _, out in threads if out]
    assert len(fits) == 4 and all(fit is fits[0] for fit in fits)
    assert len(calls) == 1
    assert pca.pca_test_mse_curve(a) is pca.pca_test_mse_curve(a)  # the curve too is computed once
