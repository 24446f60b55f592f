"""Peak memory (RSS) of a training run, against the dataset's own size in memory and against a
process that only loads the dataset: training should not copy the data."""

from __future__ import annotations

import json
import os
import subprocess

from aeviz.bench import BenchContext, Result, Row, fashion_missing, python_executable, skipped, verdict

# Runs in a fresh interpreter; prints the peak RSS (bytes) and the dataset's size.
_CHILD = """
import json, sys
from aeviz.data.datasets import load_dataset
name, seconds = sys.argv[1], float(sys.argv[2])
dataset = load_dataset(name)
if seconds > 0:
    from aeviz.bench.beat_pca import default_config
    from aeviz.training.trainer import Trainer
    for _ in Trainer(default_config(name, min(32, dataset.input_size - 1), seconds), dataset).run():
        pass
else:
    import aeviz.training.trainer  # the same imports, no training
# VmHWM, not getrusage's ru_maxrss: the latter keeps the parent's peak across fork + exec.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss": peak, "dataset_bytes": dataset.nbytes()}))
"""
MB = 1024 * 1024


def peak_rss(dataset_name: str, seconds: float) -> dict:
    done = subprocess.run([python_executable(), "-c", _CHILD, dataset_name, str(seconds)], capture_output=True,
                          text=True, timeout=600, env={**os.environ})
    if done.returncode != 0:
        raise RuntimeError(f"memory subprocess failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(context: BenchContext) -> list[Result]:
    what = "peak RSS of a training run"
    missing = fashion_missing(context)
    if not missing and context.quick:
        missing = "not in --quick (two fresh processes importing torch)"
    if not missing and not os.path.exists("/proc/self/status"):
        missing = "needs Linux's /proc/self/status"
    if missing:
        return [skipped("memory", what, missing), skipped("memory", "memory training adds", missing)]
    name = context.bench_dataset()
    seconds = 10.0
    context.say(f"  training {name} for {seconds:g} s in a fresh process")
    trained = peak_rss(name, seconds)
    loaded = peak_rss(name, 0.0)
    data = trained["dataset_bytes"]
    extra = trained["peak_rss"] - loaded["peak_rss"]
    return [
        Result("memory", f"{what} ({name}, plain, {seconds:g} s)", "MB", trained["peak_rss"] / MB,
               "dataset size in memory", data / MB, trained["peak_rss"] / data, "", "info",
               "includes the Python and torch runtime"),
        Result("memory", f"memory training adds above loading the data ({name})", "MB", extra / MB,
               "dataset size in memory", data / MB, extra / data, "<= 1.0x dataset", verdict(extra <= data),
               f"load only: {loaded['peak_rss'] / MB:,.0f} MB peak"),
    ]


ROW = Row("memory", "Peak memory of a training run", run, order=70)
