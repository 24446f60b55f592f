"""Applications: each metric against scikit-learn or a brute-force computation, the anomaly helper,
the figures, the `apps` CLI and the Applications page, on the 8x8 digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from aeviz.applications import anomaly, clustering, retrieval, transfer
from aeviz.applications.features import feature_spaces
from aeviz.errors import InvalidConfig
from aeviz.analysis.latent import reconstruction_errors
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A plain k=8 run on digits, trained briefly and saved in its own store."""
    from aeviz.training.config import TrainConfig
    from aeviz.runs.store import RunStore
    from aeviz.training.trainer import Trainer

    root = tmp_path_factory.mktemp("apps_runs")
    trainer = Trainer(TrainConfig(dataset="digits", variant="plain", k=8, epochs=15, seed=0,
                                  params={"hidden": [64]}), store=RunStore(root))
    for _ in trainer.run():
        pass
    return root, trainer.finished.saved_run_id, trainer.finished.result


# ---------------------------------------------------------------------------- anomaly metrics

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_matches_scikit_learn_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=300), 1)   # many ties
    is_anomaly = rng.random(300) < 0.3
    scores[is_anomaly] += 0.5
    assert anomaly.roc_auc(scores, is_anomaly) == pytest.approx(roc_auc_score(is_anomaly, scores), abs=1e-12)


def test_roc_curve_matches_scikit_learn():
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(size=200), 1)
    is_anomaly = rng.random(200) < 0.4
    fpr, tpr, _ = anomaly.roc_curve(scores, is_anomaly)
    sk_fpr, sk_tpr, _ = sk_roc_curve(is_anomaly, scores, drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc_score(is_anomaly, scores))


def test_auc_needs_both_kinds():
    with pytest.raises(InvalidConfig):
        anomaly.roc_auc(np.ones(3), np.zeros(3, bool))


def test_normal_class_dataset_keeps_only_normal_train_images(digits):
    normal = anomaly.normal_class_dataset(digits, [0, 1, 2])
    assert set(normal.train_labels.tolist()) == {0, 1, 2}
    assert int((digits.train_labels < 3).sum()) == len(normal.train_images)
    assert normal.test_images is digits.test_images
    with pytest.raises(InvalidConfig):
        anomaly.normal_class_dataset(digits, range(10))


def test_reconstruction_scores_and_pca_baseline(digits, digits_run):
    _, _, result = digits_run
    model = result.model
    errors = reconstruction_errors(model, digits.test_images[:50])
    with torch.no_grad():
        expected = ((model(digits.test_images[:50]) - digits.test_images[:50]) ** 2).mean(dim=(1, 2, 3))
    assert np.allclose(errors, expected.numpy(), rtol=1e-5)
    # PCA at k = all components reconstructs exactly
    full = anomaly.pca_reconstruction_errors(digits.train_images, digits.test_images[:20], 64)
    assert np.all(full < 1e-8)


def test_anomaly_trainer_trains_on_normal_classes_and_scores_held_out_higher(digits, digits_run):
    _, _, result = digits_run
    normal = [c for c in range(10) if c != 0]
    trainer = anomaly.anomaly_trainer(result.config, digits, normal, epochs=15)
    assert set(trainer.dataset.train_labels.tolist()) == set(normal)
    for _ in trainer.run():
        pass
    report = anomaly.anomaly_report(trainer.finished.result.model, digits, normal)
    assert report.is_anomaly.sum() == int((digits.test_labels == 0).sum())
    assert report.auc["autoencoder"] == pytest.approx(roc_auc_score(report.is_anomaly, report.scores["autoencoder"]))
    assert report.auc["autoencoder"] > 0.6 and report.auc["pca"] > 0.6
    assert report.scores["autoencoder"][report.most_anomalous(1)[0]] == report.scores["autoencoder"].max()


