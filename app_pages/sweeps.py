"""Sweeps: train a grid of short runs (k, a penalty weight, ...) over seeds and see them all at once."""

from __future__ import annotations

import streamlit as st

from aeviz.cluster.connection import ray_available
from aeviz.errors import AevizError
from aeviz.figures.sweeps import sweep_figure
from aeviz.jobs.sweep_executors import make_executor
from aeviz.server_settings import page_executors, page_ray_address
from aeviz.sweeps import (Sweep, SweepRunner, SweepSpec, SweepStore, parse_grid_arg, parse_seeds,
                          suggest_values, sweep_table)
from aeviz.sweeps.spec import format_value, input_size_of, sweep_cost, sweepable_names
from aeviz.variants import VARIANTS

from ui.common import dataset_or_stop, dataset_selector, job_manager, run_store, session_owner
from ui.kept import kept
from ui.runs import open_run_on, page_link
from ui.task_panel import start_task, task_panel
from ui.theme import data_table, themed

RUNNER_KEY = "sweeps_runner"

st.title("Sweeps")
st.caption("A grid of short runs, each an ordinary saved run: test error against k, a penalty weight or a "
           "noise level, for one variant or several, repeated over seeds. Cost: points × budget per point ÷ "
           "workers (the local executor has one worker; Ray has one per core, or per core of a cluster).")


def show_results(sweep: Sweep, key: str) -> None:
    """The table, the figure for the swept parameters, and links to each point's run."""
    rows = sweep_table(sweep)
    axes = sweep.spec.swept_names()
    st.plotly_chart(themed(sweep_figure(rows, axes)), key=f"{key}_figure", width="stretch")
    data_table(rows, hide_index=True, width="stretch", key=f"{key}_table")
    for point in sweep.points:
        if point.status in ("failed", "diverged") and point.error:
            st.warning(f"{point.label}: {point.error}")
    saved = {p.run_id: p for p in sweep.points if p.run_id}
    if saved:
        run_id = st.selectbox("Open a point's run", list(saved), key=f"{key}_open",
                              format_func=lambda r: f"{saved[r].label} · {r}")
        mid, right, _ = st.columns(3)  # the buttons' labels fit at projector size too
        if mid.button("Reconstructions", key=f"{key}_to_recon", icon=":material/compare:"):
            open_run_on("reconstructions.py", run_id, sweep.spec.dataset)
        if right.button("Latent space", key=f"{key}_to_latent", icon=":material/scatter_plot:"):
            open_run_on("latent_space.py", run_id, sweep.spec.dataset)


# ---------------------------------------------------------------------------- the grid
dataset_name = dataset_selector(key="sweep_dataset")
dataset = dataset_or_stop(dataset_name)
input_size = input_size_of(dataset_name)
variants = st.multiselect("Variants", list(VARIANTS), default=["plain"], key="sweep_variants",
                          format_func=lambda s: f"{VARIANTS[s].title} · {s}")
if not variants:
    st.info("Choose at least one variant.")
    st.stop()
classes = [VARIANTS[v] for v in variants]
names = [n for n in sweepable_names(classes[0]) if all(n in sweepable_names(c) for c in classes[1:])]
swept = st.multiselect("Parameters to sweep", names, default=["k"], key=f"sweep_names.{'+'.join(variants)}",
                       help="k, the learning rate, the batch size, or any setting all chosen variants declare.")
grid_text: dict[str, str] = {}
columns = st.columns(max(len(swept), 1))
for column, name in zip(columns, swept):
    suggested = suggest_values(classes[0], name, input_size)
    separator = " | " if name == "hidden" else ", "
    grid_text[name] = column.text_input(
        f"{name} values", separator.join(format_value(v) for v in suggested),
        key=f"sweep_values.{name}.{'+'.join(variants)}.{dataset_name}",
        help="Comma-separated; suggested from the parameter's declared range.")

left, mid, right = st.columns(3)
seeds_text = left.text_input("Seeds", "0", key="sweep_seeds", help="Each point is trained once per seed: 0,1,2")
budget_kind = mid.radio("Budget per point", ["epochs", "seconds"], horizontal=True, key="sweep_budget_kind")
budget = mid.number_input(budget_kind.capitalize(), 0.1, 10_000.0, 5.0 if budget_kind == "epochs" else 10.0,
                          format="%g", key=f"sweep_budget.{budget_kind}")
