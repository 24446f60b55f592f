"""Applications: what a trained run is good for (anomaly detection, retrieval, clustering, transfer),
each beside a baseline that shows what the autoencoder adds."""

from __future__ import annotations

import numpy as np
import streamlit as st

from aeviz.analysis.pca import dataset_pca
from aeviz.applications import anomaly, anomaly_tasks, clustering, retrieval, transfer
from aeviz.applications.features import feature_spaces
from aeviz.errors import AevizError
from aeviz.figures import applications as figs

from ui.common import cached_dataset, cached_run, current_dataset_name, dataset_or_stop, job_manager
from ui.kept import kept
from ui.runs import picked_run_or_stop
from ui.task_panel import start_task, task_section
from ui.theme import themed
from ui.user_dataset import note_if_unlabelled

ANOMALY_KEY = "apps_anomaly_trainer"
SWEEP_KEY = "apps_anomaly_sweep"
POOL = 5000          # train images the linear probe draws its labelled sets from
QUERIES = 1000       # test images whose neighbours define precision@10
SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000)

st.title("Applications")
st.markdown("An autoencoder learns without labels, yet its code is useful: for spotting what does not fit, "
            "for search, for grouping and as features for another task. Each section compares the run's "
            "**codes** with **PCA codes at the same k** and with **raw pixels**.")

dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)
note_if_unlabelled(dataset, "every section here needs them (a held-out class, neighbours of the same class, "
                   "clusters and a probe scored against the classes). Give your file labels: class folders, a "
                   "`labels` array or a `label` column.", stop=True)
info, run = picked_run_or_stop(dataset_name, key="apps_run")
k = run.config.k
labels = dataset.test_labels.numpy()
names = dataset.class_names


@st.cache_resource(show_spinner="Encoding the test set and a pool of train images…", max_entries=4)
def spaces(run_id: str, created: float, name: str) -> dict:
    """Test and train-pool features in each space, with the pool's indices."""

    data, model = cached_dataset(name), cached_run(run_id, created).model
    pca = dataset_pca(data)
    pool = np.sort(np.random.default_rng(0).permutation(len(data.train_images))[:POOL])
    return {"test": feature_spaces(model, data.train_images, data.test_images, pca=pca),
            "train": feature_spaces(model, data.train_images, data.train_images[pool], pca=pca), "pool": pool}


features = spaces(info.run_id, info.created, dataset_name)
anomaly_tab, retrieval_tab, clustering_tab, transfer_tab = st.tabs(
    ["Anomaly detection", "Retrieval", "Clustering", "Transfer (linear probe)"])

