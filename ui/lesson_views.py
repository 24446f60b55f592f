"""The Lessons page's parts: the lesson list with this session's progress, one-click setup, the check."""

from __future__ import annotations

import streamlit as st

from ui.common import job_manager, run_store, session_owner
from ui.theme import data_table

PROGRESS_KEY = "lesson_progress"  # {lesson id: {"passed": bool, "run_id": str, "value": float}}


def progress() -> dict:
    return st.session_state.setdefault(PROGRESS_KEY, {})


def lesson_label(lesson) -> str:
    state = progress().get(lesson.id)
    mark = "passed · " if state and state["passed"] else ("tried · " if state else "")
    return f"{mark}{lesson.title}"


def progress_summary(lessons) -> None:
    done = sum(1 for lesson in lessons if progress().get(lesson.id, {}).get("passed"))
    st.progress(done / max(len(lessons), 1), text=f"This session: {done} of {len(lessons)} lessons passed")


def setup_links(lesson) -> None:
    """Links that open the pages the lesson needs, prepared: the Train page with its settings (it offers
    the run already trained here, if any), and the lesson's own page on the prepared run."""
    from aeviz.links import config_query
    from aeviz.jobs.reuse import find_reusable
    from ui.runs import page_link

    config = lesson.config()
    trainable_here = lesson.dataset in _image_datasets()
    if trainable_here:
        page_link("train.py", "Set up: the Train page with this lesson's settings", ":material/model_training:",
                  query_params=config_query(config, lesson=lesson.id))
    found = [find_reusable(run_store(), c) for c in lesson.configs()]
    if all(found) and lesson.page != "train.py":  # the Train page offers the prepared run itself
        runs = ",".join(info.run_id for info in found)
        title = lesson.page.removesuffix(".py").replace("_", " ").capitalize()
        page_link(lesson.page, f"Open the {title} page on the prepared run{'s' if len(found) > 1 else ''}",
                  ":material/open_in_new:", query_params={"runs": runs, "dataset": lesson.dataset})
    elif not trainable_here:
        st.caption(f"Prepare it ahead of class: `python -m aeviz lessons prepare {lesson.id}`")
    missing = [c for c, info in zip(lesson.configs(), found) if info is None]
    if missing and trainable_here:
        prepare_button(lesson, missing)


def prepare_button(lesson, missing) -> None:
    """Queue the lesson's runs not yet trained here (the teacher's 'prepare'; reuse makes it cheap)."""
    from aeviz.training.fingerprint import config_fingerprint

    manager, owner = job_manager(), session_owner()
    busy = {config_fingerprint(v.config) for v in manager.jobs() if v.active}
    waiting = [c for c in missing if config_fingerprint(c) in busy]
    if waiting:
        st.info(f"{len(waiting)} of this lesson's runs are training now; they appear here when done.",
                icon=":material/hourglass_top:")
    todo = [c for c in missing if config_fingerprint(c) not in busy]
    roles = ["the lesson's run", "the run it compares with"]
    if todo and st.button(f"Prepare: train {len(todo)} run(s) on this server", key=f"lesson_prepare.{lesson.id}",
                          icon=":material/play_arrow:",
                          help="Trains " + " and ".join(roles[:len(lesson.configs())]) + " once, for everyone."):
        from aeviz.errors import QueueFull

        try:
            for config in todo:
                manager.submit(config, owner=owner)
        except QueueFull as exc:  # this session's queue is full: said, not raised
            st.error(str(exc))
            return
        st.rerun()


def _image_datasets() -> tuple[str, ...]:
    from aeviz.data.types import DATASET_NAMES

    return tuple(DATASET_NAMES)


def candidate_runs(lesson) -> tuple[list, set]:
    """Saved runs the lesson can be checked on (its datasets, variant and k), this session's first, and the
    ids of this session's runs."""
    from ui.runs import saved_runs

    config = lesson.config()
    mine = {v.run_id for v in job_manager().jobs(owner=session_owner()) if v.run_id}
    infos = [i for dataset in lesson.datasets for i in saved_runs(dataset, (config.variant,))
             if i.config.get("k") == config.k]
    return sorted(infos, key=lambda i: (i.run_id not in mine, -i.created)), mine


@st.cache_data(show_spinner="Measuring the run…", max_entries=256)
def cached_check(lesson_id: str, run_id: str, created: float) -> dict:
    """A check's result as JSON (cached per run: the anomaly lesson's check trains a model)."""
    from aeviz.lessons import get_lesson
    from aeviz.lessons.check import check_run

    return check_run(get_lesson(lesson_id), run_id, run_store()).to_json()


def check_panel(lesson) -> None:
    """Pick a run, check it, show passed or not with the numbers; the session's progress is kept."""
    import time

    from aeviz.errors import AevizError
    from aeviz.lessons.check import CheckResult
    from aeviz.lessons.record import record_check, session_tag

    infos, mine = candidate_runs(lesson)
    if not infos:
        st.caption(f"No saved {lesson.config().variant} run with k = {lesson.config().k} yet: set it up above.")
        return
    by_id = {i.run_id: i for i in infos}
    run_id = st.selectbox("Run to check", list(by_id), key=f"lesson_run.{lesson.id}",
                          format_func=lambda r: ("yours · " if r in mine else "")
                          + f"{by_id[r].label} · trained {time.strftime('%H:%M', time.localtime(by_id[r].created))}")
    if not st.button("Check my run", type="primary", key=f"lesson_check.{lesson.id}", icon=":material/task_alt:"):
        state = progress().get(lesson.id)
        if state and state.get("run_id") == run_id:
            show_result(state["result"])
        return
    try:
        result = cached_check(lesson.id, run_id, by_id[run_id].created)
    except AevizError as exc:
        st.error(str(exc))
        return
    progress()[lesson.id] = {"passed": result["passed"], "run_id": run_id, "result": result}
    record_check(CheckResult(**result), session_tag(session_owner()))
    show_result(result)


def show_result(result: dict) -> None:
    from aeviz.lessons.check import CheckResult

    check = CheckResult(**result)
    (st.success if check.passed else st.warning)(check.summary(), icon=":material/check_circle:" if check.passed
                                                 else ":material/pending:")
    rows = [{"number": name, "value": value} for name, value in check.numbers.items()]
    rows += [{"number": "also needed: " + c["text"], "value": "met" if c["met"] else "not met"}
             for c in check.conditions]
    if rows:
        data_table(rows, hide_index=True, width="stretch")
    if check.note:
        st.caption(check.note)
