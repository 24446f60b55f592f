"""Uploads converted in the background (#34): starting one returns at once, its progress is reported as the
images are converted, a session's second upload is refused while its first converts, and another session's
upload converts meanwhile. The converter is held on an Event, so each test decides when it may finish."""

from __future__ import annotations

import threading

import pytest

import aeviz.data.user as user_data
from aeviz.analysis.pca import FITS, fit_key
from aeviz.data.datasets import load_dataset
from aeviz.data.user import BadUserData, limits
from aeviz.data.user.owners import owners
from aeviz.data.user.store import list_infos
from aeviz.jobs.conversions import Conversions
from aeviz.training.tasks import COMPLETED, QUEUED, STOPPED
from tests.conftest import digits_npz, wait_until




class Held:
    """Holds the conversion of the file named `held` at its first progress report until `release` is set."""

    def __init__(self, held: str):
        self.held, self.reached, self.release = held, threading.Event(), threading.Event()

    def reader_for(self, real):
        def reader_for(suffix):
            reader = real(suffix)

            def read(data, name, size, progress):
                def told(done, total):
                    progress(done, total)
                    if name == self.held:
                        self.reached.set()
                        assert self.release.wait(60), "the test never released the conversion"
                return reader(data, name, size, told)
            return read
        return reader_for


@pytest.fixture
def held(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(limits, "CHUNK_BYTES", 100 * 8 * 8 * 9)  # 100 of the 8x8 digits a step: progress to see
    holder = Held("first.npz")
    monkeypatch.setattr(user_data, "reader_for", holder.reader_for(user_data.reader_for))
    yield holder
    holder.release.set()


def test_a_conversion_runs_in_the_background_and_reports_its_progress(held):
    FITS.clear()  # (another test may have fitted this dataset's PCA already)
    conversions = Conversions()
    conversion = conversions.start("owner-a", digits_npz(), "first.npz", 8)  # returns while it converts
    assert held.reached.wait(60)
    assert not conversion.done and conversions.running("owner-a") is conversion
    progress = conversion.progress
    assert progress.text == "first.npz: 100 of 1,797 images converted", progress
    assert 0.05 < progress.fraction < 0.2
    held.release.set()
    assert conversion.wait(60) and conversion.status == COMPLETED, conversion.message
    info = conversion.result
    assert info.train_count + info.test_count == 1797
    assert set(owners(info.name)) == {"owner-a"}  # the uploader's own
    assert conversion.progress.fraction == 1.0 and conversions.running("owner-a") is None
    # its PCA was fitted in the conversion, not left to the first page that compares with it
    dataset = load_dataset(info.name)
    assert fit_key(dataset, "fit") in FITS and fit_key(dataset, "curve") in FITS


def test_a_second_upload_of_a_session_is_refused_while_its_first_converts(held):
    conversions = Conversions()
    first = conversions.start("owner-a", digits_npz(), "first.npz", 8)
    assert held.reached.wait(60)
    with pytest.raises(BadUserData, match=r"^second\.npz was not started: first\.npz is still converting \(one "
                                          r"file at a time per session\)"):
        conversions.start("owner-a", digits_npz(False), "second.npz", 8)
    held.release.set()
    assert first.wait(60) and first.status == COMPLETED
    again = conversions.start("owner-a", digits_npz(False), "second.npz", 8)  # once it has finished: taken
    assert again.wait(60) and again.status == COMPLETED, again.message


def test_another_sessions_upload_is_not_blocked_by_the_first(held):
    conversions = Conversions()
    first = conversions.start("owner-a", digits_npz(), "first.npz", 8)
    assert held.reached.wait(60)
    other = conversions.start("owner-b", digits_npz(False), "other.npz", 8)
    assert other.wait(60) and other.status == COMPLETED, other.message  # while the first is still held
    assert not first.done
    assert set(owners(other.result.name)) == {"owner-b"}
    held.release.set()
    assert first.wait(60) and first.status == COMPLETED


def test_beyond_the_limit_a_conversion_waits_its_turn_in_the_background(held):
    conversions = Conversions(most_at_once=1)
    first = conversions.start("owner-a", digits_npz(), "first.npz", 8)
    assert held.reached.wait(60)
    other = conversions.start("owner-b", digits_npz(False), "other.npz", 8)  # returns: it waits in its thread
    wait_until(lambda: other.status == QUEUED, 30, "the second conversion waiting")
    assert other.progress.text == "converting other.npz: waiting for other uploads to finish converting"
    assert not other.wait(0.5)
    held.release.set()
    assert other.wait(60) and other.status == COMPLETED, other.message
    assert first.wait(60) and first.status == COMPLETED


def test_a_stopped_conversion_keeps_nothing(held):
    conversions = Conversions()
    conversion = conversions.start("owner-a", digits_npz(), "first.npz", 8)
    assert held.reached.wait(60)
    conversion.stop()
    held.release.set()
    assert conversion.wait(60) and conversion.status == STOPPED
    assert conversion.message == "stopped; nothing was kept" and conversion.result is None
    assert list_infos() == []


def test_a_bad_file_fails_with_its_one_line(held):
    conversion = Conversions().start("owner-a", b"not a zip", "broken.npz", 8)
    assert conversion.wait(60)
    assert conversion.message.startswith("broken.npz is not an .npz archive")
    assert list_infos() == []
