"""The lessons and reuse from the command line, run as a teacher runs them."""

from __future__ import annotations

from tests.cli.test_cli import aeviz, last_json

SMALL_RUN = ("train", "--dataset", "digits", "--variant", "plain", "--k", "3", "--epochs", "2", "--set", "hidden=16",
             "--device", "cpu")


def test_train_reuse_returns_the_saved_run_without_training(tmp_path):
    env = {"AEVIZ_RUNS_DIR": str(tmp_path)}
    first = aeviz(*SMALL_RUN, "--reuse", env=env)
    assert first.returncode == 0, first.stderr
    trained = last_json(first.stdout)
    assert "training on" in first.stderr and not trained.get("reused")

    again = aeviz(*SMALL_RUN, "--reuse", env=env)
    assert again.returncode == 0, again.stderr
    reused = last_json(again.stdout)
    assert reused["reused"] is True and reused["run_id"] == trained["run_id"]
    assert reused["test_mse"] == trained["test_mse"]
    assert "training on" not in again.stderr and "reused run" in again.stderr

    other_seed = aeviz(*SMALL_RUN, "--seed", "1", "--reuse", env=env)
    assert last_json(other_seed.stdout)["run_id"] != trained["run_id"]


def test_lessons_list_prepare_and_check(tmp_path):
    env = {"AEVIZ_RUNS_DIR": str(tmp_path)}
    listed = aeviz("lessons", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    lessons = last_json(listed.stdout)
    assert len(lessons) >= 10
    first = lessons[0]
    assert {"id", "title", "concepts", "goal"} <= set(first)
    assert {"metric", "comparison", "target"} <= set(first["goal"])

    prepared = aeviz("lessons", "prepare", "bottleneck", "--json", env=env)
    assert prepared.returncode == 0, prepared.stderr
    [run] = last_json(prepared.stdout)["runs"]
    assert run["role"] == "lesson" and not run["reused"]

    checked = aeviz("lessons", "check", "bottleneck", "--run", run["run_id"], "--json", env=env)
    assert checked.returncode == 0, checked.stderr
    result = last_json(checked.stdout)
    assert result["passed"] is True and result["metric"] == "error_ratio_to_pca"
    assert result["value"] < result["target"] == 1.0

    again = aeviz("lessons", "prepare", "bottleneck", "--json", env=env)
    assert last_json(again.stdout)["runs"][0] == {**run, "reused": True}


def test_lessons_bad_input_is_one_line(tmp_path):
    env = {"AEVIZ_RUNS_DIR": str(tmp_path)}
    for args, words in ((("lessons", "check", "nope", "--run", "x"), "no lesson 'nope'"),
                        (("lessons", "check", "bottleneck", "--run", "missing-run"), "no run named"),
                        (("lessons", "check", "bottleneck"), "needs --run"),
                        (("lessons", "prepare", "bottleneck", "--dataset", "mnist"), "prepared for digits")):
        done = aeviz(*args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr
