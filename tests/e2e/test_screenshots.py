"""Full-height screenshots of every page with trained runs, at a laptop's size and in projector mode
(1280x720, the sidebar's projector toggle on), and of every lesson in projector mode, into
artifacts/screenshots/ (not committed) to be looked at.

Opt-in (AEVIZ_SCREENSHOTS=1): it trains a handful of digits runs and opens every page twice, minutes of
CPU on a small machine.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import running_app, screenshot, wait_for_app
from tests.e2e.test_pages_open import page_paths

pytestmark = pytest.mark.skipif(os.environ.get("AEVIZ_SCREENSHOTS") != "1",
                                reason="screenshots take minutes: AEVIZ_SCREENSHOTS=1 takes them")

# (variant, k, settings): one run for each page's subject, on the 8x8 digits
RUNS = [("plain", 8, {}), ("linear", 8, {}), ("sparse_l1", 32, {}), ("ksparse", 32, {}), ("vae", 2, {}),
        ("overcomplete", 128, {"regularizer": "none"}), ("overcomplete", 128, {"regularizer": "noise"}),
        ("denoising", 8, {}), ("contractive", 16, {})]
SIZES = {"normal": (1400, 1000), "projector": (1280, 720)}  # projector: a classroom beamer's 720p
# A page is ready to shoot when no skeleton placeholder is left and every plotly chart has drawn its SVG
# (a fixed pause raced the charts' drawing under load and left blank boxes in the shots).
CHARTS_DRAWN = """() => !document.querySelector('[data-testid="stSkeleton"]')
  && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(chart => chart.querySelector('.main-svg'))"""


@pytest.fixture(scope="module")
def trained_app(tmp_path_factory, browser_or_skip):
    from aeviz.training.config import TrainConfig
    from aeviz.data.datasets import load_dataset
    from aeviz.runs.store import RunStore
    from aeviz.training.trainer import Trainer
    from aeviz.variants import get_variant

    runs = tmp_path_factory.mktemp("screenshot-runs")
    digits, store = load_dataset("digits"), RunStore(runs)
    for variant, k, settings in RUNS:
        defaults = get_variant(variant).training_defaults()  # as the Train page starts: the variant's lr, batch
        trainer = Trainer(TrainConfig(dataset="digits", variant=variant, k=k, epochs=60, params=settings,
                                      lr=defaults["lr"], batch_size=defaults["batch_size"], device="cpu"),
                          digits, store=store)
        for _ in trainer.run():
            pass
        assert trainer.finished.saved_run_id, trainer.finished.message
    with running_app(runs, tmp_path_factory.mktemp("screenshot-log") / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", page_paths())
def test_screenshot_every_page(trained_app, browser_or_skip, name, size):
    width, height = SIZES[size]
    context = browser_or_skip.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(trained_app + ("/" if name == "home" else f"/{name}"))
        wait_for_app(page, 120_000)
        if size == "projector":
            page.locator('[data-testid="stSidebar"]').get_by_text("Projector mode").click()
            wait_for_app(page, 120_000)
        shoot_full_height(page, width, height, f"{size}-{name}")
    finally:
        context.close()


def shoot_full_height(page, width: int, height: int, name: str) -> None:
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)  # the content's full height is known once drawn
    # Streamlit scrolls inside its main container, so a full-page shot would stop at the viewport: grow
    # the viewport to the content's height first (capped), then shoot.
    content = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                        return m ? m.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": width, "height": int(min(max(content, height), 12_000))})
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
    path = screenshot(page, name)
    assert path.stat().st_size > 10_000
    assert page.locator('[data-testid="stException"]').count() == 0


def lesson_ids() -> list[str]:
    from aeviz.lessons import load_lessons

    return [lesson.id for lesson in load_lessons()]


@pytest.mark.parametrize("lesson", lesson_ids())
def test_screenshot_every_lesson_in_projector_mode(trained_app, browser_or_skip, lesson):
    """Each lesson as a class sees it from its link, projector mode on from the tab's address (?projector=1)."""
    width, height = SIZES["projector"]
    context = browser_or_skip.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{trained_app}/lessons?lesson={lesson}&projector=1")
        wait_for_app(page, 120_000)
        page.get_by_text("Check my run").first.wait_for(timeout=120_000)
        shoot_full_height(page, width, height, f"lesson-{lesson}")
    finally:
        context.close()


def test_screenshot_the_train_page_after_a_run_in_projector_mode(trained_app, browser_or_skip):
    """The live charts a class watches, at projector size: status, reconstructions, loss and test error."""
    from tests.e2e.test_train_flow import click_train, open_train_page, set_number

    width, height = SIZES["projector"]
    context = browser_or_skip.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        open_train_page(page, trained_app)
        page.locator('[data-testid="stSidebar"]').get_by_text("Projector mode").click()
        wait_for_app(page, 120_000)
        set_number(page, "Epochs", 20)
        click_train(page)
        page.get_by_text(re.compile(r"^Finished: .*Saved as")).wait_for(timeout=120_000)
        wait_for_app(page, 120_000)
        page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
        content = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                            return m ? m.scrollHeight : document.body.scrollHeight; }""")
        page.set_viewport_size({"width": width, "height": int(min(max(content, height), 12_000))})
        page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
        assert screenshot(page, "projector-train-finished").stat().st_size > 10_000
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
