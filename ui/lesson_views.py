"""The Lessons page's parts: the lesson list with this session's progress, one-click setup, the check."""

from __future__ import annotations

import streamlit as st

from ui.common import job_manager, run_store, session_owner
from ui.theme import data_table

PROGRESS_KEY = "lesson_progress"  # {lesson id: {"passed": bool, "run_id": str, "value": float}}
CHOICE_KEY = "lesson_choice"      # the Lessons page's selector: a lesson id, or LIST_CHOICE
LIST_CHOICE = ""                  # the selector's first entry: the list of every lesson
CHECK_TASK_KEY = "lesson_check_task.{}"  # this session's background check of a lesson (ui.kept), by lesson id


def progress() -> dict:
    """This session's lesson progress, kept for the browser session (ui.kept): a reload, which starts a new
    Streamlit session with the same ?session= id, finds it again."""
    from ui.kept import keep, kept

    found = kept(PROGRESS_KEY)
    return found if found is not None else keep(PROGRESS_KEY, {})


def lesson_label(lesson) -> str:
    state = progress().get(lesson.id)
    mark = "passed · " if state and state["passed"] else ("tried · " if state else "")
    return f"{mark}{lesson.title}"


def progress_summary(lessons) -> None:
    done = sum(1 for lesson in lessons if progress().get(lesson.id, {}).get("passed"))
    st.progress(done / max(len(lessons), 1), text=f"This session: {done} of {len(lessons)} lessons passed")


def _choose(lesson_id: str) -> None:
    st.session_state[CHOICE_KEY] = lesson_id


def lesson_list(lessons) -> None:
    """Every lesson, in order, with this session's progress and a button that opens it."""
    for number, lesson in enumerate(lessons, 1):
        text, button = st.columns([5, 1], vertical_alignment="center")
        state = progress().get(lesson.id)
        mark = " · **passed**" if state and state["passed"] else (" · tried" if state else "")
        text.markdown(f"**{number}. {lesson.title}**{mark}  \n{', '.join(lesson.concepts)}")
        button.button("Open", key=f"lesson_open.{lesson.id}", on_click=_choose, args=(lesson.id,),
                      icon=":material/school:")


def lesson_nav(lessons, lesson, where: str) -> None:
    """Back to the list of lessons, and on to the next lesson (or back to the first after the last)."""
    ids = [item.id for item in lessons]
    following = lessons[(ids.index(lesson.id) + 1) % len(lessons)]
    back, forward = st.columns(2)
    back.button("All lessons", key=f"lesson_list.{where}", on_click=_choose, args=(LIST_CHOICE,),
                icon=":material/arrow_back:")
    words = "Next" if ids.index(lesson.id) + 1 < len(lessons) else "First"
    forward.button(f"{words}: {following.title}", key=f"lesson_next.{where}", on_click=_choose,
                   args=(following.id,), icon=":material/arrow_forward:", help=f"{words} lesson: {following.title}")


def lesson_from_link(query: dict, lessons: dict) -> list[str]:
    """The Lessons page's link (?lesson=ID): that lesson chosen, or the problem (the list is shown)."""
    from aeviz.links import link_choice

    chosen, problems = link_choice(query, "lesson", lessons, f"a lesson here (one of {', '.join(lessons)})",
                                   "it was not opened")
    if chosen is not None:
        st.session_state["lesson_choice"] = chosen
    return problems


