"""Train: choose dataset, variant, k and settings; train in the background and watch it live."""

from __future__ import annotations

import streamlit as st

from aeviz.errors import AevizError, QueueFull
from aeviz.lessons.record import session_tag
from aeviz.training.config import TrainConfig, default_epochs
from aeviz.training.tasks import QUEUED, RUNNING, STARTING
from aeviz.variants import VARIANTS
from aeviz.variants.trainer_settings import LR_SCHEDULE_WORDS, optimizer_words

from ui.common import (dataset_or_stop, dataset_selector, dataset_statuses, device_summary, has_gpu, job_manager,
                       pca_curve, session_owner)
from ui.interrupted import interrupted_notice
from ui.links import share_link
from ui.params import changed_params, param_widgets
from ui.plain_text import plain
from ui.queue_room import note_start_error, show_start_error, train_button
from ui.reuse_offer import reuse_offer, show_reused_run
from ui.runs import page_link
from ui.train_links import (EPOCHS_RANGE, SECONDS_RANGE, SEED_RANGE, batch_choices, k_slider, lr_choices, page_defaults,
                            publish_train_settings, restore_train_settings)
from ui.train_live import show_figures, show_status

JOB_KEY = "train_job"
SHOW_KEY = "train_show"  # the "Show run" selector, kept equal to JOB_KEY
JOB_PARAM = "job"
REFRESH_SECONDS = 2.0  # live status redraw period; Stop acts at once (its click reruns)
FIGURE_REFRESH_SECONDS = 5.0  # live figures redraw period
# The first picture: pressing Train waits up to FIRST_PICTURE_WAIT_SECONDS for the run's first snapshot (taken
# before the first step) so the redraw shows it; if it comes later, the figures poll this often until it does.
FIRST_PICTURE_WAIT_SECONDS = 1.0
FIRST_PICTURE_POLL_SECONDS = 0.25

st.title("Train an autoencoder")
owner = session_owner()
manager = job_manager()
restore_train_settings()  # a link's settings, before the widgets are drawn

# ---------------------------------------------------------------------------- choices

CHOICE_COLUMNS = (3, 2)  # the choices, and beside them the PCA curve of the dataset
left, right = st.columns(CHOICE_COLUMNS)
with left:
    dataset_name = dataset_selector(key="train_dataset")
    if not dataset_statuses()[dataset_name]["available"]:
        st.stop()  # the selector has said why and how to fix it
    dataset = dataset_or_stop(dataset_name)
    slugs = list(VARIANTS)
    slug = st.selectbox("Variant", slugs, format_func=lambda s: f"{VARIANTS[s].title} · {s}", key="train_variant")
    variant = VARIANTS[slug]
    st.caption(variant.summary)
    low, high_shown, default_k = k_slider(variant, dataset.input_size)
    k = st.slider("Bottleneck size k", low, high_shown, default_k, key=f"train_k.{slug}.{dataset_name}",
                  help="How many numbers the code has. Smaller k forces more compression.")
    if variant.k_note:
        st.caption(variant.k_note)
with right:
    curve = pca_curve(dataset_name)
    pca_at_k = float(curve[min(k, len(curve) - 1)])
    st.metric(f"PCA test MSE at k = {k}", f"{pca_at_k:.4f}",
              help="Mean squared error per pixel of PCA's reconstructions of the test set with the top k "
                   "components: the bar an autoencoder with the same k has to beat.")
    from aeviz.figures.training import pca_curve_figure
    from ui.theme import themed

    # Also loads the browser's chart library before Train is pressed, so the first live figure comes at once.
    st.plotly_chart(themed(pca_curve_figure(curve, int(k)), width_share=CHOICE_COLUMNS[1] / sum(CHOICE_COLUMNS)),
                    key="train_pca_curve", width="stretch",
                    config={"displayModeBar": False})
    st.caption(f"{plain(dataset.title)}: {len(dataset.train_images):,} training and {len(dataset.test_images):,} test "
               f"images of {dataset.image_shape[1]}x{dataset.image_shape[2]} pixels.")

