"""Features for another task (transfer): a linear probe, i.e. logistic regression trained on a few
labelled images' features and tested on the test set. Codes learned without labels help most when
labels are scarce; with many labels, raw pixels catch up.
"""

from __future__ import annotations

import numpy as np

from aeviz.errors import InvalidConfig

DEFAULT_SIZES = (20, 100, 500, 2000)


def labelled_subset(labels, size: int, seed: int = 0) -> np.ndarray:
    """`size` train indices, drawn at random but with every class present where size allows."""
    labels = np.asarray(labels)
    if size < 2 or size > len(labels):
        raise InvalidConfig(f"the labelled-set size must be between 2 and {len(labels)} (got {size})")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    first = [rng.choice(np.nonzero(labels == c)[0]) for c in classes][:size]
    rest = np.setdiff1d(np.arange(len(labels)), first)
    chosen = np.concatenate([first, rng.choice(rest, size - len(first), replace=False)])
    return np.sort(chosen.astype(np.int64))


def probe_accuracy(train_features: np.ndarray, train_labels, test_features: np.ndarray, test_labels,
                   max_iter: int = 500) -> float:
    """Test accuracy of an L2-regularised logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels = np.asarray(train_labels)
    if len(np.unique(train_labels)) < 2:
        raise InvalidConfig("a linear probe needs labelled examples of at least two classes")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(np.asarray(train_features, np.float64), train_labels)
    return float((probe.predict(np.asarray(test_features, np.float64)) == np.asarray(test_labels)).mean())


def probe_curve(train_spaces: dict[str, np.ndarray], train_labels, test_spaces: dict[str, np.ndarray],
                test_labels, sizes=DEFAULT_SIZES, seed: int = 0) -> dict[str, dict[int, float]]:
    """{space: {labelled-set size: test accuracy}}; every space sees the same labelled images."""
    train_labels = np.asarray(train_labels)
    sizes = sorted({min(int(s), len(train_labels)) for s in sizes})
    out: dict[str, dict[int, float]] = {name: {} for name in train_spaces}
    for size in sizes:
        subset = labelled_subset(train_labels, size, seed)
        for name, features in train_spaces.items():
            out[name][size] = probe_accuracy(features[subset], train_labels[subset], test_spaces[name], test_labels)
    return out