def test_held_out_sweep_scores_each_class_like_a_single_model(digits, digits_run):
    from aeviz.training.events import Finished, Progress

    _, _, result = digits_run
    sweep = anomaly.HeldOutSweep(result.config, digits, epochs=2, classes=[3, 9])
    events = list(sweep.run())
    fractions = [e.fraction for e in events if isinstance(e, Progress)]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert isinstance(events[-1], Finished) and events[-1].status == "completed"
    assert sorted(sweep.reports) == [3, 9]
    # the same model trained on its own (same seed) scores the same
    trainer = anomaly.anomaly_trainer(result.config, digits, [c for c in range(10) if c != 3], epochs=2)
    for _ in trainer.run():
        pass
    single = anomaly.anomaly_report(trainer.finished.result.model, digits, [c for c in range(10) if c != 3])
    assert sweep.reports[3].auc["autoencoder"] == pytest.approx(single.auc["autoencoder"], abs=1e-6)
    assert sweep.reports[9].is_anomaly.sum() == int((digits.test_labels == 9).sum())
    means = sweep.mean_auc()
    for method in ("autoencoder", "pca"):
        assert means[method] == pytest.approx(np.mean([sweep.reports[c].auc[method] for c in (3, 9)]))
    summary = sweep.to_json()
    assert summary["auc"] == means["autoencoder"] and set(summary["per_class"]) == {"3", "9"}

    stopped = anomaly.HeldOutSweep(result.config, digits, epochs=2)
    stopped.stop()
    assert list(stopped.run())[-1].status == "stopped" and not stopped.reports
    with pytest.raises(InvalidConfig):
        stopped.mean_auc()
    with pytest.raises(InvalidConfig):
        anomaly.HeldOutSweep(result.config, digits, classes=[10])


# ---------------------------------------------------------------------------- retrieval

def brute_force_precision(features, labels, n):
    hits = []
    for q in range(len(features)):
        distances = [(float(((features[q] - features[j]) ** 2).sum()), j) for j in range(len(features)) if j != q]
        nearest = [j for _, j in sorted(distances)[:n]]
        hits.append(np.mean([labels[j] == labels[q] for j in nearest]))
    return float(np.mean(hits))


def test_precision_at_10_matches_brute_force():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 120)
    features = rng.normal(size=(120, 5)) + labels[:, None] * 0.8
    assert retrieval.precision_at_10(features, labels) == pytest.approx(brute_force_precision(features, labels, 10))
    assert retrieval.precision_at_n(features, labels, 3) == pytest.approx(brute_force_precision(features, labels, 3))


def test_nearest_neighbours_exclude_the_query_and_break_ties_by_index():
    features = np.array([[0.0], [1.0], [1.0], [-1.0], [5.0]])
    assert retrieval.nearest_neighbours(features, [0], 3)[0].tolist() == [1, 2, 3]
    with pytest.raises(InvalidConfig):
        retrieval.nearest_neighbours(features, [0], 5)


def test_retrieval_report_uses_the_same_queries_for_every_space():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 60)
    space = rng.normal(size=(60, 4))
    report = retrieval.retrieval_report({"a": space, "b": space.copy()}, labels, 10, max_queries=20)
    assert report["a"] == report["b"]


# ---------------------------------------------------------------------------- clustering

@pytest.mark.parametrize("seed", [0, 1])
def test_nmi_and_ari_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 400)
    clusters = np.where(rng.random(400) < 0.6, labels, rng.integers(0, 7, 400)) + 10  # other ids, noisy
    assert clustering.normalized_mutual_info(clusters, labels) == pytest.approx(
        normalized_mutual_info_score(labels, clusters), abs=1e-10)
    assert clustering.adjusted_rand_index(clusters, labels) == pytest.approx(
        adjusted_rand_score(labels, clusters), abs=1e-10)


def test_identical_partitions_score_one_and_kmeans_finds_separated_blobs():
    labels = np.repeat([0, 1, 2], 30)
    assert clustering.normalized_mutual_info(2 - labels, labels) == pytest.approx(1.0)
    assert clustering.adjusted_rand_index(2 - labels, labels) == pytest.approx(1.0)
    blobs = np.random.default_rng(0).normal(size=(90, 2)) * 0.1 + labels[:, None] * 10
    found = clustering.cluster_space(blobs, labels, 3, repeats=2)
    assert clustering.adjusted_rand_index(found["clusters"], labels) == pytest.approx(1.0)
    assert found["ari"] == pytest.approx(1.0) and found["ari_std"] == pytest.approx(0.0)


