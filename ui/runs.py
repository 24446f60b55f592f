"""Picking saved runs (any page) and listing this session's training jobs."""

from __future__ import annotations

import streamlit as st

from aeviz.links import link_runs

from ui.common import cached_run, job_manager, run_store, session_owner, set_current_dataset
from ui.health import show_run_health
from ui.interrupted import interrupted_runs_note
from ui.links import publish, restore
from ui.page_registry import page_entry


def saved_runs(dataset: str | None = None, variants: tuple[str, ...] | None = None):
    """Undamaged saved runs, newest first, optionally of one dataset and some variants."""
    infos = [i for i in run_store().list() if not i.damaged]
    if dataset:
        infos = [i for i in infos if i.config.get("dataset") == dataset]
    if variants:
        infos = [i for i in infos if i.config.get("variant") in variants]
    return infos


def damaged_runs_note(dataset: str | None = None) -> list:
    """A warning naming the damaged saved runs (of `dataset`, or whose dataset is unreadable), which the
    run lists leave out; returns them."""
    damaged = [i for i in run_store().list()
               if i.damaged and (not dataset or i.config.get("dataset") in (None, dataset))]
    if damaged:
        st.warning(f"{len(damaged)} saved run(s) are damaged and left out of the lists (the others load): "
                   + "; ".join(f"{i.run_id}: {i.problem}" for i in damaged[:5])
                   + (" …" if len(damaged) > 5 else ""))
    return damaged


def run_label(info) -> str:
    mse = info.metrics.get("test_mse")
    return info.label + (f" · test MSE {mse:.4f}" if mse is not None else "")


# ---------------------------------------------------------------------------- handing a run to another page
HANDOFF_KEY = "run_handoff"


def open_run_on(page_file: str, run_id: str, dataset: str) -> None:
    """Switch to app_pages/<page_file> with `dataset` in use and `run_id` chosen in that page's first run
    picker. Pages hand runs over this way, never by writing another page's widget keys."""
    set_current_dataset(dataset)
    st.session_state[HANDOFF_KEY] = run_id
    try:
        st.switch_page(f"app_pages/{page_file}")
    except st.errors.StreamlitAPIException:  # the page is not in the navigation (a page run alone)
        st.info(f"Open the {page_entry(page_file).title} page: this run will be chosen there.")


def _take_handoff(key: str, by_id: dict, multiple: bool) -> None:
    """Choose a run handed over by open_run_on in this picker (the first one the page draws)."""
    run_id = st.session_state.pop(HANDOFF_KEY, None)
    if run_id in by_id:
        st.session_state[key] = [run_id] if multiple else run_id


def pick_runs(dataset: str, key: str, max_runs: int = 4, label: str = "Runs", variants=None,
              url_param: str | None = "runs", prefer=()) -> list:
    """A multiselect of saved runs on `dataset`; returns RunInfo objects. The choice lives in the URL
    (`?runs=ID,ID`) so a link opens the page on the same runs. Preselected: the newest run passing the first
    test of `prefer` any run passes (as pick_run's), else the newest."""
    infos = saved_runs(dataset, variants)
    damaged_runs_note(dataset)
    interrupted_runs_note(dataset)
    by_id = {i.run_id: i for i in infos}
    if url_param:  # before the early return: a link's runs are named even when there is none to choose
        restore(key, lambda query: _runs_from_link(query, url_param, by_id, key, max_runs, dataset, variants))
    if not infos:
        return []
    first = default_run(infos, prefer)
    forget_other_runs(key, by_id, first.run_id)
    _take_handoff(key, by_id, multiple=True)
    chosen = st.multiselect(label, list(by_id), default=[first.run_id], max_selections=max_runs,
                            format_func=lambda run_id: run_label(by_id[run_id]), key=key)
    if url_param:
        publish(key, {url_param: ",".join(chosen)})
    picked = [by_id[r] for r in chosen if r in by_id]
    for info in picked:  # an undertrained run gets a word wherever it is shown
        show_run_health(info, label=info.label if len(picked) > 1 else "")
    return picked


def pick_run(dataset: str, key: str, label: str = "Run", variants=None, url_param: str | None = "runs",
             prefer=()):
    """A select box of saved runs on `dataset`; returns a RunInfo or None when there are none. The choice
    lives in the URL (`?runs=ID`). `prefer`: tests of a RunInfo, best first; the box starts on the newest run
    passing the first test any run passes (a page's default run should show the page's idea), else the newest."""
    infos = saved_runs(dataset, variants)
    damaged_runs_note(dataset)
    interrupted_runs_note(dataset)
    by_id = {i.run_id: i for i in infos}
    if url_param:  # before the early return: a link's runs are named even when there is none to choose
        restore(key, lambda query: _runs_from_link(query, url_param, by_id, key, 1, dataset, variants))
    if not infos:
        return None
    first = default_run(infos, prefer)
    forget_other_runs(key, by_id, first.run_id)
    _take_handoff(key, by_id, multiple=False)
    start = 0 if key in st.session_state else infos.index(first)  # (the state wins: no default beside it)
    run_id = st.selectbox(label, list(by_id), index=start, format_func=lambda r: run_label(by_id[r]), key=key)
    if url_param:
        publish(key, {url_param: run_id})
    picked = by_id.get(run_id)
    if picked is not None:
        show_run_health(picked)
    return picked