has_ray = ray_available()
# The executors are the server's choice (its AEVIZ_RAY_ADDRESS / AEVIZ_RAY_LOCAL), never a page's: no address here.
offered = page_executors()
if st.session_state.get("sweep_executor") not in offered:
    st.session_state.pop("sweep_executor", None)
executor = right.radio("Executor", list(offered), horizontal=True, key="sweep_executor",
                       help="; ".join(f"{name}: {what}" for name, what in offered.items())
                            + ("" if "ray" in offered else ". Ray is not offered: the teacher enables it when "
                               "starting the server (AEVIZ_RAY_ADDRESS, or AEVIZ_RAY_LOCAL=1)."))
if executor == "ray" and not has_ray:
    right.warning("Ray is not installed on this server: `.venv/bin/python -m pip install -r requirements-ray.txt`.")


def build_spec() -> SweepSpec:
    grid = {name: parse_grid_arg(f"{name}={text}")[1] for name, text in grid_text.items()}
    return SweepSpec(dataset=dataset_name, variants=variants, grid=grid, seeds=parse_seeds(seeds_text),
                     epochs=budget if budget_kind == "epochs" else None,
                     max_seconds=budget if budget_kind == "seconds" else None)


runner: SweepRunner | None = kept(RUNNER_KEY)
busy = runner is not None and runner.running
try:
    preview = Sweep.create(build_spec(), executor)
    at_once = job_manager().max_running  # on either executor, each point holds one of the server's slots
    st.caption(sweep_cost(preview.spec, len(preview.points)) + " Its points take turns with the class's runs "
               + ("(the server trains one at a time)." if at_once == 1 else f"(the server trains {at_once} at once)."))
except AevizError as exc:
    preview = None
    st.error(str(exc))
if st.button("Start the sweep", type="primary", disabled=busy or preview is None or (executor == "ray" and not has_ray),
             icon=":material/play_arrow:", key="sweep_start"):
    try:
        with st.spinner("Starting…" if executor == "local" else "Connecting to Ray…"):
            ray_address = page_ray_address() if executor == "ray" else None  # the server's, never the page's
            runner = SweepRunner(preview, make_executor(executor, ray_address, manager=job_manager(),
                                                        owner=session_owner()), store=run_store())
        start_task(RUNNER_KEY, runner)
    except AevizError as exc:
        st.error(str(exc))
runner = kept(RUNNER_KEY)
busy = runner is not None and runner.running  # again: a sweep started just now disables Resume


# ---------------------------------------------------------------------------- live
def draw_live(runner: SweepRunner) -> None:
    sweep, _ = runner.snapshot()
    if not runner.running:
        st.caption(f"{sweep.status}: {sweep.message} ({sweep.wall_seconds:.1f} s"
                   + (f", plus {sweep.startup_seconds:.1f} s to start Ray" if sweep.executor == "ray" else "") + ")")
    show_results(sweep, "live")


if runner is not None:
    st.subheader(f"Sweep {runner.sweep.sweep_id}")
    # When the sweep ends the whole page reruns: Start is enabled again and the past sweeps refresh.
    task_panel(RUNNER_KEY, runner, draw_live, stop_help=None, note_unfinished=False)

# ---------------------------------------------------------------------------- past sweeps
st.divider()
st.subheader("Past sweeps")
past = [s for s in SweepStore().list() if runner is None or s.sweep_id != runner.sweep.sweep_id]
if not past:
    st.caption("None yet.")
else:
    by_id = {s.sweep_id: s for s in past}
    chosen = st.selectbox("Reopen a sweep", list(by_id), format_func=lambda i: f"{by_id[i].label} · {i}",
                          key="sweep_past")
    sweep = by_id[chosen]
    unfinished = [p for p in sweep.points if not p.done]
    if unfinished and st.button(f"Resume ({len(unfinished)} points left, local)", disabled=busy, key="sweep_resume"):
        start_task(RUNNER_KEY, SweepRunner(sweep, make_executor("local", manager=job_manager(), owner=session_owner()),
                                           store=run_store()))
        st.rerun()
    show_results(sweep, "past")
page_link("train.py", "Train a single run", ":material/model_training:")
