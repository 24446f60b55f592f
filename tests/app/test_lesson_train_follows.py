"""The Train page shows the newest run of the session (issue 31, item 1): with a third run in one tab, the
"Show run" selector used to keep its earlier choice, so the page kept drawing an older run while the new
one trained. A choice made in the selector still holds until the next run is started."""

from __future__ import annotations

from aeviz.jobs.manager import default_manager
from tests.apptest import open_page

TIMEOUT = 90


def shown(at) -> str:
    return at.session_state["train_job"]


def test_each_new_run_is_the_one_shown_and_a_choice_in_the_selector_holds_until_the_next():
    manager = default_manager()
    at = open_page("train.py", TIMEOUT).run()
    at.selectbox(key="train_variant").set_value("plain")
    at.text_input(key="train.plain.hidden").set_value("16")
    at.number_input(key="train_epochs").set_value(0.2)
    at.run()
    started = []
    for number in range(4):
        at.button(key="train_start").click().run()
        assert not at.exception, [e.value for e in at.exception]
        job_id = shown(at)
        assert job_id not in started, f"run {number + 1} did not become the shown run"
        started.append(job_id)
        assert manager.wait(job_id, 120).status == "completed"
        at.run()
        assert shown(at) == job_id
        if number >= 1:  # the selector appears with the second run, and names the newest
            assert at.selectbox(key="train_show").value == job_id
            # labels that never go stale in the browser: no status in them (it kept showing "running")
            assert not any("running" in o or "completed" in o for o in at.selectbox(key="train_show").options)
        assert any(s.value.startswith("Finished") for s in at.success)
    # choosing an older run in the selector shows it (and keeps showing it on reruns)
    at.selectbox(key="train_show").set_value(started[0]).run()
    assert shown(at) == started[0]
    at.run()
    assert shown(at) == started[0] and at.selectbox(key="train_show").value == started[0]
    # the next run is shown again
    at.button(key="train_start").click().run()
    assert shown(at) not in started and at.selectbox(key="train_show").value == shown(at)
    manager.wait(shown(at), 120)
