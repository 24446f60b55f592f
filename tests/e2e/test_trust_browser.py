"""Issue 34 through the app in Chromium: a dataset file name full of Markdown is shown as plain text (no link,
no image fetched), an upload is listed only in the session that made it, and the Sweeps page has no Ray
address to type and offers Ray only where the server does. Screenshots: artifacts/screenshots/trust-*.png."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.e2e.conftest import running_app, screenshot, wait_for_app

HOSTILE = "![pic](https:evil.example_a.png) [click](javascript:alert(1)) <img src=x> :red[big].npz"


def npz(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=rng.integers(0, 256, (60, 8, 8), dtype=np.uint8), labels=np.arange(60) % 3)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def trust_app(tmp_path_factory, browser_or_skip):
    cache = tmp_path_factory.mktemp("trust-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AEVIZ_CACHE_DIR", str(cache))
        from aeviz.data.user import import_file

        shared = import_file(npz(0), HOSTILE, 8)  # the teacher's (command line): every session lists it
    env = {"AEVIZ_CACHE_DIR": str(cache), "AEVIZ_RAY_ADDRESS": "", "AEVIZ_RAY_LOCAL": ""}
    with running_app(tmp_path_factory.mktemp("trust-runs"), tmp_path_factory.mktemp("trust-log") / "app.log",
                     env) as url:
        yield url, shared


def choose_dataset(page, text: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=text).click()
    wait_for_app(page)


def test_a_hostile_file_name_is_plain_text_in_the_sidebar(trust_app, browser_or_skip):
    url, shared = trust_app
    context = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    wait_for_app(page, 60_000)
    choose_dataset(page, f"{shared.file_name} (8x8, shared)")
    screenshot(page, "trust-hostile-file-name")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator("img[src*='evil'], img[src='x'], a[href*='evil'], a[href^='javascript']").count() == 0
    assert f"Source: shared file {shared.file_name}" in sidebar.inner_text()
    assert not [r for r in requests if "evil" in r]
    context.close()


def test_an_upload_is_listed_only_in_its_session(trust_app, browser_or_skip):
    url, _ = trust_app
    alice = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    alice.goto(url)
    wait_for_app(alice, 60_000)
    choose_dataset(alice, "Your own…")
    alice.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(
        {"name": "alice-private.npz", "mimeType": "application/octet-stream", "buffer": npz(1)})
    wait_for_app(alice)
    alice.get_by_role("button", name="Use this file").click()
    wait_for_app(alice)
    alice.locator('[data-testid="stSidebar"]').get_by_role("button", name="Delete this dataset").wait_for(timeout=60_000)
    screenshot(alice, "trust-own-upload-alice")

    bob = browser_or_skip.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # another browser
    bob.goto(url)
    wait_for_app(bob, 60_000)
    bob.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    options = bob.get_by_role("option").all_inner_texts()
    screenshot(bob, "trust-own-upload-bob")
    assert options and not any("alice-private" in option for option in options)

    alice.locator('[data-testid="stSidebar"]').get_by_role("button", name="Delete this dataset").click()
    wait_for_app(alice)
    alice.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    assert not any("alice-private" in o for o in alice.get_by_role("option").all_inner_texts())
    alice.context.close()
    bob.context.close()


def test_the_sweeps_page_has_no_ray_address(trust_app, page):
    url, _ = trust_app
    page.goto(f"{url}/sweeps")
    wait_for_app(page, 60_000)
    screenshot(page, "trust-sweeps-executors")
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_text("Ray address").count() == 0
    assert main.locator('[data-testid="stRadio"]').filter(has_text="Executor").get_by_text("ray", exact=True).count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0


def test_an_imported_run_is_labelled_and_measured(trust_app, browser_or_skip, tmp_path, digits):
    from aeviz.training.config import TrainConfig
    from aeviz.runs.store import RunStore
    from aeviz.variants import get_variant
    from tests.runs.test_trust_imports import forged

    url, _ = trust_app
    defaults = get_variant("plain").training_defaults()
    config = TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, seed=4, params={"hidden": "16"},
                         lr=defaults["lr"], batch_size=defaults["batch_size"])
    archive = forged(RunStore(tmp_path / "source"), config, digits)  # 0.02 epochs, claims 1 epoch and completed
    page = browser_or_skip.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    page.goto(f"{url}/reconstructions")
    wait_for_app(page, 60_000)
    page.get_by_text("Import or download a run").click()
    page.locator('[data-testid="stMain"] input[type="file"]').set_input_files(
        {"name": "forged.zip", "mimeType": "application/zip", "buffer": archive})
    wait_for_app(page)
    page.get_by_role("button", name="Import as a new run").click()
    wait_for_app(page, 60_000)
    page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(state="visible", timeout=60_000)
    message = page.locator('[data-testid="stAlertContentSuccess"]').inner_text(timeout=60_000)
    screenshot(page, "trust-imported-run")
    assert "stopped after 0.083 epochs, before its budget ran out" in page.locator('[data-testid="stMain"]').inner_text()
    assert "imported" in message and "stopped after 0.0" in message and "never offered" in message
    assert "· imported" in page.locator('[data-testid="stMain"]').inner_text()
    page.context.close()
