"""In a real browser: train a short digits run from the Train page, see it on the Reconstructions
page; Stop stops a run; a reload finds the run again. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re

from tests.e2e.conftest import screenshot, wait_for_app

LONG = 60_000  # ms: generous, the CI machine is small and shared


def set_number(page, label: str, value: float) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def open_train_page(page, base: str) -> None:
    page.goto(f"{base}/train")
    wait_for_app(page, LONG)
    page.get_by_text("Train an autoencoder").wait_for(timeout=LONG)


def click_train(page) -> None:
    page.get_by_role("button", name=re.compile(r"^(play_arrow)?\s*(Train|Queue this run)$")).click()


def test_short_run_trains_and_its_reconstructions_appear(app_server, page):
    open_train_page(page, app_server)
    set_number(page, "Epochs", 3)
    click_train(page)
    outcome = page.get_by_text(re.compile(r"^Finished: .*Saved as")).first  # a rerun can briefly show two
    outcome.wait_for(timeout=LONG)
    run_id = re.search(r"Saved as (\S+?)\.?$", outcome.inner_text()).group(1)
    wait_for_app(page)
    screenshot(page, "train-finished")
    assert page.locator('[data-testid="stException"]').count() == 0

    page.goto(f"{app_server}/reconstructions")
    wait_for_app(page, LONG)
    grid = page.locator('[data-testid="stPlotlyChart"]').first
    grid.wait_for(timeout=LONG)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_text("Best and worst reconstructed test images").wait_for(timeout=LONG)
    assert run_id[-6:] in main.inner_text() or run_id.split("-")[0] in main.inner_text()
    assert "PCA k=" in main.inner_text() or page.locator("text=PCA k=").count() > 0
    screenshot(page, "reconstructions-after-training")
    assert page.locator('[data-testid="stException"]').count() == 0


def test_reload_keeps_the_run_and_stop_stops_it(app_server, page):
    open_train_page(page, app_server)
    page.get_by_text("seconds", exact=True).click()
    wait_for_app(page)
    set_number(page, "Seconds", 120)
    click_train(page)
    stop = page.get_by_test_id("stMain").get_by_role("button", name=re.compile(r"Stop$"))
    stop.wait_for(timeout=LONG)
    page.get_by_text(re.compile(r"epoch [0-9.]+ · ")).first.wait_for(timeout=LONG)
    url = page.url
    assert "session=" in url and "job=" in url

    page.reload()  # the run goes on in the server; the page finds it from the URL
    wait_for_app(page, LONG)
    stop = page.get_by_test_id("stMain").get_by_role("button", name=re.compile(r"Stop$"))
    stop.wait_for(timeout=LONG)
    screenshot(page, "train-running")
    stop.click()
    page.get_by_text(re.compile(r"^Stopped: .*Saved as")).wait_for(timeout=LONG)
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stMain").get_by_role("button", name=re.compile(r"Stop$"))).to_have_count(0, timeout=LONG)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_first_picture_appears_while_the_run_trains(app_server, page):
    """Pressing Train draws the run's first snapshot (taken before the first step) without waiting for the
    figures' slower redraw period; how fast is the bench's first_picture row, not a test's business."""
    open_train_page(page, app_server)
    page.get_by_text("seconds", exact=True).click()
    wait_for_app(page)
    set_number(page, "Seconds", 120)
    click_train(page)
    page.wait_for_function("""() => [...document.querySelectorAll('.gtitle')]
                               .some(t => t.textContent.includes('their reconstructions at step'))""", timeout=LONG)
    stop = page.get_by_test_id("stMain").get_by_role("button", name=re.compile(r"Stop$"))
    assert stop.count() == 1  # the picture came while the run was still training
    screenshot(page, "train-first-picture")
    stop.click()
    page.get_by_text(re.compile(r"^Stopped: ")).wait_for(timeout=LONG)
    assert page.locator('[data-testid="stException"]').count() == 0
