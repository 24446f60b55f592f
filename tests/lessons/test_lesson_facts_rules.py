"""One rule per fact (issue 31, item 6): a VAE's collapsed dimensions, active and dormant units, beating PCA
and being far from converged are each decided by one function of aeviz.facts with one threshold. The
lesson check, the health note, the saved metrics, the figures and the report must agree on a crafted run
whose numbers sit on both sides of each threshold."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aeviz import facts
from aeviz.errors import InvalidConfig
from aeviz.analysis.health import run_health
from aeviz.lessons import get_lesson, parse_lesson
from aeviz.lessons.metrics import MetricInput, collapsed_dimensions, mean_active_fraction
from aeviz.runs.store import RunInfo
from aeviz.variants import build_model

DIGITS_SHAPE = (1, 8, 8)
T = facts.COLLAPSED_KL_NATS
# KL per dimension on both sides of the threshold, close to it: two rules 0.01 and 0.05 apart disagree here.
KL = np.array([0.2 * T, 0.9 * T, 1.1 * T, 3 * T, 4.9 * T, 5.5 * T, 50 * T, 80 * T])


def crafted_vae(kl: np.ndarray):
    """A VAE whose posterior is N(μ_j, 1) with the same μ for every image, so dimension j's KL is μ_j²/2."""
    model = build_model("vae", DIGITS_SHAPE, len(kl), {"hidden": [16]})
    last = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor(np.concatenate([np.sqrt(2 * kl), np.zeros(len(kl))]), dtype=torch.float32))
    return model.eval()


def test_the_lesson_the_saved_metrics_the_health_note_and_the_figure_count_the_same_collapsed_dimensions(digits):
    from aeviz.figures.information import vae_kl_bars
    from aeviz.analysis.information import vae_kl_per_dimension

    model = crafted_vae(KL)
    images = digits.test_images[:64]
    measured = vae_kl_per_dimension(model, images)
    assert measured == pytest.approx(KL, rel=1e-4)
    collapsed = facts.collapsed_dimensions(measured)
    assert collapsed == [0, 1]

    run = SimpleNamespace(model=model, config=SimpleNamespace(k=len(KL)))
    lesson = collapsed_dimensions(MetricInput(run, SimpleNamespace(test_images=images), {}))
    assert lesson.value == len(collapsed)
    assert "0, 1" in lesson.note and f"{T:g} nats" in lesson.note

    stored = model.extra_metrics(images)  # what a saved run's metrics say, and the health note reads
    assert stored["active_dims"] == len(KL) - len(collapsed) == facts.used_dimensions(measured)

    title = vae_kl_bars(measured).layout.title.text
    assert f"{len(KL) - len(collapsed)} of {len(KL)} used" in title and f"{T:g} nats" in title

    # a run with most dimensions collapsed: the health note quotes the same count and the same rule
    mostly = np.array([0.5 * T] * 6 + [10 * T] * 2)
    stored = crafted_vae(mostly).extra_metrics(images)
    info = RunInfo("run-x", path=None, config={"variant": "vae", "k": 8, "dataset": "digits"},
                   metrics={"status": "completed", "pca_test_mse": 0.02, "test_mse": 0.01, **stored})
    [message] = run_health(info, [0.06, 0.04, 0.03])
    assert f"Only {stored['active_dims']} of the 8" in message and facts.collapse_rule_words() in message
    assert stored["active_dims"] == 2