def default_run(infos: list, prefer=()):
    """The run a picker starts on: the newest (`infos` lists newest first) passing the first test of `prefer`
    any run passes, else the newest."""
    return next((info for test in prefer for info in infos if test(info)), infos[0])


def forget_other_runs(key: str, by_id: dict, default: str | None = None) -> None:
    """Drop from a run picker's state the runs it no longer lists (those of another dataset, after the
    dataset was switched, or deleted ones), before the picker is drawn: what remains stays chosen, and a
    picker left with nothing gets its `default` (else the newest run of this dataset), as when it was first
    drawn. Set through session state, so the browser's widget shows it too (a stale value the
    browser sends back is replaced, not kept). Every run picker calls this, so no page can keep a run of
    the other dataset chosen."""
    if key not in st.session_state or not by_id:
        return
    value = st.session_state[key]
    newest = default if default in by_id else next(iter(by_id))
    if isinstance(value, (list, tuple)):
        kept = [run_id for run_id in value if run_id in by_id]
        if kept != list(value):
            st.session_state[key] = kept or [newest]
    elif value not in by_id:
        st.session_state[key] = newest


def _runs_from_link(query: dict, url_param: str, by_id: dict, key: str, most: int, dataset: str,
                    variants) -> list[str]:
    """The link's runs (those this picker lists) into the picker's state; returns the problems (each run left
    out, named)."""
    offered = f"saved here on {dataset}" + (" of the kinds this picker lists" if variants else "")
    known, problems = link_runs(query, url_param, by_id, most, offered)
    if known:
        st.session_state[key] = known if most > 1 else known[0]
    return problems


def load_run(info):
    """The LoadedRun (model included) for a RunInfo, cached; an error box and None when damaged."""
    from aeviz.errors import AevizError

    try:
        return cached_run(info.run_id, info.created)
    except AevizError as exc:
        st.error(str(exc))
        return None


def converged(info) -> bool:
    """Not far from converged by the one rule of aeviz.facts (a run without a PCA baseline counts as converged)."""
    from aeviz.facts import far_from_converged
    from ui.common import pca_curve

    mse = info.metrics.get("test_mse")
    if not isinstance(mse, (int, float)) or info.metrics.get("pca_test_mse") is None:
        return True
    return not far_from_converged(mse, pca_curve(info.config["dataset"]))


def picked_run_or_stop(dataset: str, key: str, prefer=()):
    """(RunInfo, LoadedRun) of the run chosen in a select box (`prefer`: as pick_run's); stops the page with a
    message when there is no run on `dataset` or the chosen one is damaged."""
    info = pick_run(dataset, key=key, prefer=prefer)
    if info is None:
        no_runs_message(dataset)
        st.stop()
    run = load_run(info)
    if run is None:
        st.stop()
    return info, run


def no_runs_message(dataset: str) -> None:
    st.info(f"No saved runs on this dataset ({dataset}) yet. Train one on the Train page; it appears "
            f"here as soon as it finishes.")
    page_link("train.py", "Go to the Train page", ":material/model_training:")


def page_link(page_file: str, label: str, icon: str | None = None, query_params: dict | None = None) -> None:
    """A link to app_pages/<page_file> (opened with `query_params`, if given) when that page exists in the
    navigation (silently nothing otherwise)."""
    try:
        st.page_link(f"app_pages/{page_file}", label=label, icon=icon, query_params=query_params)
    except Exception:  # the page is not in st.navigation (not written yet, or a page tested alone)
        pass


STATUS_ICONS = {"queued": ":material/hourglass_empty:", "starting": ":material/hourglass_top:",
                "running": ":material/play_circle:", "completed": ":material/check_circle:",
                "stopped": ":material/stop_circle:", "cancelled": ":material/cancel:",
                "failed": ":material/error:", "diverged": ":material/error:"}


def session_runs_sidebar() -> None:
    """The sidebar list of this session's training jobs, redrawn every few seconds while one is active."""
    owner = session_owner()
    active = any(view.active for view in job_manager().jobs(owner=owner))
    with st.sidebar:
        st.markdown("**Runs of this session**")
        st.fragment(_session_runs, run_every=3.0 if active else None)(owner)


def _session_runs(owner: str) -> None:
    jobs = job_manager().jobs(owner=owner)
    if not jobs:
        st.caption("None yet: train one on the Train page.")
        return
    for view in reversed(jobs[-8:]):
        icon = STATUS_ICONS.get(view.status, "")
        detail = view.status
        if view.status == "running" and view.progress is not None:
            detail = f"{100 * view.progress.fraction:.0f}%"
        elif view.status == "queued" and view.queue_position:
            detail = f"queued, #{view.queue_position}"
        elif view.metrics.get("test_mse") is not None:
            detail += f", MSE {view.metrics['test_mse']:.4f}"
        st.caption(f"{icon} {view.label} — {detail}")
