"""The AutoRec lesson can be done in the browser (issue 31, item 10): the Recommender page saves the model it
trains as a run of the session, and the lesson's check lists it as the student's own."""

from __future__ import annotations

import time

import pytest

from aeviz.runs.store import RunStore
from tests.apptest import open_page
from tests.conftest import real_data_dir

pytestmark = pytest.mark.skipif(real_data_dir() is None or not (real_data_dir() / "ml-100k").is_dir(),
                                reason="MovieLens 100K is not under AEVIZ_DATA_DIR")


def test_a_recommender_run_is_saved_and_is_the_students_own_in_the_autorec_lesson():
    from aeviz.jobs import sessions

    student = sessions.mint()
    at = open_page("recommender.py", 120)
    at.query_params["session"] = student
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.slider[0].set_value(1)  # epochs: one is enough to be saved (the lesson's goal needs about 60)
    [submit] = [b for b in at.button if "Train I-AutoRec" in b.label]
    submit.click().run()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        at.run()
        if any("Saved as run" in c.value for c in at.caption):
            break
        time.sleep(1)
    else:
        pytest.fail("the I-AutoRec run was not saved within 5 minutes")
    [info] = [i for i in RunStore().list() if i.config.get("variant") == "autorec"]
    assert info.config["tags"]["session"]

    lessons = open_page("lessons.py", 120)
    lessons.query_params["session"], lessons.query_params["lesson"] = student, "autorec"
    lessons.run()
    assert not lessons.exception
    picker = lessons.selectbox(key="lesson_run.autorec")
    assert picker.value == info.run_id and picker.options[0].startswith("yours")