# ---------------------------------------------------------------- anomaly detection
with anomaly_tab:
    st.markdown("Train on some classes only (**normal**); every test image gets a score, its reconstruction "
                "error. Images of the held-out classes should score higher. The run itself saw every class, so "
                "this trains a fresh model with the run's settings on the normal classes. Baseline: PCA fitted on "
                f"the same normal images, at the same k = {k}.")
    c1, c2, c3 = st.columns([3, 1, 1])
    # Opens on class 0, the anomaly lesson's class; not the last one: on Fashion-MNIST that is ankle boots,
    # where PCA beats the default run (README), an exception rather than the rule.
    held_out = c1.multiselect("Held-out (anomalous) classes", list(range(len(names))), default=[0],
                              format_func=lambda c: names[c], key="apps_anomalous")
    epochs = c2.number_input("Epochs", 1.0, 100.0, float(min(run.config.epochs or 5.0, 10.0)), format="%g", key="apps_epochs")
    seconds = c3.number_input("At most (s)", 5.0, 1800.0, 300.0, format="%g", key="apps_seconds")
    normal = [c for c in range(len(names)) if c not in held_out]
    anomaly_key = f"{ANOMALY_KEY}.{info.run_id}"  # a model trained for another run is not this run's
    task = kept(anomaly_key)
    if st.button("Train on the normal classes", disabled=task is not None and task.running,
                 icon=":material/play_arrow:", key="apps_anomaly_train"):
        try:
            start_task(anomaly_key, anomaly_tasks.normal_class_task(run.config, dataset, normal, float(epochs),
                                                                    float(seconds), job_manager().cluster))
        except AevizError as exc:
            st.error(str(exc))
    task = task_section(anomaly_key)
    trained = task.result if task is not None and not task.running else None
    if trained is not None:
        if trained.normal_classes != normal:
            st.info("The held-out classes changed since that model was trained: train again to use them.")
        report, done = trained.report, trained.metrics
        note = (f"The model on the normal classes trained for {done['epochs']:.1f} epochs "
                f"({done['train_seconds']:.0f} s) on {done['train_size']} images"
                + (f", {trained.where}." if trained.where else "."))
        if done["epochs"] < trained.planned_epochs - 1e-6:
            st.warning(note + f" That is less than the {trained.planned_epochs:g} epochs asked for (time budget "
                       "or Stop): an undertrained model scores poorly.")
        else:
            st.caption(note)
        m1, m2, m3 = st.columns(3)
        m1.metric("AUC, autoencoder", f"{report.auc['autoencoder']:.3f}",
                  delta=f"{report.auc['autoencoder'] - report.auc['pca']:+.3f} vs PCA")
        m2.metric(f"AUC, PCA (k = {k})", f"{report.auc['pca']:.3f}")
        m3.metric("Test images: anomalous / normal", f"{int(report.is_anomaly.sum())} / {int((~report.is_anomaly).sum())}")
        st.plotly_chart(themed(figs.score_histograms(report.scores, report.is_anomaly)), key="apps_hist")
        curves = {m: anomaly.roc_curve(s, report.is_anomaly)[:2] for m, s in report.scores.items()}
        st.plotly_chart(themed(figs.roc_figure(curves, report.auc)), key="apps_roc")
        worst = report.most_anomalous(12)
        st.plotly_chart(themed(figs.image_row(dataset.test_images[worst].numpy(),
                                       [f"{names[labels[i]]} · {report.scores['autoencoder'][i]:.3f}" for i in worst],
                                       "The 12 most anomalous test images (class, score)", columns=12,
                                       highlight=[not report.is_anomaly[i] for i in worst])), key="apps_worst")
        found = int(report.is_anomaly[worst].sum())
        st.caption(f"The {len(worst)} test images this model rebuilds worst, highest reconstruction error first: "
                   f"{found} of them belong to a held-out class, the anomalies it was meant to find. Red captions "
                   "are images of a normal class that it rebuilds badly anyway: unusual shapes, or large bright "
                   "images, where every lit pixel is one more place to miss. The error ranks images, it does not "
                   "know classes: when most captions are red, read the AUC above and try another class.")

    st.divider()
    st.markdown("**Every class held out in turn.** One held-out class is a partial verdict: which method wins "
                "depends on the class. The standard summary trains a fresh model for each class (on all the "
                "others, with the epochs and time budget above) and averages the AUCs; `python -m aeviz apps` "
                "reports this mean.")
    sweep_key = f"{SWEEP_KEY}.{info.run_id}"
    sweep_task = kept(sweep_key)
    if st.button(f"Hold out each of the {len(names)} classes in turn", icon=":material/repeat:",
                 disabled=sweep_task is not None and sweep_task.running, key="apps_sweep_train"):
        try:
            task = anomaly_tasks.held_out_task(run.config, dataset, float(epochs), float(seconds),
                                                job_manager().cluster)
            start_task(sweep_key, task)
        except AevizError as exc:
            st.error(str(exc))
    sweep_task = task_section(sweep_key)
    summary = sweep_task.result if sweep_task is not None and not sweep_task.running else None
    if summary is not None:
        done = len(summary["held_out_classes"])
        s1, s2, s3 = st.columns(3)
        s1.metric("Mean AUC, autoencoder", f"{summary['auc']:.3f}",
                  delta=f"{summary['auc'] - summary['pca_auc']:+.3f} vs PCA")
        s2.metric(f"Mean AUC, PCA (k = {k})", f"{summary['pca_auc']:.3f}")
        s3.metric("Classes where the autoencoder wins", f"{summary['classes_where_autoencoder_wins']} of {done}")
        st.plotly_chart(themed(figs.held_out_auc_bars(summary["per_class"])), key="apps_sweep_bars")
        if done < len(names):
            st.warning(f"Only {done} of {len(names)} classes were held out (stopped early): the mean covers those.")

# ---------------------------------------------------------------- retrieval
with retrieval_tab:
    st.markdown("Search by example: the test images nearest to a query (Euclidean distance) in each space. "
                "**precision@10** is the share of the 10 nearest that have the query's class, averaged over "
                f"{min(QUERIES, len(labels))} queries.")

    @st.cache_data(show_spinner="Searching…", max_entries=8)
    def precision(run_id: str, created: float, name: str) -> dict[str, float]:
        test_labels = cached_dataset(name).test_labels.numpy()
        return retrieval.retrieval_report(spaces(run_id, created, name)["test"], test_labels, 10, QUERIES)

    scores = precision(info.run_id, info.created, dataset_name)
    cols = st.columns(3)
    for col, space in zip(cols, ("codes", "pca", "pixels")):
        col.metric(f"precision@10, {figs.SPACE_NAMES[space]}", f"{scores[space]:.3f}")
    query = int(st.number_input("Query: test image number", 0, len(labels) - 1, 0, key="apps_query"))
    for space in ("codes", "pixels", "pca"):
        near = retrieval.nearest_neighbours(features["test"][space], [query], 10)[0]
        shown = np.concatenate([[query], near])
        st.plotly_chart(themed(figs.image_row(dataset.test_images[shown].numpy(),
                                       ["query"] + [names[labels[i]] for i in near], figs.SPACE_NAMES[space],
                                       columns=11, highlight=[False] + [labels[i] != labels[query] for i in near])),
                        key=f"apps_nn_{space}")