def test_cluster_space_averages_repeated_kmeans_like_scikit_learn():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    features = rng.normal(size=(200, 3)) + labels[:, None] * 1.2  # overlapping: k-means depends on its start
    calls = []
    result = clustering.cluster_space(features, labels, 4, seed=3, repeats=3, n_init=2,
                                      progress=lambda done, total: calls.append((done, total)))
    fits = [KMeans(4, n_init=2, random_state=3 + r).fit(features) for r in range(3)]
    aris = [adjusted_rand_score(labels, f.labels_) for f in fits]
    nmis = [normalized_mutual_info_score(labels, f.labels_) for f in fits]
    assert result["ari"] == pytest.approx(np.mean(aris)) and result["ari_std"] == pytest.approx(np.std(aris))
    assert result["nmi"] == pytest.approx(np.mean(nmis)) and result["nmi_std"] == pytest.approx(np.std(nmis))
    best = fits[int(np.argmin([f.inertia_ for f in fits]))]
    assert np.array_equal(result["clusters"], best.labels_)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    report = clustering.clustering_report({"a": features, "b": features}, labels, repeats=2, n_init=1)
    assert report["a"]["ari_runs"] == report["b"]["ari_runs"] and len(report["a"]["ari_runs"]) == 2
    with pytest.raises(InvalidConfig):
        clustering.cluster_space(features, labels, 4, repeats=0)


def test_cluster_mean_images():
    images = np.arange(4 * 4, dtype=np.float32).reshape(4, 1, 2, 2)
    means = clustering.cluster_mean_images(images, np.array([0, 1, 0, 1]), 3)
    assert np.allclose(means[0], (images[0] + images[2]) / 2) and np.allclose(means[2], 0)


# ---------------------------------------------------------------------------- transfer

def test_labelled_subset_has_every_class_and_probe_matches_scikit_learn(digits):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train_labels = digits.train_labels.numpy()
    subset = transfer.labelled_subset(train_labels, 30, seed=0)
    assert len(np.unique(subset)) == 30 and set(train_labels[subset]) == set(range(10))
    x = digits.train_images.numpy().reshape(len(train_labels), -1)
    test_x = digits.test_images.numpy().reshape(len(digits.test_images), -1)
    accuracy = transfer.probe_accuracy(x[subset], train_labels[subset], test_x, digits.test_labels.numpy())
    scaler = StandardScaler().fit(x[subset])
    reference = LogisticRegression(max_iter=500).fit(scaler.transform(x[subset]), train_labels[subset])
    expected = (reference.predict(scaler.transform(test_x)) == digits.test_labels.numpy()).mean()
    assert accuracy == pytest.approx(expected)


def test_probe_curve_and_feature_spaces(digits, digits_run):
    _, _, result = digits_run
    spaces = feature_spaces(result.model, digits.train_images, digits.test_images)
    assert spaces["codes"].shape == (len(digits.test_images), 8) and spaces["pca"].shape[1] == 8
    train = feature_spaces(result.model, digits.train_images, digits.train_images)
    curve = transfer.probe_curve(train, digits.train_labels.numpy(), spaces, digits.test_labels.numpy(), (20, 200))
    assert set(curve) == {"codes", "pca", "pixels"} and all(set(v) == {20, 200} for v in curve.values())
    assert all(0.3 < acc <= 1.0 for v in curve.values() for acc in v.values())


# ---------------------------------------------------------------------------- figures

def test_figures_build(digits):
    from aeviz.figures import applications as figs

    fig = figs.image_row(digits.test_images[:5].numpy(), ["a", "b", "c", "d", "e"], "t", highlight=[0, 1, 0, 0, 0])
    assert len(fig.data) == 5 and "d62728" in fig.layout.annotations[1].text
    is_anomaly = np.arange(20) % 4 == 0
    scores = {"autoencoder": np.linspace(0, 1, 20), "pca": np.linspace(1, 0, 20)}
    assert len(figs.score_histograms(scores, is_anomaly).data) == 4
    curves = {m: anomaly.roc_curve(s, is_anomaly)[:2] for m, s in scores.items()}
    roc = figs.roc_figure(curves, {m: anomaly.roc_auc(s, is_anomaly) for m, s in scores.items()})
    assert "AUC" in roc.data[0].name
    assert len(figs.metric_bars({"NMI": {"codes": 0.5, "pca": 0.4}}).data) == 2
    assert list(figs.probe_curve_figure({"codes": {100: 0.8, 10: 0.5}}).data[0].x) == [10, 100]
    bars = figs.held_out_auc_bars({"0": {"auc": 0.7, "pca_auc": 0.6}, "1": {"auc": 0.5, "pca_auc": 0.8}})
    assert [list(t.y) for t in bars.data] == [[0.7, 0.5], [0.6, 0.8]]


