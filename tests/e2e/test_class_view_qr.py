"""A class joins by the Class view's QR code: the app started by `aeviz serve --address 0.0.0.0`, the Class
view opened at projector size (1280x720, projector mode on), and the code read from the screenshot by OpenCV
back to the address `aeviz serve` gives students. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

import os
import subprocess
import sys

from aeviz.serving import addresses
from tests.conftest import ROOT
from tests.e2e.conftest import free_port, screenshot, wait_for_app, wait_healthy
from tests.e2e.test_screenshots import CHARTS_DRAWN
from tests.qr_decode import decode_image, decode_png

PROJECTOR = (1280, 720)
LIMIT_MS = 120_000  # generous: a 2-core machine under load


def test_the_class_view_code_scans_to_the_served_address(browser_or_skip, tmp_path):
    import cv2
    import numpy as np

    port = free_port()
    # what aeviz serve gives students (on a machine with no network address, the teacher's own)
    served = (addresses.student_urls("0.0.0.0", port) or [f"http://127.0.0.1:{port}"])[0]
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path / "runs"), "AEVIZ_OFFLINE": "1", "AEVIZ_UMAP_WARMUP": "0"}
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "aeviz", "serve", "--address", "0.0.0.0", "--port",
                                    str(port), "--runs-dir", str(tmp_path / "runs")],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    context = browser_or_skip.new_context(viewport={"width": PROJECTOR[0], "height": PROJECTOR[1]})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=LIMIT_MS / 1000)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/class_view")  # the teacher's own machine
        wait_for_app(page, LIMIT_MS)
        page.locator('[data-testid="stSidebar"]').get_by_text("Projector mode").click()
        wait_for_app(page, LIMIT_MS)
        code = page.locator('img[data-testid="class-qr"]')
        code.wait_for(timeout=LIMIT_MS)
        page.wait_for_function("() => document.querySelector('img[data-testid=\"class-qr\"]').complete")
        shot = page.screenshot(path=str(screenshot_path("projector-class_view-qr")))
        box = code.bounding_box()
        assert box["width"] >= 300 and box["y"] + box["height"] <= PROJECTOR[1]  # large, and on the first screen
        assert decode_png(shot) == served
        assert page.get_by_text(served).count() >= 1  # the address in words beside it
        # The lesson being taught: its link, read from the screen the same way.
        page.locator('[data-testid="stSelectbox"]').filter(has_text="The code opens").click()
        page.get_by_role("option", name="the lesson: A linear autoencoder learns PCA").click()
        lesson = addresses.lesson_url(served, "linear-pca")
        page.locator(f'img[data-testid="class-qr"][alt="QR code of {lesson}"]').wait_for(timeout=LIMIT_MS)
        wait_for_app(page, LIMIT_MS)
        assert decode_png(page.screenshot(path=str(screenshot_path("projector-class_view-lesson-qr")))) == lesson
        # The whole page (the viewport grown to it: Streamlit scrolls inside its main container), code and board.
        page.wait_for_function(CHARTS_DRAWN, timeout=LIMIT_MS)
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": PROJECTOR[0], "height": int(min(max(height, PROJECTOR[1]), 12_000))})
        page.wait_for_function(CHARTS_DRAWN, timeout=LIMIT_MS)
        full = cv2.imread(str(screenshot(page, "projector-class_view-full")), cv2.IMREAD_GRAYSCALE)
        assert isinstance(full, np.ndarray) and decode_image(full) == lesson
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def screenshot_path(name: str):
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