def lesson_sidebar_link() -> None:
    """On any other page opened from a lesson (its URL names it: ?lesson=ID), a way back to that lesson; a
    lesson that is not one here is named in the page's warning."""
    from aeviz.lessons import load_lessons
    from aeviz.links import link_choice
    from ui.links import restore
    from ui.runs import page_link

    lessons = {lesson.id: lesson for lesson in load_lessons()}
    restore("lesson_link", lambda query: link_choice(query, "lesson", lessons, "a lesson here (one of "
                                                     f"{', '.join(lessons)})", "no link back to a lesson")[1])
    lesson = lessons.get(st.query_params.get("lesson"))
    if lesson is None:
        return
    with st.sidebar:
        page_link("lessons.py", f"Back to the lesson: {lesson.title}", ":material/school:",
                  query_params={"lesson": lesson.id})


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
                  ":material/open_in_new:", query_params={"runs": runs, "dataset": lesson.dataset,
                                                          "lesson": lesson.id})
    elif not trainable_here:
        title = lesson.page.removesuffix(".py").replace("_", " ").capitalize()
        page_link(lesson.page, f"Set up: train it (k = {config.k}) on the {title} page", ":material/model_training:",
                  query_params={"lesson": lesson.id})
        st.caption(f"The run that page saves is yours to check here. A teacher can also prepare it ahead of "
                   f"class: `python -m aeviz lessons prepare {lesson.id}`")
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
    if todo and st.button(f"Prepare: train {len(todo)} run{'s' if len(todo) > 1 else ''} on this server", key=f"lesson_prepare.{lesson.id}",
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


def own_run_ids(infos=()) -> set:
    """Ids of the runs this session trained itself: its finished jobs, and among `infos` (saved runs) those
    tagged with its session (a page that trains outside the job manager, the Recommender, tags them so),
    less any a lesson's preparation trained (aeviz.run_origin), which are the teacher's runs for everyone."""
    from aeviz.lessons.record import session_tag
    from aeviz.run_origin import SESSION, is_prepared

    owner = session_owner()
    mine = {v.run_id for v in job_manager().jobs(owner=owner) if v.run_id and not is_prepared(v.config.tags)}
    tag = session_tag(owner)
    return mine | {i.run_id for i in infos if (i.config.get("tags") or {}).get(SESSION) == tag
                   and not is_prepared(i.config.get("tags"))}


def candidate_runs(lesson) -> tuple[list, set]:
    """Saved runs the lesson can be checked on (its datasets, variant and k), this session's first, and the
    ids of this session's own runs (never a prepared one)."""
    from ui.runs import saved_runs

    config = lesson.config()
    infos = [i for dataset in lesson.datasets for i in saved_runs(dataset, (config.variant,))
             if i.config.get("k") == config.k]
    mine = own_run_ids(infos)
    return sorted(infos, key=lambda i: (i.run_id not in mine, -i.created)), mine


def run_choice_label(info, mine: set) -> str:
    """'yours · …' for this session's own runs; else where the run came from ('lesson vae-kl (prepared) · …')."""
    import time

    from aeviz.run_origin import origin_label

    whose = "yours" if info.run_id in mine else origin_label(info.config.get("tags"))
    return f"{whose} · {info.label} · trained {time.strftime('%H:%M', time.localtime(info.created))}"


@st.cache_data(show_spinner="Measuring the run…", max_entries=256)
def cached_check(lesson_id: str, run_id: str, created: float) -> dict:
    """A check's result as JSON, cached per run (a check that trains runs in the background instead:
    background_check)."""
    from aeviz.lessons import get_lesson
    from aeviz.lessons.check import check_run

    return check_run(get_lesson(lesson_id), run_id, run_store()).to_json()


def check_panel(lesson) -> None:
    """Pick a run, check it, show passed or not with the numbers; the session's progress is kept. The run
    chosen at first is the newest this session trained itself; with none, nothing is chosen (a run prepared
    for the lesson, or another session's, can be picked and checked, but passes only count on your own)."""
    from aeviz.errors import AevizError
    from aeviz.lessons.check import check_trains

    infos, mine = candidate_runs(lesson)
    if not infos:
        st.caption(f"No saved {lesson.config().variant} run with k = {lesson.config().k} yet: set it up above.")
        return
    run_id = run_to_check(lesson, infos, mine)
    if run_id is None:
        return
    if check_trains(lesson):
        background_check(lesson, run_id, run_id in mine)
        return
    if not st.button(check_label(run_id in mine), type="primary", key=f"lesson_check.{lesson.id}",
                     icon=":material/task_alt:"):
        show_recorded(lesson, run_id)
        return
    try:
        result = cached_check(lesson.id, run_id, {i.run_id: i for i in infos}[run_id].created)
    except AevizError as exc:
        st.error(str(exc))
        return
    if run_id in mine:
        record_result(progress(), session_owner(), run_id, result)
    show_check(result, run_id in mine)


def run_to_check(lesson, infos, mine: set) -> str | None:
    """The run picker: this session's own runs first, its first own run chosen as soon as it is saved."""
    by_id = {i.run_id: i for i in infos}
    key = f"lesson_run.{lesson.id}"
    if st.session_state.get(key) is not None and st.session_state[key] not in by_id:
        del st.session_state[key]
    own = [i.run_id for i in infos if i.run_id in mine]
    if own and key in st.session_state and st.session_state[key] is None:
        st.session_state[key] = own[0]  # the student's first own run is chosen as soon as it is saved
    if not own:
        st.caption("You have not trained a run for this lesson in this session yet: train one with the lesson's "
                   "settings (Set up, above). The runs listed are others' (prepared for the lesson, or other "
                   "sessions'): you can check one to compare, but only your own run counts as passed.")
    return st.selectbox("Run to check", list(by_id), index=0 if own else None, key=key,
                        placeholder="Choose a run (none of yours yet)",
                        format_func=lambda r: run_choice_label(by_id[r], mine))


def check_label(own: bool) -> str:
    return "Check my run" if own else "Check this run"


def background_check(lesson, run_id: str, own: bool) -> None:
    """A check that trains a model (the anomaly lesson's) never runs in the page's script run: the button starts
    it as a background task that waits for a training slot like any training (or follows the check of this
    run already going), the task panel shows its progress, and its result shows here once it ends (a check of
    the session's own run is recorded as it ends, in the check's thread: a reload shows it)."""
    from functools import partial

    from ui.kept import kept
    from ui.task_panel import task_section

    key, owner = CHECK_TASK_KEY.format(lesson.id), session_owner()
    task = kept(key)
    if st.button(check_label(own), type="primary", key=f"lesson_check.{lesson.id}", icon=":material/task_alt:",
                 disabled=task is not None and task.running and task.followed_by(owner),
                 help="This check trains a fresh model like your run, for about as long as your run trained. It "
                      "runs in the background and waits for a free training slot, like any training; its result "
                      "shows here when it is done."):
        start_background_check(key, lesson, run_id, own)
        st.rerun()  # drawn again with the check going: its panel, and the button disabled meanwhile
    task = task_section(key, partial(note_left, owner), stop_label="Stop the check",
                        stop_help="Stops the check (unless another session waits for the same check: it goes on "
                                  "for them). Nothing is recorded.", on_stop=lambda t: t.leave(owner))
    if task is not None and task.run_id == run_id and not task.running and task.result is not None:
        show_check(task.result.to_json(), own)
    elif task is None or not task.running:
        show_recorded(lesson, run_id)


def start_background_check(key: str, lesson, run_id: str, own: bool):
    """Start (or follow) the check of `run_id` as this session's task `key`; a run of its own is recorded
    in this session's progress and the class's log when the check ends."""
    from aeviz.lessons.check_task import CHECKS
    from ui.kept import keep

    owner, record = session_owner(), progress()
    gate_for = job_manager().slot_gate_for(owner, f"lesson {lesson.id}: checking run {run_id}")
    task = CHECKS.start(lesson, run_id, owner, gate_for=gate_for, store=run_store())

    def record_if_followed(result) -> None:  # not if the session stopped waiting (it went on for another's)
        if task.followed_by(owner):
            record_result(record, owner, run_id, result.to_json())

    if own:
        task.when_checked(record_if_followed)
    return keep(key, task)


def note_left(owner: str, task) -> None:
    if task.running and not task.followed_by(owner):
        st.caption("You stopped waiting for this check; it goes on for another session that checks the same run.")


def record_result(record: dict, owner: str, run_id: str, result: dict) -> None:
    """Keep a check of the session's own run: in its progress (`record`: progress(), taken in the session's
    script run, since this may run in a check's thread) and in the class's log."""
    from aeviz.lessons.check import CheckResult
    from aeviz.lessons.record import record_check, session_tag

    record[result["lesson_id"]] = {"passed": result["passed"], "run_id": run_id, "result": result}
    record_check(CheckResult(**result), session_tag(owner))


def show_recorded(lesson, run_id: str) -> None:
    """The session's last check of this lesson, if it was of `run_id`."""
    state = progress().get(lesson.id)
    if state and state.get("run_id") == run_id:
        show_result(state["result"])


def show_check(result: dict, own: bool) -> None:
    if not own:  # shown, never counted: a pass is earned on a run of your own
        st.info("This run is not one you trained in this session, so the lesson is not marked as passed by it.",
                icon=":material/info:")
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
