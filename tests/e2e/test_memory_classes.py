"""Class after class on one server (localhost only, bounded, opt-in): three classes of sessions, one after
another, each session training its own short digits run; the server's memory (with its children) is taken
once it is warm and idle, after each class has left, and after the sessions were forgotten (the 2-minute
grace, then a visitor). It must not grow from one class to the next, and must come back near its idle level.
    AEVIZ_LOADTEST=1 .venv/bin/python -m pytest -q -s tests/e2e/test_memory_classes.py
With AEVIZ_LOADTEST_GLIBC_DEFAULTS=1 the server runs with the C library's allocator defaults instead of those
`aeviz serve` sets (aeviz.serving.allocator), to compare. Figures: artifacts/memory_classes.json.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from aeviz.server_settings import SESSION_GRACE_SECONDS
from tests.conftest import ROOT, wait_until
from tests.e2e.conftest import running_app_process, wait_for_app
from tests.e2e.test_load import ServerMemory, progress

SESSIONS = int(os.environ.get("AEVIZ_LOADTEST_SESSIONS", "8"))
CLASSES, EPOCHS = 3, 40
LONG = 240_000  # ms
TRAIN_BUTTON = re.compile(r"^(play_arrow)?\s*(Train|Queue this run|Follow this run)$")
FINISHED = re.compile(r"^Finished: .*Saved as")
DEFAULTS = os.environ.get("AEVIZ_LOADTEST_GLIBC_DEFAULTS") == "1"

pytestmark = pytest.mark.skipif(os.environ.get("AEVIZ_LOADTEST") != "1",
                                reason="three classes take minutes on a small machine: AEVIZ_LOADTEST=1 runs it")


def link(seed: int) -> str:
    return f"/train?dataset=digits&variant=plain&k=8&epochs={EPOCHS}&seed={seed}"


def settled(memory: ServerMemory, seconds: float = 5.0) -> int:
    """The server's memory once `seconds` more of samples have come in (the last sample)."""
    count = len(memory.samples)
    wait_until(lambda: len(memory.samples) >= count + 2 * seconds, timeout=60, what="memory samples")
    return memory.samples[-1]


def test_class_after_class_the_servers_memory_stays_put(tmp_path, browser_or_skip):
    log = ROOT / "artifacts" / "memory_classes_streamlit.log"
    log.parent.mkdir(exist_ok=True)
    mb = lambda value: round(value / 2**20)  # noqa: E731
    with running_app_process(tmp_path, log, serve_allocator=not DEFAULTS) as (base, process), \
            ServerMemory(process.pid) as memory:
        warm = browser_or_skip.new_context()
        page = warm.new_page()
        for path in ("/sweeps", "/lessons?lesson=anomaly", link(seed=0)):  # every page the classes draw, once
            page.goto(base + path)
            wait_for_app(page, LONG)
        page.get_by_role("button", name=TRAIN_BUTTON).wait_for(timeout=LONG)
        warm.close()
        idle = settled(memory)
        since_idle = len(memory.samples)
        after_class = []
        for number in range(CLASSES):
            contexts = [browser_or_skip.new_context() for _ in range(SESSIONS)]
            try:
                pages = [context.new_page() for context in contexts]
                for seat, page in enumerate(pages):
                    page.goto(base + link(seed=1 + number * 100 + seat), wait_until="commit")
                for page in pages:
                    wait_for_app(page, LONG)
                    page.get_by_role("button", name=TRAIN_BUTTON).click()
                for page in pages:
                    page.get_by_text(FINISHED).first.wait_for(timeout=LONG * 3)
            finally:
                for context in contexts:
                    context.close()
            after_class.append(settled(memory))
            progress(f"class {number + 1} of {SESSIONS} has left: {mb(after_class[-1])} MB (idle {mb(idle)} MB)")
        # A session gone is forgotten once its last tab has been closed for the grace period, at the next page a
        # visitor draws: wait it out, then one visit.
        time.sleep(SESSION_GRACE_SECONDS + 5)  # a set period, not a wait for a condition
        visitor = browser_or_skip.new_context()
        try:
            page = visitor.new_page()
            page.goto(base + "/")
            wait_for_app(page, LONG)
        finally:
            visitor.close()
        forgotten = settled(memory, 10.0)
        peak = max(memory.samples[since_idle:])  # while the classes trained
    figures = {"sessions_per_class": SESSIONS, "classes": CLASSES, "epochs_each": EPOCHS, "cpu_count": os.cpu_count(),
               "allocator": "glibc defaults" if DEFAULTS else "aeviz serve's", "server_memory_idle_mb": mb(idle),
               "after_each_class_mb": [mb(value) for value in after_class], "peak_mb": mb(peak),
               "after_forgotten_mb": mb(forgotten)}
    print("\nmemory, class after class:", json.dumps(figures))
    (ROOT / "artifacts" / ("memory_classes_defaults.json" if DEFAULTS else "memory_classes.json")).write_text(
        json.dumps(figures, indent=1))
    if DEFAULTS:
        return  # the comparison's figures only
    # class after class it does not grow: the third class leaves it within 5% of idle of where the first did
    assert after_class[-1] - after_class[0] < 0.05 * idle, figures
    # and once the sessions are forgotten it is back near its idle level (within 10%)
    assert forgotten - idle < 0.10 * idle, figures