def test_lesson_words_quote_the_rule_and_a_lesson_cannot_set_a_threshold_of_its_own():
    vae = get_lesson("vae-kl")
    assert f"below {T:g} nats" in vae.goal.text and "{" not in vae.goal.text
    assert not set(vae.goal.options) & {"kl_below", "threshold"}
    sparse = get_lesson("sparse-l1")
    assert any(f"above {facts.ACTIVE_THRESHOLD:g}" in hint for hint in sparse.hints)
    good = {"id": "x", "title": "t", "concepts": ["c"], "page": "train.py", "question": "q", "hints": ["h"],
            "answer": "a", "goal": {"metric": "collapsed_dimensions", "comparison": ">=", "target": 1, "text": "t"},
            "run": {"variant": "vae", "k": 8, "budget": {"digits": {"epochs": 2}}}}
    with pytest.raises(InvalidConfig, match="one rule per fact"):
        parse_lesson({**good, "goal": {**good["goal"], "options": {"kl_below": 0.05}}})
    with pytest.raises(InvalidConfig, match="collapsed_kl_nats"):
        parse_lesson({**good, "hints": ["below {nonsense} nats"]})


def test_active_and_dormant_units_the_saved_metrics_the_sparsity_page_and_the_lesson_agree(digits):
    from aeviz.analysis.sparsity import DEFAULT_THRESHOLD, activation_stats

    assert DEFAULT_THRESHOLD == facts.ACTIVE_THRESHOLD
    model = build_model("sparse_l1", DIGITS_SHAPE, 6, {"hidden": []}).eval()
    images = digits.test_images[:128]
    codes = model.encode(images).detach()
    # codes between the old 1e-6 rule and the 0.05 rule: active by one, not by the other
    scale = torch.tensor([1.0, 1.0, 0.5 * facts.ACTIVE_THRESHOLD / max(float(codes[:, 2].abs().max()), 1e-9),
                          0.0, 1.0, 1.0])
    with torch.no_grad():
        last = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.weight.mul_(scale[:, None])
        last.bias.mul_(scale)
    stats = activation_stats(model, images)
    stored = model.extra_metrics(images)
    assert stored["dormant_units"] == int(stats.dormant.sum()) >= 2  # units 2 and 3
    assert stored["active_units_per_image"] == pytest.approx(float(stats.active_per_image.mean()))
    run = SimpleNamespace(model=model, config=SimpleNamespace(k=6))
    lesson = mean_active_fraction(MetricInput(run, SimpleNamespace(test_images=images), {}))
    assert lesson.numbers["dormant_units"] == stored["dormant_units"]
    assert lesson.value == pytest.approx(stats.mean_active_fraction)


def test_beating_pca_is_one_rule_in_the_frontier_the_report_and_the_train_page():
    from aeviz.analysis.comparison import FrontierPoint

    for mse, pca, beats in [(0.01, 0.02, True), (0.02, 0.02, False), (0.03, 0.02, False)]:
        assert facts.beats_pca(mse, pca) is beats
        assert FrontierPoint("r", "r", "plain", 4, mse, pca).beats_pca is beats
        assert facts.pca_verdict(mse, pca) == ("beats" if beats else "does not beat")


def test_far_from_converged_is_one_rule_in_the_health_note():
    curve = [0.06, 0.04, 0.03]
    for mse in (0.039, 0.04, 0.041):
        info = RunInfo("run-x", path=None, config={"variant": "plain", "k": 2, "dataset": "digits"},
                       metrics={"status": "completed", "pca_test_mse": 0.03, "test_mse": mse})
        noted = any("Far from converged" in m for m in run_health(info, curve))
        assert noted is facts.far_from_converged(mse, curve) is (mse > 0.04)


def test_no_page_or_library_module_keeps_a_threshold_of_its_own():
    """The thresholds' old homes stay empty: a second copy of a rule would let two pages disagree again."""
    from tests.conftest import ROOT

    sources = {p: p.read_text() for folder in ("aeviz", "app_pages", "ui") for p in (ROOT / folder).rglob("*.py")
               if p.name != "facts.py"}
    for path, text in sources.items():
        for stale in ("ACTIVE_KL", 'get("kl_below"', 'get("threshold"', "used_threshold", "threshold=1e-6",
                      "threshold=0.0)"):
            assert stale not in text, (path, stale)
    assert math.isclose(facts.COLLAPSED_KL_NATS, 0.01)
