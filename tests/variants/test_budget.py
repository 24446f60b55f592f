"""The resource budget: a model too large for the server is refused, with its size and the limit,
before anything is allocated, wherever its configuration comes from. The exhaustion case runs in a
child process whose address space is capped, so a regression fails the test, not the machine."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

from aeviz.variants import budget
from aeviz.variants.budget import OverBudget, check_training, measure
from aeviz.variants import get_variant
from aeviz.runs.archive import CheckpointRefused, export_run, import_run
from aeviz.training.config import TrainConfig
from aeviz.runs.format import CONFIG_FILE
from aeviz.runs.store import RunStore
from aeviz.training.trainer import train
from aeviz.variants import VARIANTS, build_model
from tests.conftest import ROOT

HUGE = {"hidden": "16384,16384,16384,16384"}
CHILD_MEMORY_CAP = 6 * 2**30  # torch needs a few GB of address space just to import


@pytest.mark.parametrize("slug", sorted(VARIANTS))
def test_measured_size_matches_the_real_model(slug):
    cls = VARIANTS[slug]
    k = 100 if slug == "overcomplete" else 16
    real = sum(p.numel() for p in build_model(slug, (1, 8, 8), k, {}).parameters())
    assert measure(get_variant(slug), (1, 8, 8), k, {}).parameters == real


def test_four_huge_layers_are_refused_quickly_with_size_and_limit():
    started = time.perf_counter()
    with pytest.raises(OverBudget, match=r"1,637,483,312 parameters; this server allows at most 20,000,000"):
        TrainConfig(dataset="mnist", k=32, params=HUGE).validate((1, 28, 28))
    with pytest.raises(OverBudget):
        build_model("plain", (1, 28, 28), 32, HUGE)
    assert time.perf_counter() - started < 10


def test_max_params_setting_applies(monkeypatch):
    TrainConfig(k=8).validate((1, 8, 8))
    monkeypatch.setenv("AEVIZ_MAX_PARAMS", "1000")
    with pytest.raises(OverBudget, match="at most 1,000 "):
        TrainConfig(k=8).validate((1, 8, 8))
    monkeypatch.setenv("AEVIZ_MAX_PARAMS", "lots")
    with pytest.raises(Exception, match="AEVIZ_MAX_PARAMS must be a whole number"):
        TrainConfig(k=8).validate((1, 8, 8))


def test_memory_budget_is_shared_by_the_concurrent_jobs(monkeypatch):
    monkeypatch.setattr(budget, "machine_memory_bytes", lambda: 2**30)
    params = {"hidden": "2048,2048"}
    need = measure(get_variant("plain"), (1, 28, 28), 32, params).training_bytes(1024)
    assert 2**28 < need < 2**29  # fits half of 1 GiB for one job...
    check_training(get_variant("plain"), (1, 28, 28), 32, params, 1024)
    monkeypatch.setenv("AEVIZ_MAX_JOBS", "4")  # ...but not a quarter of that for each of four
    with pytest.raises(OverBudget, match=r"needs about 0\.\d GiB; each run may use 0\.1 GiB"):
        check_training(get_variant("plain"), (1, 28, 28), 32, params, 1024)


def test_cli_refuses_the_huge_model_cleanly_in_a_memory_capped_process(tmp_path):
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({CHILD_MEMORY_CAP}, {CHILD_MEMORY_CAP}));"
            f"sys.argv = ['aeviz', 'train', '--dataset', 'mnist', '--set', 'hidden=16384,16384,16384,16384'];"
            f"from aeviz.cli import main; sys.exit(main())")
    env = {**os.environ, "AEVIZ_RUNS_DIR": str(tmp_path)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "error: this model has 1,637,483,312 parameters; this server allows at most 20,000,000 "
        "(AEVIZ_MAX_PARAMS). Use fewer or narrower hidden layers"]
    assert time.perf_counter() - started < 120


def archive_with_config(data: bytes, **changes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == CONFIG_FILE:
                content = json.dumps({**json.loads(content), **changes}).encode()
            target.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("changes, message", [
    ({"params": HUGE}, "1,612,939,331 parameters"),
    ({"resolved_params": {"hidden": [16384] * 4}}, "parameters; this server allows"),
    ({"tags": "x"}, "tags must be an object"),
    ({"k": "three"}, "k must be a whole number"),
])
def test_imported_configs_are_checked_by_schema_and_budget(tmp_path, digits, changes, message):
    store = RunStore(tmp_path / "a")
    run_id = store.save(train(TrainConfig(dataset="digits", k=3, epochs=0.2, params={"hidden": "8"}), digits))
    target = RunStore(tmp_path / "b")
    with pytest.raises(CheckpointRefused, match=message):
        import_run(archive_with_config(export_run(store, run_id), **changes), target, "x.zip")
    assert target.list() == []


def test_an_imported_input_shape_is_ignored_for_the_datasets_own(tmp_path, digits):
    store = RunStore(tmp_path / "a")
    run_id = store.save(train(TrainConfig(dataset="digits", k=3, epochs=0.2, params={"hidden": "8"}), digits))
    target = RunStore(tmp_path / "b")
    new_id = import_run(archive_with_config(export_run(store, run_id), input_shape=[1, 700, 700]), target, "x.zip")
    assert target.load(new_id).model.input_shape == (1, 8, 8)
