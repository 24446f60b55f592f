"""The Train page and the shared queue: a session pressing Train on a configuration another session is
training follows that run live (one training), and may leave it without stopping it; a session whose queue
is full is told so on the button and below it."""

import time

from streamlit.testing.v1 import AppTest

from aeviz.jobs.manager import default_manager
from aeviz.training.config import TrainConfig
from tests.conftest import ROOT

TIMEOUT = 90


def train_page(owner: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    at.session_state["aeviz_session"] = owner
    return at.run()


def long_settings(at: AppTest, seed: int = 0) -> AppTest:
    at.number_input(key="train_epochs").set_value(1000.0)
    at.number_input(key="train_seed").set_value(seed)
    return at.run()


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


def test_a_second_session_follows_the_run_live_and_leaves_it_running(digits):
    manager = default_manager()
    ann = long_settings(train_page("follow-ann"), seed=11)
    assert ann.button(key="train_start").label == "Train"
    ann.button(key="train_start").click().run()
    assert not ann.exception
    [job] = manager.jobs(owner="follow-ann")
    again = ann.button(key="train_start")  # the same settings again: no second run of its own either
    assert again.label == "Training these settings" and again.disabled
    try:
        bob = long_settings(train_page("follow-bob"), seed=11)
        assert not bob.exception
        assert bob.button(key="train_start").label == "Follow this run"
        assert "no second training" in texts(bob.caption)
        bob.button(key="train_start").click().run()
        assert not bob.exception
        assert [v.job_id for v in manager.jobs(owner="follow-bob")] == [job.job_id]  # no second job
        assert len([v for v in manager.jobs() if v.active and v.config.seed == 11]) == 1
        assert bob.session_state["train_job"] == job.job_id  # its page shows that run live
        assert "1 other session follows this run" in texts(bob.caption)
        leave = bob.button(key=f"stop.{job.job_id}")
        assert leave.label == "Leave"
        leave.click().run()
        assert not bob.exception
        assert manager.jobs(owner="follow-bob") == []
        assert manager.view(job.job_id).active  # it goes on for ann
    finally:
        manager.stop(job.job_id)
        manager.wait(job.job_id, 60)


def test_a_session_with_a_full_queue_is_told_on_the_button(digits):
    manager = default_manager()
    limit, manager.max_queued = manager.max_queued, 2
    filler = [manager.submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=10_000.0, seed=100 + i),
                             owner="queue-filler") for i in range(manager.max_running)]
    hogged = []
    try:
        hogged = [manager.submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=1.0, seed=200 + i),
                                 owner="queue-hog") for i in range(2)]
        assert all(view.status == "queued" for view in hogged)
        at = long_settings(train_page("queue-hog"), seed=300)
        assert not at.exception
        button = at.button(key="train_start")
        assert button.label == "Queue full" and button.disabled
        assert "the most one session may queue" in texts(at.caption)
        newcomer = long_settings(train_page("queue-newcomer"), seed=301)
        assert newcomer.button(key="train_start").label == "Train" and not newcomer.button(key="train_start").disabled
    finally:
        manager.max_queued = limit
        for view in hogged + filler:
            manager.stop(view.job_id)
        deadline = time.monotonic() + 60
        while any(manager.view(v.job_id).active for v in hogged + filler) and time.monotonic() < deadline:
            time.sleep(0.1)
