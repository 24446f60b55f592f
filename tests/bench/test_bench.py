"""`python -m aeviz bench --quick --json` runs every row and reports every field (no timing asserts)."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

FIELDS = {"row", "what", "unit", "value", "baseline", "baseline_value", "ratio", "target", "status", "note",
          "details"}


def run_bench(*args, env_extra=None):
    env = {**os.environ, "AEVIZ_DATA_DIR": "", **(env_extra or {})}
    done = subprocess.run([sys.executable, "-m", "aeviz", "bench", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return done


def test_quick_bench_json_has_every_row_and_field():
    from aeviz.bench import discover_rows

    # sweep_executors starts a Ray instance even in --quick (minutes on a busy 2-core machine).
    done = run_bench("--quick", "--json", "--skip", "sweep_executors")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["quick"] is True and report["dataset"] == "digits"
    assert {"cpus", "python", "platform"} <= set(report["machine"])
    rows = report["rows"]
    registered = set(discover_rows())
    assert "sweep_executors" in registered                        # a row file added by another module
    assert {r["row"] for r in rows} == registered - {"sweep_executors"}  # every other row reports
    for r in rows:
        assert FIELDS <= set(r), r
        assert r["status"] in {"pass", "miss", "skipped", "info"}, r
        assert not r["note"].startswith("error:"), r
        if r["status"] in {"pass", "miss"}:
            assert r["value"] is not None and r["target"], r
        if r["status"] == "skipped":
            assert r["note"], r
    # The rows that need no GPU, browser or subprocess really ran on digits.
    measured = {r["row"] for r in rows if r["status"] in {"pass", "miss", "info"}}
    assert {"trainer_overhead", "data_pipeline", "beat_pca", "latent_latency", "cold_start"} <= measured
    beat = [r for r in rows if r["row"] == "beat_pca"]
    assert len(beat) == 6 and all(abs(r["ratio"] - r["value"] / r["baseline_value"]) < 1e-9 for r in beat)
    counts = report["counts"]
    assert sum(counts.values()) == len(rows)
    # The human table precedes the JSON line and has one line per result.
    assert done.stdout.count("\n| ") >= len(rows)
    # Progress goes to stderr, not stdout.
    assert "[trainer_overhead]" in done.stderr and "[trainer_overhead]" not in done.stdout


def test_unknown_row_is_one_line_error():
    done = run_bench("--only", "no_such_row")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: unknown bench row no_such_row")
    assert len(done.stderr.strip().splitlines()) == 1


def test_rows_needing_fashion_mnist_skip_when_it_is_absent(tmp_path, monkeypatch):
    import pytest

    from aeviz.bench import BenchContext, run_rows
    from aeviz.data.datasets import dataset_status

    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path))  # an empty folder
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path))
    if dataset_status("fashion-mnist").available:  # e.g. Debian's package installed system-wide
        pytest.skip("Fashion-MNIST is installed system-wide")
    results = run_rows(BenchContext(quick=False), only=["beat_pca", "memory", "trainer_overhead"])
    assert results and all(r.status == "skipped" and "fashion-mnist" in r.note for r in results)


def test_umap_neighbours_are_exact(digits):
    """The exact neighbours handed to UMAP match a brute-force computation."""
    import numpy as np

    from aeviz.analysis.umap_embed import exact_neighbors

    codes = digits.test_images.reshape(len(digits.test_images), -1).numpy()
    indices, distances = exact_neighbors(codes, 5)
    brute = np.sort(((codes[:, None] - codes[None]) ** 2).sum(-1), axis=1)[:, :5] ** 0.5
    np.testing.assert_allclose(distances, brute, rtol=1e-4, atol=1e-4)
    assert (indices[:, 0] == np.arange(len(codes))).all()


def test_gpu_row_runs_end_to_end_on_any_device():
    """The gpu row's code, run on the CPU (the tests never need a GPU): every result measured and judged."""
    from aeviz.bench import BenchContext
    from aeviz.bench.gpu import SAMPLES_TARGET, measure

    results = measure(BenchContext(quick=True, repeats=1), "cpu")
    assert [r.row for r in results] == ["gpu"] * 4
    plain, conv, pca, overhead = results
    assert "plain" in plain.what and f"{SAMPLES_TARGET:,}" in plain.target and plain.status in {"pass", "miss"}
    assert "conv" in conv.what and conv.value > 0 and conv.baseline_value > 0
    assert pca.status in {"pass", "miss"} and abs(pca.ratio - pca.value / pca.baseline_value) < 1e-12
    assert overhead.value > 0 and overhead.baseline_value > 0