declared = variant.params_for_k(int(k))  # defaults that depend on k (k-sparse's active units) fitted
with st.expander(f"{variant.title} settings", expanded=False):
    values = param_widgets(declared, key_prefix=f"train.{slug}") if declared else {}
    if not declared:
        st.caption("This variant has no settings of its own.")

defaults = page_defaults(variant)
budget_col, opt_col, device_col = st.columns(3)
with budget_col:
    budget_kind = st.radio("Budget", ["epochs", "seconds"], horizontal=True, key="train_budget_kind")
    if budget_kind == "epochs":
        epochs = st.number_input("Epochs", *EPOCHS_RANGE, default_epochs(dataset_name), step=1.0,
                                 format="%g", key="train_epochs")
        seconds = None
    else:
        seconds = st.number_input("Seconds", *SECONDS_RANGE, 30.0, step=5.0, format="%g", key="train_seconds")
        epochs = None
    seed = st.number_input("Seed", *SEED_RANGE, 0, key="train_seed")  # here: the device column is the longest
with opt_col:
    # the variant's own defaults are always among the choices (plain's 4e-3 is not a round step)
    lr = st.select_slider("Learning rate", lr_choices(defaults["lr"]),
                          value=defaults["lr"], format_func=lambda v: f"{v:g}", key=f"train_lr.{slug}",
                          help=f"The rate is {LR_SCHEDULE_WORDS[defaults['lr_schedule']]}; the optimiser is "
                               f"{optimizer_words(defaults)}.")
    batch_size = st.select_slider("Batch size", batch_choices(defaults["batch_size"]),
                                  value=defaults["batch_size"], key=f"train_batch.{slug}")
with device_col:
    device_name, has_cuda = device_summary(), has_gpu()
    on_cluster = manager.cluster is not None  # runs train on Ray workers: the device is the worker's
    gpu_caption = ("a Ray worker's GPU (on a CPU if the cluster has none)" if on_cluster
                   else device_name.removeprefix("GPU: ") if has_cuda else "unavailable: no GPU here")
    device = st.radio("Device", ["auto", "cpu", "cuda"], horizontal=True, key="train_device",
                      captions=["best available", "always works", gpu_caption])
    kept_fp32 = ", ".join(cls.title.lower() for cls in VARIANTS.values() if not cls.trains_well_in_bf16)
    precision = st.radio("Precision", ["auto", "fp32", "bf16"], horizontal=True, key="train_precision",
                         help="bf16 runs the forward pass in bfloat16 (weights, loss and optimiser stay fp32); "
                              "auto uses it only where the CPU (AVX512-BF16/AMX) or GPU runs it fast"
                              + (f", and never for {kept_fp32}, whose test error it raises." if kept_fp32 else "."))
if device == "cuda" and not has_cuda and not on_cluster:
    st.warning("CUDA is not available on this machine (torch sees no GPU): this run will train on the CPU.")

# ---------------------------------------------------------------------------- submit
config = TrainConfig(dataset=dataset_name, variant=slug, k=int(k), epochs=epochs, max_seconds=seconds,
                     batch_size=int(batch_size), lr=float(lr), seed=int(seed), device=device,
                     precision=precision, params=changed_params(declared, values))
problem, valid = "", None
try:
    valid = config.validate(dataset.image_shape)  # the one check; the queue and the trainer take it as it is
except AevizError as exc:
    problem = str(exc)
    st.error(problem)
for warning in variant.warnings(int(k), dataset.input_size, values) if not problem else []:
    st.warning(warning)
if not problem:
    publish_train_settings(config)

share_link("Link to these settings")
if not problem and reuse_offer(config, manager, owner):
    show_reused_run(st.session_state["train_reused_run"])



def follow_new_job(view) -> None:
    """Show the job just submitted; a running one's first snapshot is waited for (up to a second) so the
    next redraw has a picture."""
    if view.status != QUEUED:  # a queued run has nothing to show soon
        manager.wait_showable(view.job_id, FIRST_PICTURE_WAIT_SECONDS)
    st.session_state[JOB_KEY] = view.job_id