# ---------------------------------------------------------------------------- CLI and page

def test_apps_cli_prints_each_metric_with_baselines(digits_run, monkeypatch, capsys):
    from aeviz.cli import main

    root, run_id, _ = digits_run
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(root))
    code = main(["apps", "--run", run_id, "--json", "--anomaly-epochs", "2", "--sizes", "20,100",
                 "--queries", "100", "--cluster-images", "200", "--cluster-repeats", "2", "--anomalous", "9"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    for prefix in ("", "pca_", "pixel_"):
        for metric in ("precision_at_10", "nmi", "ari"):
            assert 0.0 <= out[prefix + metric] <= 1.0
        assert set(out[prefix + "probe_accuracy"]) == {"20", "100"}
        assert out[prefix + "nmi_std"] >= 0.0 and out[prefix + "ari_std"] >= 0.0
    assert 0.0 <= out["auc"] <= 1.0 and 0.0 <= out["pca_auc"] <= 1.0
    assert out["anomaly"]["anomalous_classes"] == [9]
    assert "training a fresh plain" in captured.err and "normal classes" in captured.err

    assert main(["apps", "--run", "no-such-run", "--json"]) == 2
    assert "no run named" in capsys.readouterr().err


def test_apps_cli_holds_each_class_out_by_default(digits_run, monkeypatch, capsys):
    from aeviz.cli import main

    root, run_id, _ = digits_run
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(root))
    code = main(["apps", "--run", run_id, "--json", "--anomaly-epochs", "1", "--sizes", "20",
                 "--queries", "50", "--cluster-images", "100", "--cluster-repeats", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    per_class = out["anomaly"]["per_class"]
    assert len(per_class) == 10 and out["anomaly"]["held_out_classes"] == list(range(10))
    assert out["auc"] == pytest.approx(np.mean([c["auc"] for c in per_class.values()]))
    assert out["pca_auc"] == pytest.approx(np.mean([c["pca_auc"] for c in per_class.values()]))
    assert "held out in turn" in captured.err
    assert main(["apps", "--run", run_id, "--json", "--anomalous", "0,1,2,3,4,5,6,7,8,9"]) == 2


def test_applications_page_every_section(digits_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    root, run_id, _ = digits_run
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(root))
    at = AppTest.from_file(str(ROOT / "app_pages" / "applications.py"), default_timeout=120)
    at.run()
    assert not at.exception and not at.error
    assert any("precision@10" in m.label for m in at.metric)
    at.button(key="apps_cluster_button").click().run()
    at.button(key="apps_probe_button").click().run()
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert any(label.startswith("accuracy, autoencoder codes") for label in labels)
    at.number_input(key="apps_epochs").set_value(3.0)
    at.button(key="apps_anomaly_train").click().run()
    at.session_state[f"apps_anomaly_trainer.{run_id}"].wait(60)
    at.run()
    at.run()
    assert not at.exception and not at.error
    assert any(m.label == "AUC, autoencoder" for m in at.metric)
    assert at.multiselect(key="apps_anomalous").value == [0]  # opens on the anomaly lesson's class
    worst = next(c.value for c in at.caption if "rebuilds worst" in c.value)
    trained = at.session_state[f"apps_anomaly_trainer.{run_id}"].result.report
    found = int(trained.is_anomaly[trained.most_anomalous(12)].sum())
    assert f"{found} of them belong to a held-out class" in worst

    at.number_input(key="apps_epochs").set_value(1.0)
    at.button(key="apps_sweep_train").click().run()
    sweep = at.session_state[f"apps_anomaly_sweep.{run_id}"]
    sweep.wait(120)
    at.run()
    at.run()
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    assert shown["Mean AUC, autoencoder"] == f"{sweep.source.mean_auc()['autoencoder']:.3f}"
    assert shown["Classes where the autoencoder wins"].endswith("of 10")


def test_applications_page_without_runs_says_how_to_get_one():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "applications.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert any("No saved runs" in i.value for i in at.info)
