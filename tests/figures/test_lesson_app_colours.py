"""The Applications page's charts agree on colours and names (issue 31, item 14): the autoencoder one colour,
PCA the vermilion it has on every page, and the anomaly charts name PCA the same way (it is scored by its
reconstruction error there, not by its codes)."""

from __future__ import annotations

import numpy as np

from aeviz.figures import applications as figs
from aeviz.figures.theme import PCA_COLOR


def colour_of(trace) -> str:
    if trace.type == "bar":
        return trace.marker.color
    return trace.line.color


def test_every_chart_gives_each_method_one_colour_and_name():
    rng = np.random.default_rng(0)
    is_anomaly = rng.random(200) < 0.2
    anomaly = [figs.roc_figure({"autoencoder": (np.linspace(0, 1, 5), np.linspace(0, 1, 5)),
                                "pca": (np.linspace(0, 1, 5), np.linspace(0, 1, 5))}, {"autoencoder": 0.8, "pca": 0.7}),
               figs.held_out_auc_bars({"0": {"auc": 0.8, "pca_auc": 0.7}, "1": {"auc": 0.6, "pca_auc": 0.65}})]
    spaces = [figs.metric_bars({"NMI": {"codes": 0.5, "pca": 0.4, "pixels": 0.45}}),
              figs.probe_curve_figure({"codes": {20: 0.4, 100: 0.6}, "pca": {20: 0.3, 100: 0.5},
                                       "pixels": {20: 0.35, 100: 0.55}})]
    seen: dict[str, set] = {}
    for fig in anomaly + spaces:
        for trace in fig.data:
            name = trace.name.split(" (AUC")[0]
            seen.setdefault(name, set()).add(colour_of(trace))
    assert all(len(colours) == 1 for colours in seen.values()), seen
    assert seen["PCA (same k)"] == {PCA_COLOR} == seen["PCA codes (same k)"]
    assert seen["autoencoder"] == seen["autoencoder codes"]
    # the anomaly charts name PCA one way, the score histograms too
    hist = figs.score_histograms({"autoencoder": rng.random(200), "pca": rng.random(200)}, is_anomaly)
    assert [a.text for a in hist.layout.annotations] == ["autoencoder", "PCA (same k)"]
    assert {t.marker.color for t in hist.data} == {figs.NORMAL_COLOUR, figs.HELD_OUT_COLOUR}
    assert not {"#2ca02c", "#d62728"} & {t.marker.color for t in hist.data}  # no red against green
