"""No heavy work in a page's script run (issue 33, item 5): "Check my run" on the anomaly lesson trained a copy
of the run inside the page's script run (20 s for a 20 s run; up to an hour possible), holding no training slot.
Now the button starts the check as a background task that takes a training slot: the script run returns while
the check trains, the task panel shows it, and its result shows (and is recorded) when it ends."""

from __future__ import annotations

from aeviz.jobs import sessions
from aeviz.jobs.manager import default_manager
from aeviz.lessons.check_task import CHECKS
from aeviz.lessons.record import read_checks, session_tag
from aeviz.runs.store import RunStore
from tests.apptest import open_page
from tests.conftest import wait_until
from tests.lessons.test_check_task import LESSON, WAIT, anomaly_run, gate  # noqa: F401  (gate: a fixture)

TIMEOUT = 60  # a script run that trained would block on the held training: AppTest fails it after this


def test_check_my_run_on_the_anomaly_lesson_trains_in_the_background_in_a_training_slot(gate, digits):
    manager = default_manager()
    limit = manager.max_running
    manager.set_limit(1)
    student = sessions.mint()
    run_id = anomaly_run(RunStore(), digits, {"session": session_tag(student)})
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["session"], at.query_params["lesson"] = student, LESSON
    try:
        at.run()
        assert at.selectbox(key=f"lesson_run.{LESSON}").value == run_id  # the student's own run
        held = manager.held_slots()
        at.button(key=f"lesson_check.{LESSON}").click().run()  # returns while the check's training is held
        assert not at.exception
        wait_until(gate.entered.is_set, WAIT, "the check to start training")
        task = CHECKS.get(LESSON, run_id)
        assert task.running and not gate.release.is_set()
        assert at.button(key=f"lesson_check.{LESSON}").disabled  # one check at a time
        assert any(f"checking run {run_id}" in bar.proto.text for bar in at.get("progress"))
        assert not at.success and not at.warning  # no result yet

        assert manager.held_slots() == held + 1  # the check holds a training slot...
        other = manager.hold_slot("another session", "another training")
        assert manager.position(other.job_id) == 1  # ...so the next training waits for it
        gate.release.set()
        assert task.wait(WAIT) and task.status == "completed", task.message
        assert other.wait_turn(task.stop_event)  # the slot was given back
        manager.release(other)

        at.run()  # the task panel reruns the page once the task has ended
        assert not at.exception
        shown = [*at.success, *at.warning]
        assert any("anomaly_auc_margin_over_pca" in element.value for element in shown)
        [label] = [o for o in at.selectbox(key="lesson_choice").options if o.endswith("by reconstruction error")]
        assert label.startswith(("tried · ", "passed · "))  # the session's progress
        assert [c["run_id"] for c in read_checks() if c["lesson"] == LESSON] == [run_id]  # the class's log
    finally:
        manager.set_limit(limit)
        gate.release.set()

    reloaded = open_page("lessons.py", TIMEOUT)  # a reload: a new Streamlit session with the same ?session=
    reloaded.query_params["session"], reloaded.query_params["lesson"] = student, LESSON
    reloaded.run()
    assert not reloaded.exception
    assert any("anomaly_auc_margin_over_pca" in element.value for element in [*reloaded.success, *reloaded.warning])
