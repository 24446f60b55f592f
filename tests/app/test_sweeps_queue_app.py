"""The Sweeps page says what a sweep costs in all before it starts, and its sweep takes turns with the
server's other trainings: with every training slot taken, its first point waits (it once trained beside
the job queue at once, however many students started sweeps), on the Ray executor too."""

import time

from streamlit.testing.v1 import AppTest

from aeviz.jobs.manager import default_manager
from aeviz.training.config import TrainConfig
from tests.conftest import ROOT, wait_until

TIMEOUT = 90



def test_the_sweep_page_states_the_cost_and_its_sweep_waits_for_a_training_slot(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_SWEEPS_DIR", str(tmp_path))
    manager = default_manager()
    fillers = [manager.submit(TrainConfig(dataset="digits", variant="linear", k=4, epochs=10_000.0, seed=400 + i),
                              owner="sweep-filler") for i in range(manager.max_running)]
    at = AppTest.from_file(str(ROOT / "app_pages" / "sweeps.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    at.session_state["aeviz_session"] = "sweeper"
    at.run()
    at.number_input(key="sweep_budget.epochs").set_value(1000.0).run()
    assert not at.exception
    assert any("epochs each = " in c.value and "epochs of training in all" in c.value for c in at.caption)
    at.button(key="sweep_start").click().run()
    assert not at.exception
    runner = at.session_state["sweeps_runner"]
    try:
        wait_until(lambda: "waiting for a free training slot" in runner.progress.text)
        time.sleep(1.0)
        assert runner.snapshot()[1] is None  # no point trains beside the jobs
        for view in fillers:
            manager.stop(view.job_id)
        wait_until(lambda: runner.snapshot()[1] is not None)  # its turn came
    finally:
        runner.stop()
        for view in fillers:
            manager.stop(view.job_id)
        assert runner.wait(60)


class StandInRay:
    """Stands in for the Ray executor (no cluster): records the points it is given; ends none of them."""

    name, points_at_once = "ray", None

    def __init__(self, address=None, num_workers=None):
        self.startup_seconds, self.batches = 0.0, []

    def start(self, spec) -> float:
        return 0.0

    def run(self, sweep, points, stop):
        self.batches.append(points)
        stop.wait()
        return iter(())


def test_a_ray_sweep_from_the_page_waits_for_a_training_slot_too(digits, tmp_path, monkeypatch):
    import aeviz.cluster.sweep_executor as ray_sweeps

    monkeypatch.setattr(ray_sweeps, "RayExecutor", StandInRay)
    monkeypatch.setenv("AEVIZ_SWEEPS_DIR", str(tmp_path))
    monkeypatch.delenv("AEVIZ_RAY_ADDRESS", raising=False)
    monkeypatch.setenv("AEVIZ_RAY_LOCAL", "1")
    manager = default_manager()
    fillers = [manager.hold_slot("sweep-filler", f"slot {i}") for i in range(manager.max_running)]
    at = AppTest.from_file(str(ROOT / "app_pages" / "sweeps.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "digits"
    at.session_state["aeviz_session"] = "ray-sweeper"
    at.run()
    at.radio(key="sweep_executor").set_value("ray").run()
    assert not at.exception
    assert any("Its points take turns with the class's runs" in c.value for c in at.caption)
    at.button(key="sweep_start").click().run()
    assert not at.exception
    runner = at.session_state["sweeps_runner"]
    try:
        wait_until(lambda: "waiting for a free training slot" in runner.progress.text)
        assert runner.executor.name == "ray" and runner.executor.inner.batches == []  # nothing sent to Ray
    finally:
        runner.stop()
        for hold in fillers:
            manager.release(hold)
        assert runner.wait(60)
