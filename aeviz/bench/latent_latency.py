"""Latent view latency: seconds from request to a 2-D view of 10,000 test codes, by PCA and by
UMAP (aeviz.analysis.umap_embed), in a fresh process (first call) and again in the same process (warm).
The baseline is umap-learn with its defaults, timed the same way."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from aeviz.bench import BenchContext, Result, Row, fashion_missing, python_executable, skipped, verdict
from aeviz.analysis.latent import codes_2d, encode_images
from aeviz.analysis.umap_embed import numba_cache_dir
from aeviz.bench.beat_pca import default_config
from aeviz.data.datasets import load_dataset
from aeviz.training.trainer import Trainer

PCA_TARGET = 1.0
UMAP_FIRST_TARGET = 10.0
UMAP_WARM_TARGET = 3.0
N_CODES = 10_000

# Runs in a fresh interpreter: times the first and a second call, prints one JSON line.
_CHILD = """
import json, sys, time, warnings
import numpy as np
codes = np.load(sys.argv[1])
mode = sys.argv[2]
warnings.simplefilter("ignore")
def call():
    if mode == "aeviz":  # the latent-space page's own call
        from aeviz.analysis import umap_embed
        return umap_embed.umap_embedding(codes[:umap_embed.MAX_POINTS], seed=0)
    import umap
    return umap.UMAP(random_state=0).fit_transform(codes)
times = []
for _ in range(2):
    started = time.perf_counter()
    xy = call()
    times.append(time.perf_counter() - started)
print(json.dumps({"first": times[0], "warm": times[1], "shape": list(xy.shape)}))
"""


def trained_codes(dataset, seconds: float):
    """Codes of up to N_CODES test images from a briefly trained `plain` model, and the encode time."""

    trainer = Trainer(default_config(dataset.name, min(32, dataset.input_size - 1), seconds), dataset)
    for _ in trainer.run():
        pass
    model = trainer.model.eval()
    images = dataset.test_images[:N_CODES]
    started = time.perf_counter()
    codes = encode_images(model, images)
    return codes, time.perf_counter() - started, model, images


def pca_view_seconds(model, images) -> float:
    """Request to PCA view: the pages' own calls, encode the images and draw the codes in 2-D (PCA)."""

    started = time.perf_counter()
    codes_2d(encode_images(model, images))
    return time.perf_counter() - started


def umap_in_fresh_process(codes_path: Path, mode: str) -> dict:
    done = subprocess.run([python_executable(), "-c", _CHILD, str(codes_path), mode], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"UMAP subprocess failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cache_is_filled() -> bool:
    folder = numba_cache_dir()
    return folder.is_dir() and any(folder.rglob("*.nbi"))


def run(context: BenchContext) -> list[Result]:
    missing = fashion_missing(context)
    if missing:
        return [skipped("latent_latency", "PCA view of test codes", missing, f"< {PCA_TARGET:g} s"),
                skipped("latent_latency", "UMAP view, fresh process", missing, f"<= {UMAP_FIRST_TARGET:g} s"),
                skipped("latent_latency", "UMAP view, warm", missing, f"<= {UMAP_WARM_TARGET:g} s")]
    import numpy as np


    dataset = load_dataset(context.bench_dataset())
    codes, _, model, images = trained_codes(dataset, 0.3 if context.quick else 2.0)
    n = len(codes)
    repeats = 3 if context.quick else 5
    seconds = sorted(pca_view_seconds(model, images) for _ in range(repeats))
    pca_first, pca_median = seconds[0], seconds[len(seconds) // 2]
    results = [Result("latent_latency", f"PCA view of {n:,} test codes (encode + PCA), {dataset.name}", "s",
                      pca_median, "target", PCA_TARGET, pca_median / PCA_TARGET, f"< {PCA_TARGET:g} s",
                      verdict(pca_median < PCA_TARGET), f"median of {repeats}; fastest {pca_first:.3f} s")]
    if context.quick:
        reason = "not in --quick (a fresh UMAP process takes 10-60 s)"
        return results + [skipped("latent_latency", f"UMAP view of {N_CODES:,} codes, fresh process", reason,
                                  f"<= {UMAP_FIRST_TARGET:g} s"),
                          skipped("latent_latency", f"UMAP view of {N_CODES:,} codes, warm", reason,
                                  f"<= {UMAP_WARM_TARGET:g} s")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "codes.npy"
        np.save(path, codes.astype(np.float32))
        was_filled = cache_is_filled()
        context.say("  UMAP: a first fresh process fills the numba cache if it is not yet complete")
        primed = umap_in_fresh_process(path, "aeviz")
        results.append(Result("latent_latency", f"UMAP, fresh process with the disk cache as found "
                              f"({'some' if was_filled else 'empty'})", "s", primed["first"], "", None, None,
                              "", "info", "compiling happens once per machine"))
        context.say("  UMAP: the latent page's umap_embed.umap_embedding in a fresh process")
        ours = umap_in_fresh_process(path, "aeviz")
        context.say("  UMAP: umap-learn defaults in a fresh process (baseline)")
        base = umap_in_fresh_process(path, "umap-learn")
    results.append(Result("latent_latency", f"UMAP view of {n:,} codes, fresh process (first call)", "s",
                          ours["first"], "umap-learn defaults, fresh process", base["first"],
                          ours["first"] / base["first"], f"<= {UMAP_FIRST_TARGET:g} s",
                          verdict(ours["first"] <= UMAP_FIRST_TARGET)))
    results.append(Result("latent_latency", f"UMAP view of {n:,} codes, warm (second call)", "s", ours["warm"],
                          "umap-learn defaults, warm", base["warm"], ours["warm"] / base["warm"],
                          f"<= {UMAP_WARM_TARGET:g} s", verdict(ours["warm"] <= UMAP_WARM_TARGET)))
    return results


ROW = Row("latent_latency", "Latent view latency (PCA, UMAP)", run, order=40)