def show_new_job(view) -> None:
    follow_new_job(view)
    st.query_params[JOB_PARAM] = view.job_id
    st.rerun()  # redraw everything (sidebar list, button label) with the new job


def start_run(valid, owner: str) -> None:
    """Train's callback: it runs before the page is drawn, so one redraw shows the new run (and its first
    picture) with everything around it."""

    valid.config.tags["session"] = session_tag(owner)  # the class view's "who", never the session id itself
    try:  # the same configuration queued or training already: this session follows that run
        follow_new_job(manager.submit(valid, owner=owner))
    except QueueFull as exc:
        note_start_error(str(exc))


interrupted_notice(owner, manager, show_new_job)  # this session's runs that a server stop interrupted
my_jobs = manager.jobs(owner=owner)
busy = any(j.active for j in my_jobs)
button = train_button(manager, owner, valid, busy)
st.button(button.label, type="primary", disabled=bool(problem) or button.disabled,
          icon=":material/play_arrow:", key="train_start", on_click=start_run, args=(valid, owner))
if button.caption:
    st.caption(button.caption)
show_start_error()

# ---------------------------------------------------------------------------- which job to show
known = {j.job_id: j for j in my_jobs}
job_id = st.session_state.get(JOB_KEY) or st.query_params.get(JOB_PARAM)
if job_id not in known:
    running = [j for j in my_jobs if j.active]
    job_id = (running or my_jobs or [None])[-1]
    job_id = job_id.job_id if job_id is not None else None
if job_id is None:
    st.info("Press **Train** to start. Training runs in the background: you can change settings, open "
            "other pages or reload; the run goes on and this page finds it again.")
    st.stop()
if len(known) > 1:
    # The selector follows the job this page shows (JOB_KEY: a run just started, or the one chosen here), so
    # a third run in one tab is shown at once; a widget left to itself would keep its earlier choice.
    ids = list(known)
    if st.session_state.get(SHOW_KEY) != job_id:
        st.session_state[SHOW_KEY] = job_id
    # No status in the labels: the browser kept showing an option's first label ("running" long after the run
    # had finished) while the server sent the new one; the status is under the run's heading and in the sidebar.
    job_id = st.selectbox("Show run", ids, format_func=lambda j: known[j].label,
                          key=SHOW_KEY, on_change=lambda: st.session_state.update({JOB_KEY: st.session_state[SHOW_KEY]}))
st.session_state[JOB_KEY] = job_id
if st.query_params.get(JOB_PARAM) != job_id:
    st.query_params[JOB_PARAM] = job_id

st.divider()

active = known[job_id].active
status_at_render = known[job_id].status
# Still waiting for its first picture (loading, building the model): poll for it quickly, then redraw.
awaiting_picture = status_at_render in (STARTING, RUNNING) and known[job_id].snapshot is None
# Two fragments: the status (progress, metrics, Stop) redraws often and costs little; the figures cost
# more (building and sending several charts), so they redraw less often. With many runs active (a class,
# each watching its own), both slow down so the live pages together cannot starve the server's cores.
slowdown = max(1.0, manager.active_count() / 2)


@st.fragment(run_every=REFRESH_SECONDS * slowdown if active else None)
def live_status():
    view = manager.view(job_id)
    show_status(view, manager, pca_curve(view.config.dataset))
    if active and (not view.active or (status_at_render == QUEUED and view.status != QUEUED)):
        st.rerun()  # the run ended or left the queue: redraw the whole page (button, sidebar, figures, polling)


@st.fragment(run_every=(FIRST_PICTURE_POLL_SECONDS if awaiting_picture else FIGURE_REFRESH_SECONDS * slowdown)
             if active else None)
def live_figures():
    view = manager.view(job_id)
    if awaiting_picture and (view.snapshot is not None or not view.active):
        st.rerun()  # the first picture is here: draw it, and go back to the slower period
    show_figures(view, pca_curve(view.config.dataset))


live_status()
live_figures()
page_link("reconstructions.py", "Compare reconstructions", ":material/compare:")
page_link("latent_space.py", "See the latent space", ":material/scatter_plot:")
