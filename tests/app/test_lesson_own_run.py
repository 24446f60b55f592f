"""A student's own run is never a run the session did not train (issue 31, item 5): "Prepare" trained the
lesson's run under the student's session, and the check then chose it as "yours", so a student who had
trained nothing saw a pass. Now a prepared run is labelled as prepared, nothing is chosen until the session
has a run of its own, and a check of someone else's run is shown but never counted."""

from __future__ import annotations

from aeviz.jobs.manager import default_manager
from aeviz.lessons import get_lesson
from aeviz.lessons.record import session_tag
from aeviz.run_origin import is_prepared, origin_label
from tests.apptest import open_page

TIMEOUT = 120
LESSON = "bottleneck"


def test_prepare_then_check_never_passes_a_student_who_trained_nothing():
    manager = default_manager()
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["lesson"] = LESSON
    at.run()
    assert not at.exception
    [prepare] = [b for b in at.button if b.key == f"lesson_prepare.{LESSON}"]
    prepare.click().run()
    owner = at.session_state["aeviz_session"]
    jobs = manager.jobs(owner=owner)
    assert jobs and all(is_prepared(v.config.tags) for v in jobs)
    for view in jobs:
        assert manager.wait(view.job_id, 300).status == "completed"
    at.run()
    assert not at.exception
    picker = at.selectbox(key=f"lesson_run.{LESSON}")
    assert picker.value is None  # the prepared run is listed, not chosen for the student
    assert all(not option.startswith("yours") for option in picker.options)
    assert any(option.startswith(f"lesson {LESSON} (prepared)") for option in picker.options)
    assert any("only your own run counts as passed" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == f"lesson_check.{LESSON}"]

    # checking the prepared run on purpose shows its numbers but does not mark the lesson passed
    prepared_run = manager.view(jobs[0].job_id).run_id
    picker.set_value(prepared_run).run()
    at.button(key=f"lesson_check.{LESSON}").click().run()
    assert not at.exception
    assert any("not one you trained" in i.value for i in at.info)
    at.run()
    assert not at.selectbox(key="lesson_choice").options[1].startswith(("passed", "tried"))

    # the student's own run (as the Train page submits it) is chosen at once and labelled "yours"
    config = get_lesson(LESSON).config()
    config.tags = {"session": session_tag(owner)}
    config.epochs = 1
    own = manager.submit(config, owner=owner)
    own_run = manager.wait(own.job_id, 300).run_id
    at.selectbox(key=f"lesson_run.{LESSON}").set_value(None).run()
    picker = at.selectbox(key=f"lesson_run.{LESSON}")
    assert picker.value == own_run and picker.options[0].startswith("yours")
    at.button(key=f"lesson_check.{LESSON}").click().run()
    at.run()
    assert at.selectbox(key="lesson_choice").options[1].startswith(("passed", "tried"))


def test_every_origin_has_its_own_words():
    lesson = get_lesson("denoising")
    assert origin_label(lesson.config().tags) == "lesson denoising (prepared)"
    assert origin_label(lesson.reference_config().tags) == "lesson denoising (reference, prepared)"
    assert origin_label({"session": "3fa2b9"}) == "3fa2b9"
    assert origin_label({"sweep": "1a2b3c4d5e6f", "sweep_point": 3}) == "sweep 1a2b3c4d"
    assert origin_label({}) == "command line"


def test_the_class_view_names_prepared_and_sweep_runs_by_their_origin(tmp_path, monkeypatch, digits):
    """Item 14: the class view credited runs made by `lessons prepare` and by a sweep to "cli"."""
    from aeviz.training.config import TrainConfig
    from aeviz.runs.store import RunStore
    from aeviz.training.trainer import Trainer

    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    prepared = get_lesson(LESSON).config()
    prepared.epochs = 40  # long enough to beat PCA at k = 8 on the digits
    for config in (prepared, TrainConfig(dataset="digits", variant="plain", k=8, epochs=40, seed=1,
                                         tags={"sweep": "abcdef0123456789"})):
        for _ in Trainer(config, digits, store=store).run():
            pass
    at = open_page("class_view.py", TIMEOUT).run()
    assert not at.exception
    tables = [str(t.value) for t in [*at.table, *at.dataframe]]
    who = " ".join(tables)
    assert "lesson bottleneck (prepared)" in who and "sweep abcdef01" in who and "cli" not in who
