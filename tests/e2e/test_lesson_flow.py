"""In a real browser, on a fresh server: open a lesson's link, follow its setup to the Train page (which
opens with the lesson's settings), train, and see the lesson's check pass."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import running_app, screenshot, wait_for_app

LONG = 240_000  # ms: twenty digits epochs on a small shared machine


@pytest.fixture
def fresh_server(tmp_path, browser_or_skip):
    with running_app(tmp_path / "runs", tmp_path / "streamlit.log") as url:
        yield url


def test_a_lesson_link_sets_up_training_and_the_check_passes(fresh_server, page):
    page.goto(f"{fresh_server}/lessons?lesson=bottleneck")
    wait_for_app(page, LONG)
    page.get_by_text("The bottleneck, and PCA as the bar to beat").first.wait_for(timeout=LONG)
    page.get_by_text("Set up: the Train page with this lesson's settings").click()
    wait_for_app(page, LONG)
    page.get_by_text("Train an autoencoder").wait_for(timeout=LONG)
    assert "variant=plain" in page.url and "k=8" in page.url and "lesson=bottleneck" in page.url
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.wait_for(timeout=LONG)
    assert epochs.input_value() == "20"  # shown as typed (format %g)

    page.get_by_role("button", name=re.compile(r"^(play_arrow)?\s*Train$")).click()
    page.get_by_text(re.compile(r"^Finished: .*Saved as")).wait_for(timeout=LONG)
    screenshot(page, "lesson-trained")

    # back to the lesson in the same browser session (its id is in the URL): the run just trained is the
    # student's own, chosen for the check (a run this session did not train never is: issue 31, item 5)
    session = re.search(r"[?&]session=([^&]+)", page.url).group(1)
    page.goto(f"{fresh_server}/lessons?lesson=bottleneck&session={session}")
    wait_for_app(page, LONG)
    page.get_by_role("button", name=re.compile(r"Check my run")).click()
    page.get_by_text(re.compile(r"^passed: error_ratio_to_pca")).wait_for(timeout=LONG)
    screenshot(page, "lesson-passed")
    assert page.locator('[data-testid="stException"]').count() == 0
