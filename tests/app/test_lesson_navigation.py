"""A lesson survives the classroom (issue 31, item 10): the Lessons page lists every lesson, a lesson links
back to that list and on to the next one, and projector mode survives a reload (it lives in the tab's URL,
never in a shared link)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from aeviz.lessons import load_lessons
from aeviz.links import shareable
from tests.apptest import open_page
from tests.conftest import ROOT

TIMEOUT = 60


def query_value(at, name):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) and value else value


def test_the_list_a_lesson_back_to_the_list_and_on_to_the_next():
    lessons = load_lessons()
    at = open_page("lessons.py", TIMEOUT).run()
    assert not at.exception
    opens = [b for b in at.button if b.key and b.key.startswith("lesson_open.")]
    assert [b.key for b in opens] == [f"lesson_open.{lesson.id}" for lesson in lessons]
    at.button(key=f"lesson_open.{lessons[0].id}").click().run()
    assert at.session_state["lesson_choice"] == lessons[0].id and query_value(at, "lesson") == lessons[0].id
    assert any(s.value == lessons[0].title for s in at.subheader)
    next_button = at.button(key="lesson_next.top")
    assert next_button.label == f"Next: {lessons[1].title}"
    next_button.click().run()
    assert at.session_state["lesson_choice"] == lessons[1].id and query_value(at, "lesson") == lessons[1].id
    at.button(key="lesson_list.bottom").click().run()  # back to the list, from the foot of the lesson
    assert not at.exception
    assert at.button(key=f"lesson_open.{lessons[0].id}") and not at.subheader
    assert query_value(at, "lesson") is None
    # after the last lesson, the next is the first
    at.button(key=f"lesson_open.{lessons[-1].id}").click().run()
    assert at.button(key="lesson_next.top").label == f"First: {lessons[0].title}"


def test_a_lesson_link_still_opens_its_lesson():
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["lesson"] = "vae-kl"
    at.run()
    assert at.session_state["lesson_choice"] == "vae-kl"


def test_projector_mode_survives_a_reload_and_stays_out_of_shared_links(monkeypatch):
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    toggle = at.sidebar.toggle(key="projector_mode")
    assert toggle.value is False and query_value(at, "projector") is None
    toggle.set_value(True).run()
    assert query_value(at, "projector") == "1"
    assert "projector" not in shareable({"projector": "1", "lesson": "vae-kl"})

    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)  # a new session, same URL
    reloaded.query_params["projector"] = "1"
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.sidebar.toggle(key="projector_mode").value is True
    reloaded.sidebar.toggle(key="projector_mode").set_value(False).run()
    assert query_value(reloaded, "projector") is None


def test_lesson_progress_survives_a_reload():
    """Item 10: progress lived in Streamlit's session state, which a reload starts afresh."""
    from aeviz.jobs import sessions
    from aeviz.jobs.manager import default_manager
    from aeviz.lessons import get_lesson
    from aeviz.lessons.record import session_tag

    student = sessions.mint()
    config = get_lesson("bottleneck").config()
    config.tags, config.epochs = {"session": session_tag(student)}, 1
    manager = default_manager()
    job = manager.submit(config, owner=student)
    assert manager.wait(job.job_id, 300).status == "completed"
    at = open_page("lessons.py", TIMEOUT)
    at.query_params["session"], at.query_params["lesson"] = student, "bottleneck"
    at.run()
    at.button(key="lesson_check.bottleneck").click().run()
    assert not at.exception
    reloaded = open_page("lessons.py", TIMEOUT)  # a new Streamlit session, the same ?session= id
    reloaded.query_params["session"] = student
    reloaded.run()
    assert reloaded.selectbox(key="lesson_choice").options[1].startswith(("tried · ", "passed · "))
