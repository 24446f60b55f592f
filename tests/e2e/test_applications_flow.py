"""In a real browser: the Applications page on a run trained from the Train page (retrieval figures, then an
anomaly model trained live), and the Recommender page training I-AutoRec on MovieLens 100K from
AEVIZ_DATA_DIR. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import screenshot, wait_for_app
from tests.e2e.test_train_flow import LONG, click_train, open_train_page, set_number


def metric_value(page, label: str) -> float:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    metric.wait_for(timeout=LONG)
    return float(re.search(r"\d+\.\d+", metric.locator('[data-testid="stMetricValue"]').inner_text()).group(0))


def test_applications_page_on_a_trained_run(app_server, page):
    open_train_page(page, app_server)
    set_number(page, "Epochs", 5)
    click_train(page)
    page.get_by_text(re.compile(r"^Finished: .*Saved as")).first.wait_for(timeout=LONG)  # a rerun can briefly show two

    page.goto(f"{app_server}/applications")
    wait_for_app(page, LONG)
    page.get_by_role("button", name=re.compile(r"Train on the normal classes$")).click()
    auc = metric_value(page, "AUC, autoencoder")
    assert 0.0 <= auc <= 1.0
    screenshot(page, "applications-anomaly")
    page.get_by_role("tab", name="Retrieval").click()
    for space in ("autoencoder codes", "PCA codes (same k)", "raw pixels"):
        assert 0.0 < metric_value(page, f"precision@10, {space}") <= 1.0
    assert page.locator('[data-testid="stException"]').count() == 0


def test_recommender_trains_from_the_data_folder(app_server, page):
    page.goto(f"{app_server}/recommender")
    wait_for_app(page, LONG)
    if page.get_by_text("MovieLens", exact=False).count() and page.locator('[data-testid="stAlertContentError"]').count():
        pytest.skip("no MovieLens 100K here (set AEVIZ_DATA_DIR to ../shared/datasets)")
    epochs = page.get_by_role("slider").nth(1)  # hidden units k, then epochs
    epochs.focus()
    epochs.press("Home")       # 1 epoch
    epochs.press("ArrowRight")  # 2 epochs
    page.get_by_role("button", name=re.compile(r"Train I-AutoRec$")).click()
    rmse = metric_value(page, "I-AutoRec test RMSE")
    assert 0.5 < rmse < 1.5  # stars: two epochs are enough to be near the baselines, not to beat them
    page.get_by_text("Recommended (not yet rated)").wait_for(timeout=LONG)
    screenshot(page, "recommender-trained")
    assert page.locator('[data-testid="stException"]').count() == 0