# ---------------------------------------------------------------- clustering
@st.cache_data(show_spinner=False, max_entries=32)
def cluster(run_id: str, created: float, name: str, space: str, n: int, size: int):
    test_labels = cached_dataset(name).test_labels.numpy()
    chosen = np.sort(np.random.default_rng(0).permutation(len(test_labels))[:size])
    features = spaces(run_id, created, name)["test"][space][chosen]
    return chosen, clustering.cluster_space(features, test_labels[chosen], n)


def show_clusters(n_clusters: int, subset_size: int) -> None:
    bar = st.progress(0.0, text="k-means…")
    results = {}
    for step, space in enumerate(("codes", "pca", "pixels")):
        bar.progress(step / 3, text=f"k-means on {figs.SPACE_NAMES[space]} ({clustering.DEFAULT_REPEATS} runs)…")
        chosen, results[space] = cluster(info.run_id, info.created, dataset_name, space, n_clusters, subset_size)
    bar.empty()
    st.plotly_chart(themed(figs.metric_bars({"NMI": {s: r["nmi"] for s, r in results.items()},
                                      "ARI": {s: r["ari"] for s, r in results.items()}},
                                     errors={"NMI": {s: r["nmi_std"] for s, r in results.items()},
                                             "ARI": {s: r["ari_std"] for s, r in results.items()}})),
                    key="apps_cluster_bars")
    st.caption("Bars: means over the k-means runs; whiskers: their standard deviation.")
    shown_space = st.radio("Cluster mean images of", ("codes", "pca", "pixels"), horizontal=True,
                           format_func=figs.SPACE_NAMES.get, key="apps_cluster_space")
    means = clustering.cluster_mean_images(dataset.test_images[chosen].numpy(), results[shown_space]["clusters"],
                                           n_clusters)
    sizes = np.bincount(results[shown_space]["clusters"], minlength=n_clusters)
    st.plotly_chart(themed(figs.image_row(means, [f"{s} images" for s in sizes], columns=min(n_clusters, 10))),
                    key="apps_cluster_means")


with clustering_tab:
    st.markdown("k-means never sees the labels; NMI and ARI measure how well its clusters match them anyway "
                "(1 = the same partition, 0 = no better than chance). One k-means run depends on its start, so "
                f"each space gets {clustering.DEFAULT_REPEATS} runs (each the best of {clustering.DEFAULT_N_INIT} "
                "starts) and the scores are their means; the mean images are those of the tightest run.")
    c1, c2 = st.columns(2)
    n_clusters = c1.slider("Clusters", 2, 30, len(names), key="apps_clusters")
    options = [s for s in (500, 1000, 2000, 5000) if s < len(labels)] + [len(labels)]
    subset_size = c2.select_slider("Test images clustered", options, value=min(2000, len(labels)),
                                   key="apps_cluster_n")

    if not st.session_state.get("apps_cluster_go") and st.button("Run k-means", key="apps_cluster_button"):
        st.session_state["apps_cluster_go"] = True
    if st.session_state.get("apps_cluster_go"):
        show_clusters(n_clusters, subset_size)

# ---------------------------------------------------------------- transfer
@st.cache_data(show_spinner=False, max_entries=128)
def probe(run_id: str, created: float, name: str, space: str, size: int) -> float:
    data = spaces(run_id, created, name)
    pool_labels = cached_dataset(name).train_labels.numpy()[data["pool"]]
    subset = transfer.labelled_subset(pool_labels, size)
    return transfer.probe_accuracy(data["train"][space][subset], pool_labels[subset], data["test"][space],
                                   cached_dataset(name).test_labels.numpy())


def show_probes(pool_labels: np.ndarray, sizes: list[int], chosen_size: int) -> None:
    bar = st.progress(0.0, text="fitting linear probes…")
    curve: dict[str, dict[int, float]] = {s: {} for s in ("codes", "pca", "pixels")}
    jobs = [(space, size) for size in sizes for space in curve]
    for done, (space, size) in enumerate(jobs, 1):
        curve[space][size] = probe(info.run_id, info.created, dataset_name, space, size)
        bar.progress(done / len(jobs), text=f"linear probes: {done} of {len(jobs)}")
    bar.empty()
    cols = st.columns(3)
    for col, space in zip(cols, curve):
        col.metric(f"accuracy, {figs.SPACE_NAMES[space]}", f"{curve[space][chosen_size]:.3f}",
                   help=f"with {chosen_size} labelled images")
    st.plotly_chart(themed(figs.probe_curve_figure(curve)), key="apps_probe_curve")


with transfer_tab:
    st.markdown("A linear probe: logistic regression on a few labelled training images' features, tested on "
                "the whole test set. Codes learned without labels should help most when labels are scarce.")
    pool_labels = dataset.train_labels.numpy()[features["pool"]]
    sizes = [s for s in SIZES if s <= len(pool_labels)]
    chosen_size = st.select_slider("Labelled training images", sizes, value=sizes[min(3, len(sizes) - 1)],
                                   key="apps_probe_size")

    if not st.session_state.get("apps_probe_go") and st.button("Fit the probes", key="apps_probe_button"):
        st.session_state["apps_probe_go"] = True
    if st.session_state.get("apps_probe_go"):
        show_probes(pool_labels, sizes, chosen_size)
